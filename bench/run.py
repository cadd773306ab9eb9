"""Persona speed, memory and concurrency, measured side by side in one run.

    python bench/run.py [--json] [--runs 5] [--skip-scorer] [--skip-concurrency]

Prints one JSON object on stdout (progress goes to stderr). Every time is the median of
``--runs`` runs after a warm-up, all in this one process, so ratios compare like with like:

- ``persona.baseline_s``: plain ``model.generate`` (float32, default settings, no cache reuse)
  on the turn-4 persona prompt of a scripted workload-conflict session, ``n`` candidates of 40
  new tokens (stops disabled so both sides make exactly the same number of tokens).
- ``persona.ours_s``: the project's own generation path (``simulator.models.decoding``) on the
  same prompt and token count, with the prefix cache holding what the app would hold at that
  point (the turn-3 prompt), on the app's weights (``persona.dtype``: bfloat16 on a CPU with
  native bfloat16, else float32); ``ours_cold_s`` is the same with an empty prefix cache, and
  ``ours_float32_s`` the same loop on the baseline's float32 weights (what the dtype alone
  gives is ``ours_float32_s / ours_s``).
- ``persona.reply_s``: whole persona replies through ``Session.respond`` as the app runs them
  (scoring, guards, re-ranking, stop at the end of the line), median over a scripted session.
- ``concurrency``: p50/p95 of reply times with 1, 2 and 4 sessions playing at once (threads).
- ``scorer``: ``bench/scorer.py`` run as it is, its JSON embedded.
- ``cold_start_s``: a new process until its first persona reply (model cache warm).
- ``peak_rss_mb``: the peak resident memory of that app-like process (scorer, embedder,
  persona model, a whole scripted session played after the first reply), which is what a
  trainee's laptop must hold. ``bench_peak_rss_mb`` is this benchmark process's own peak: it
  holds a second, float32 copy of the model for the baseline and runs the concurrency test,
  so it is larger than the app's.
- ``reference.llama_cpp_tokens_per_s``: llama.cpp on the same GGUF, when installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.persona import (
    PersonaFixture,
    build_fixture,
    llama_cpp_reference,
    log,
    median,
    percentile,
    play_script,
    time_baseline,
    time_ours,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "scripts" / "workload-conflict" / "caring.txt"
SCRIPT_LINES = [
    line.strip() for line in SCRIPT.read_text(encoding="utf-8").splitlines() if line.strip()
]
TOKENS = 40


def concurrency(fixture: PersonaFixture, sessions: int, store: Path) -> dict[str, float]:
    """p50/p95 of reply times with ``sessions`` sessions playing the script at once."""
    times: list[float] = []
    lock = threading.Lock()

    def play(seed: int) -> None:
        mine = play_script(fixture.lines, seed=seed, store=store)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=play, args=(100 + i,)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"p50_s": round(percentile(times, 50), 3), "p95_s": round(percentile(times, 95), 3)}


def cold_start(store: Path) -> tuple[float, int]:
    """(seconds for a new process to load everything and make its first reply, its peak MB).

    After the first reply the process plays the rest of the script (untimed), so the peak is
    that of a whole session.
    """
    code = (
        "from simulator.services import Services\n"
        f"s = Services({str(store)!r}).start_session('workload-conflict', seed=1)\n"
        "s.respond('Thanks for stopping, Sam. How are you doing today?')\n"
        "print('first reply', flush=True)\n"
        f"for line in {SCRIPT_LINES!r}:\n"
        "    if not s.finished:\n"
        "        s.respond(line)\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec, so
        # it would report the bench process's own peak.
        "peak = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
        "print(int(peak[0]) // 1024, flush=True)\n"
    )
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        assert child.stdout is not None
        first = child.stdout.readline()
        seconds = time.perf_counter() - started
        rest = child.stdout.read()
    if child.returncode != 0 or first.strip() != "first reply":
        raise RuntimeError(f"the cold-start process failed (exit {child.returncode})")
    return seconds, int(rest.strip().splitlines()[-1])


def scorer_bench(runs: int) -> dict[str, Any]:
    """Run bench/scorer.py (another helper's benchmark) and return its JSON."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scorer.py"), "--repeat", str(runs)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Run every measurement and print the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON only (the default)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (>= 5)")
    parser.add_argument("--skip-scorer", action="store_true")
    parser.add_argument("--skip-concurrency", action="store_true")
    args = parser.parse_args()
    runs = max(5, args.runs)

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.sqlite3"
        log("loading the model and playing turns 1-3 to get the turn-4 prompt")
        fixture = build_fixture(SCRIPT, store)
        n = fixture.request.n
        log(f"prompt: {fixture.prompt_tokens} tokens, n={n}; timing baseline and ours")
        baseline = time_baseline(fixture, runs, n=n, tokens=TOKENS)
        ours = time_ours(fixture, runs, n=n, tokens=TOKENS, warm_prefix=True)
        ours_cold = time_ours(fixture, runs, n=n, tokens=TOKENS, warm_prefix=False)
        ours_float32 = time_ours(fixture, runs, n=n, tokens=TOKENS, warm_prefix=True, float32=True)
        single_base = time_baseline(fixture, runs, n=1, tokens=TOKENS)
        single_ours = time_ours(fixture, runs, n=1, tokens=TOKENS, warm_prefix=True)
        log("whole replies through the session")
        play_script(fixture.lines, seed=2, store=store)  # warm-up
        replies = play_script(fixture.lines, seed=3, store=store)
        log(f"replies: {[round(r, 2) for r in replies]}")
        log(
            f"baseline {baseline:.2f} s, ours {ours:.2f} s (cold {ours_cold:.2f} s); one stream: "
            f"baseline {single_base:.2f} s, ours {single_ours:.2f} s"
        )
        result: dict[str, Any] = {
            "machine": {"torch_threads": torch.get_num_threads(), "cpus": os.cpu_count()},
            "persona": {
                "prompt_tokens": fixture.prompt_tokens,
                "candidates": n,
                "new_tokens": TOKENS,
                "baseline_s": round(baseline, 3),
                "ours_s": round(ours, 3),
                "ours_cold_s": round(ours_cold, 3),
                "ours_float32_s": round(ours_float32, 3),
                "dtype": str(next(fixture.model.model.parameters()).dtype).replace("torch.", ""),
                "speedup": round(baseline / ours, 2),
                "tokens_per_s": round(n * TOKENS / ours, 1),
                "baseline_tokens_per_s": round(n * TOKENS / baseline, 1),
                "single_stream_tokens_per_s": round(TOKENS / single_ours, 1),
                "single_stream_baseline_tokens_per_s": round(TOKENS / single_base, 1),
                "reply_s": round(median(replies), 3),
                "reply_p95_s": round(percentile(replies, 95), 3),
                "reply_turns": len(replies),
            },
        }
        if not args.skip_concurrency:
            log("concurrency: 1, 2, 4 sessions")
            result["concurrency"] = {str(k): concurrency(fixture, k, store) for k in (1, 2, 4)}
            one = result["concurrency"]["1"]["p50_s"]
            result["concurrency"]["p95_4_over_p50_1"] = round(
                result["concurrency"]["4"]["p95_s"] / one, 2
            )
        log(f"so far: {json.dumps(result)}")
        log("cold start")
        seconds, app_peak = cold_start(store)
        result["cold_start_s"] = round(seconds, 2)
        result["peak_rss_mb"] = app_peak
        if not args.skip_scorer:
            log("scorer (bench/scorer.py)")
            result["scorer"] = scorer_bench(runs)
        reference = llama_cpp_reference(fixture, runs, tokens=TOKENS)
        if reference is not None:
            result["reference"] = {
                "llama_cpp_tokens_per_s": round(reference, 1),
                "ours_single_stream_over_llama_cpp": round((TOKENS / single_ours) / reference, 3),
            }
        result["bench_peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
