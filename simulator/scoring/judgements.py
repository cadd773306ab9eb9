"""The judgement set: lines a trainee might type, each with what a fair rating must respect.

``data/judgements.csv`` holds lines the team wrote (never taken from a public data set): the
colleague's line before each (``context``), the colleague's earlier lines where a paraphrase is
checked (``history``, ``" >> "``-separated), and space-separated constraints a fair rating meets:

- ``all=0``: every behaviour "not observed"; ``any>=1``: at least one behaviour shown;
- ``<dimension><op><level>`` with ``op`` one of ``=``, ``<=``, ``>=`` (``helping<=1``);
- ``pitfall:<id>`` / ``nopitfall:<id>`` / ``nopitfall``: a pitfall reported, not reported, none;
- ``noevidence``: no words of the reply quoted as evidence;
- ``tipnot:<dimension>:<word>``: the dimension's tip does not ask for ``<word>`` (a tip never
  asks for what the reply already did).

About 30% of rows (``split`` = ``held-out``, drawn with a seeded random draw before any scores
were looked at) are never used to tune cues or thresholds: report both parts.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.scoring.types import ReplyScore

if TYPE_CHECKING:
    from simulator.scoring.scorer import RubricScorer

JUDGEMENTS_FILE = "judgements.csv"
HELD_OUT = "held-out"
TUNING = "tuning"
TARGET = 0.95
"""Share of lines whose rating must meet every constraint (the issue's bar)."""

_COMPARISON = re.compile(r"^(?P<dim>[a-z][a-z0-9-]*|any)(?P<op><=|>=|=)(?P<level>[0-3])$")


@dataclass(frozen=True)
class Judgement:
    """One line of the judgement set."""

    id: str
    split: str
    kind: str
    setting: str
    history: tuple[str, ...]
    context: str
    reply: str
    constraints: tuple[str, ...]

    @property
    def conversation(self) -> str:
        """What the colleague has said so far, oldest first (what the scorer is given)."""
        return "\n".join([*self.history, self.context]).strip()


@dataclass
class Outcome:
    """A judgement, the rating it got and the constraints that rating broke."""

    judgement: Judgement
    score: ReplyScore
    broken: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.broken


def judgements_path() -> Path:
    """Path of the shipped judgement set."""
    return Path(str(resources.files("simulator.scoring") / "data" / JUDGEMENTS_FILE))


def read_judgements(path: Path | None = None, split: str | None = None) -> list[Judgement]:
    """Read the judgement set, optionally one split (``tuning`` or ``held-out``)."""
    path = path or judgements_path()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = [
        Judgement(
            id=row["id"],
            split=row["split"],
            kind=row["kind"],
            setting=row["setting"],
            history=tuple(p.strip() for p in row["history"].split(">>") if p.strip()),
            context=row["context"],
            reply=row["reply"],
            constraints=tuple(row["constraints"].split()),
        )
        for row in rows
    ]
    return [j for j in out if split is None or j.split == split]


def _compare(value: int, op: str, level: int) -> bool:
    return value == level if op == "=" else value <= level if op == "<=" else value >= level


def broken_constraints(score: ReplyScore, constraints: tuple[str, ...]) -> list[str]:
    """The constraints a rating breaks, each with what the rating was.

    Raises:
        ValueError: A constraint is not one of the forms the module docstring lists.
    """
    levels = {d: score.level(d) for d in score.dimensions}
    broken: list[str] = []
    for constraint in constraints:
        ok: bool
        if constraint == "all=0":
            ok = not any(levels.values())
            seen = ", ".join(f"{d} {lv}" for d, lv in levels.items() if lv)
        elif constraint == "noevidence":
            quoted = [s for d in score.dimensions.values() for s in d.evidence]
            ok, seen = not quoted, "; ".join(repr(q) for q in quoted)
        elif constraint == "nopitfall":
            ok, seen = not score.pitfalls, ", ".join(score.pitfalls)
        elif constraint.startswith(("pitfall:", "nopitfall:")):
            wanted, pitfall = constraint.split(":", 1)
            ok = (pitfall in score.pitfalls) == (wanted == "pitfall")
            seen = ", ".join(score.pitfalls) or "none"
        elif constraint.startswith("tipnot:"):
            _, dim, word = constraint.split(":", 2)
            tip = score.dimensions[dim].tip if dim in score.dimensions else ""
            ok, seen = word.lower() not in tip.lower(), repr(tip)
        elif match := _COMPARISON.match(constraint):
            op, level = match["op"], int(match["level"])
            if match["dim"] == "any":
                ok = any(_compare(v, op, level) for v in levels.values())
            else:
                if match["dim"] not in levels:
                    raise ValueError(f"constraint {constraint!r} names an unknown dimension")
                ok = _compare(levels[match["dim"]], op, level)
            seen = ", ".join(f"{d} {lv}" for d, lv in levels.items())
        else:
            raise ValueError(f"unknown constraint {constraint!r}")
        if not ok:
            broken.append(f"{constraint} (got {seen or 'nothing'})")
    return broken


def run(scorer: RubricScorer, judgements: list[Judgement]) -> list[Outcome]:
    """Rate every line (in one batch) and check each rating against its constraints: the
    regressions read the colleague's last line, a paraphrase is checked against all of them."""
    scores = scorer.score_batch(
        [j.reply for j in judgements],
        [j.context for j in judgements],
        [j.conversation for j in judgements],
    )
    return [
        Outcome(j, s, broken_constraints(s, j.constraints))
        for j, s in zip(judgements, scores, strict=True)
    ]


def pass_rate(outcomes: list[Outcome]) -> float:
    """Share of lines rated within every constraint (1.0 for no lines)."""
    return sum(o.passed for o in outcomes) / len(outcomes) if outcomes else 1.0
