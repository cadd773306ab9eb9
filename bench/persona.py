"""Helpers for bench/run.py: the turn-4 persona prompt, and timing each generation path."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.models.base import ChatModel, GenerationRequest


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    """The median (0.0 for no values)."""
    return statistics.median(values) if values else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by linear interpolation (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(fn: Callable[[], object], runs: int, before: Callable[[], object] | None = None) -> float:
    """Median seconds of ``fn`` over ``runs`` runs after one warm-up (``before`` is untimed)."""
    times: list[float] = []
    for index in range(runs + 1):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        if index:
            times.append(time.perf_counter() - started)
    return median(times)


class Recorder:
    """Wraps a ChatModel and keeps every request it is sent."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.requests: list[GenerationRequest] = []

    @property
    def name(self) -> str:
        return self.model.name

    def generate(self, request: GenerationRequest) -> list[str]:
        self.requests.append(request)
        return self.model.generate(request)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return self.model.stream(request)


@dataclass
class PersonaFixture:
    """The embedded model and the persona requests of turns 3 and 4 of a scripted session.

    ``model`` is the app's model (its default weights dtype); ``baseline_model`` the same model
    loaded in float32 for the plain ``generate`` baseline (the same object when the app's model
    is float32 already).
    """

    model: Any
    request: GenerationRequest
    previous: GenerationRequest
    lines: list[str]
    baseline_model: Any = None

    def __post_init__(self) -> None:
        if self.baseline_model is None:
            self.baseline_model = self.model

    @property
    def prompt_tokens(self) -> int:
        return int(self.model._prompt_ids(self.request)["input_ids"].shape[1])

    def ids(self, request: GenerationRequest) -> list[int]:
        return [int(i) for i in self.model._prompt_ids(request)["input_ids"][0].tolist()]


def build_fixture(script: Path, store: Path) -> PersonaFixture:
    """Play turns 1-4 of ``script`` (seed 1) and keep the persona requests of turns 3 and 4."""
    from simulator.services import Services

    lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    session = Services(store).start_session("workload-conflict", seed=1, trainee="bench")
    recorder = Recorder(session.engine.model)
    session.engine.voice.model = recorder
    for line in lines[:4]:
        session.respond(line)
    session.engine.voice.model = recorder.model
    model: Any = recorder.model
    baseline = model
    if str(next(model.model.parameters()).dtype) != "torch.float32":
        from simulator.models.hf import HFModel

        baseline = HFModel(dtype="float32")
    return PersonaFixture(model, recorder.requests[3], recorder.requests[2], lines, baseline)


def time_baseline(fixture: PersonaFixture, runs: int, *, n: int, tokens: int) -> float:
    """Plain ``model.generate``: float32, default settings, no cache reuse, exactly ``tokens``."""
    import torch

    model, request = fixture.baseline_model, fixture.request
    inputs = model._prompt_ids(request)

    def run() -> None:
        with torch.inference_mode():
            torch.manual_seed(0)
            model.model.generate(
                **inputs,
                num_return_sequences=n,
                max_new_tokens=tokens,
                min_new_tokens=tokens,
                do_sample=True,
                temperature=request.temperature,
                top_p=request.top_p,
                pad_token_id=model.tokenizer.pad_token_id,
            )

    return timed(run, runs)


def time_ours(
    fixture: PersonaFixture,
    runs: int,
    *,
    n: int,
    tokens: int,
    warm_prefix: bool,
    float32: bool = False,
) -> float:
    """The project's decoding path on the same prompt, exactly ``tokens`` (stops disabled).

    With ``warm_prefix`` the prefix cache holds the turn-3 prompt, as it would in the app;
    without it the cache starts empty each run. ``float32`` runs it on the baseline's float32
    weights instead of the app's.
    """
    import torch

    from simulator.models.decoding import decode, prefill

    model = fixture.baseline_model if float32 else fixture.model
    ids = fixture.ids(fixture.request)
    previous = fixture.ids(fixture.previous)
    request = dataclasses.replace(fixture.request, n=n, max_new_tokens=tokens)

    def prime() -> None:
        model.prefix_cache.clear()
        if warm_prefix:
            with torch.inference_mode():
                prefill(model.model, previous, model.prefix_cache)

    def run() -> None:
        with torch.inference_mode():
            for _ in decode(
                model.model,
                ids,
                n=request.n,
                max_new_tokens=request.max_new_tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                seed=0,
                stop_ids=[],
                prefix_cache=model.prefix_cache,
            ):
                pass

    result = timed(run, runs, before=prime)
    model.prefix_cache.clear()
    return result


def play_script(lines: list[str], *, seed: int, store: Path) -> list[float]:
    """Seconds per ``Session.respond`` over a whole scripted session."""
    from simulator.services import Services

    session = Services(store).start_session("workload-conflict", seed=seed, trainee="bench")
    times: list[float] = []
    for line in lines:
        if session.finished:
            break
        started = time.perf_counter()
        session.respond(line)
        times.append(time.perf_counter() - started)
    return times


def llama_cpp_reference(fixture: PersonaFixture, runs: int, *, tokens: int) -> float | None:
    """llama.cpp tokens/s (one stream) on the embedded GGUF and the same prompt, if installed.

    Runs in a child process: a llama.cpp build for the wrong CPU dies with a signal, and that
    must not take the whole benchmark with it.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    ids = json.dumps(fixture.ids(fixture.request))
    out = subprocess.run(
        [sys.executable, "-m", "bench.persona", ids, str(tokens), str(runs)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        log(f"llama.cpp reference failed (exit {out.returncode}): {out.stderr.strip()[-300:]}")
        return None
    return float(out.stdout.strip().splitlines()[-1])


def _llama_cpp_tokens_per_s(ids: list[int], tokens: int, runs: int) -> float:
    import llama_cpp

    from simulator.models.embedded import find_embedded_gguf

    llm = llama_cpp.Llama(model_path=str(find_embedded_gguf()), n_ctx=2048, verbose=False)
    counts: list[int] = []

    def run() -> None:
        # llama.cpp keeps the prompt's KV cache between calls, so after the warm-up this is
        # generation speed, the number usually quoted for it.
        out = llm.create_completion(
            ids, max_tokens=tokens, temperature=0.7, top_p=0.9, logit_bias={llm.token_eos(): -100.0}
        )
        counts.append(int(out["usage"]["completion_tokens"]))  # type: ignore[index]

    seconds = timed(run, runs)
    return median([float(c) for c in counts]) / seconds


if __name__ == "__main__":
    print(_llama_cpp_tokens_per_s(json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
