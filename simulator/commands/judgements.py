"""``rapport judgements``: how fairly the scorer rates the lines trainees type."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``judgements`` sub-command."""
    parser = subparsers.add_parser(
        "judgements",
        help="rate the judgement set and report how many lines are rated fairly",
        description=(
            "Rate every line of the shipped judgement set (lines trainees type, each with the "
            "constraints a fair rating respects) and report the pass rate per split and every "
            "line rated outside its constraints."
        ),
    )
    parser.add_argument(
        "--split",
        choices=["tuning", "held-out"],
        help="only this part (held-out lines are never used to tune the scorer)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=judgements_command)


def judgements_command(args: argparse.Namespace) -> int:
    """Rate the judgement set; exit 0 when the pass rate reaches the target, else 1."""
    from simulator.scoring import judgements
    from simulator.services import Services

    lines = judgements.read_judgements(split=args.split)
    outcomes = judgements.run(Services().scorer(), lines)
    splits = sorted({o.judgement.split for o in outcomes})
    rates = {
        s: judgements.pass_rate([o for o in outcomes if o.judgement.split == s]) for s in splits
    }
    total = judgements.pass_rate(outcomes)
    misses = [o for o in outcomes if not o.passed]
    if args.json:
        summary = {
            "lines": len(outcomes),
            "pass_rate": round(total, 4),
            "target": judgements.TARGET,
            "by_split": {s: round(r, 4) for s, r in rates.items()},
            "misses": [
                {
                    "id": o.judgement.id,
                    "split": o.judgement.split,
                    "kind": o.judgement.kind,
                    "reply": o.judgement.reply,
                    "broken": o.broken,
                }
                for o in misses
            ],
        }
        print(json.dumps(summary, indent=2))
    else:
        print(f"{len(outcomes)} lines: {total:.1%} rated within their constraints")
        for s, r in rates.items():
            count = sum(o.judgement.split == s for o in outcomes)
            print(f"  {s}: {r:.1%} of {count}")
        for o in misses:
            j = o.judgement
            print(f"- {j.id} [{j.split}, {j.kind}] {j.reply!r}: {'; '.join(o.broken)}")
    return 0 if total >= judgements.TARGET else 1
