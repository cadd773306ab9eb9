"""Scorer throughput: replies/s in batch mode next to embedding alone, on the same texts.

    python bench/scorer.py [LABELLED.csv] [--repeat 3]

Prints one JSON object: replies_per_s (full scoring), embed_only_per_s (MiniLM encode of the same
texts) and overhead_ratio = embed_only_per_s / replies_per_s (1.0 means scoring costs no more
than embedding); beside them scorer_embed_per_s, the scorer's own embedding pass alone (the
shipped and the tuned vectors, sharing the bottom layers). Medians over --repeat runs after one
warm-up. Defaults to the shipped labelled set; any CSV with a ``text`` column (and optional
``context``) works.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", help="CSV with a text column")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch

    from simulator.scoring.embeddings import get_embedder
    from simulator.scoring.model import labelled_path
    from simulator.services import Services

    path = Path(args.csv) if args.csv else labelled_path()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows if r.get("text")]
    contexts = [r.get("context") or "" for r in rows if r.get("text")]

    started = time.perf_counter()
    scorer = Services().scorer()
    embedder = get_embedder()
    embedder.encode(texts[:32])
    startup = time.perf_counter() - started

    scorer.embedder.encode_for_scoring(texts[:32])
    score_times, embed_times, twin_times = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        embedder.encode(texts)
        embed_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        scorer.embedder.encode_for_scoring(texts)
        twin_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        scorer.score_batch(texts, contexts)
        score_times.append(time.perf_counter() - t0)
    replies = len(texts) / statistics.median(score_times)
    embed_only = len(texts) / statistics.median(embed_times)
    print(
        json.dumps(
            {
                "file": str(path),
                "texts": len(texts),
                "torch_threads": torch.get_num_threads(),
                "startup_s": round(startup, 2),
                "replies_per_s": round(replies, 1),
                "embed_only_per_s": round(embed_only, 1),
                "scorer_embed_per_s": round(len(texts) / statistics.median(twin_times), 1),
                "overhead_ratio": round(embed_only / replies, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
