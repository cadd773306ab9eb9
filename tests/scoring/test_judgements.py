"""The judgement set: lines trainees type are rated within what a fair rating respects."""

from __future__ import annotations

import pytest

from simulator.scoring import judgements as jd
from simulator.scoring.types import DimensionScore, ReplyScore
from simulator.services import Services


def _score(levels: dict[str, int], pitfalls: list[str] | None = None) -> ReplyScore:
    dims = {
        d: DimensionScore(level=lv, evidence=["quoted"] if lv else [], tip=f"tip for {d}")
        for d, lv in levels.items()
    }
    return ReplyScore(
        text="x", rubric_id="r", rubric_version=1, dimensions=dims, pitfalls=pitfalls or []
    )


def test_the_set_is_large_varied_and_split() -> None:
    lines = jd.read_judgements()
    assert len(lines) >= 320
    assert len({j.setting for j in lines}) >= 10
    held = [j for j in lines if j.split == jd.HELD_OUT]
    assert 0.25 <= len(held) / len(lines) <= 0.35
    assert len({j.id for j in lines}) == len(lines)
    # Every constraint parses (a typo in the file would otherwise pass silently).
    four = _score({"attending": 0, "understanding": 0, "empathising": 0, "helping": 0})
    for j in lines:
        jd.broken_constraints(four, j.constraints)


def test_constraints_say_what_broke() -> None:
    score = _score({"attending": 1, "helping": 0}, ["blaming"])
    assert jd.broken_constraints(score, ("all=0",)) == ["all=0 (got attending 1)"]
    assert jd.broken_constraints(score, ("helping<=1", "attending>=1", "pitfall:blaming")) == []
    assert jd.broken_constraints(score, ("nopitfall",)) == ["nopitfall (got blaming)"]
    assert jd.broken_constraints(score, ("noevidence",)) == ["noevidence (got 'quoted')"]
    assert jd.broken_constraints(score, ("tipnot:attending:tip",))
    assert not jd.broken_constraints(score, ("any>=1",))
    with pytest.raises(ValueError, match="unknown constraint"):
        jd.broken_constraints(score, ("helpful",))
    with pytest.raises(ValueError, match="unknown dimension"):
        jd.broken_constraints(score, ("kindness>=1",))


@pytest.fixture(scope="module")
def outcomes() -> list[jd.Outcome]:
    return jd.run(Services().scorer(), jd.read_judgements())


@pytest.mark.slow
@pytest.mark.parametrize("split", [jd.TUNING, jd.HELD_OUT])
def test_lines_are_rated_fairly(outcomes: list[jd.Outcome], split: str) -> None:
    part = [o for o in outcomes if o.judgement.split == split]
    misses = [f"{o.judgement.id} {o.judgement.reply!r}: {o.broken}" for o in part if not o.passed]
    assert jd.pass_rate(part) >= jd.TARGET, "\n".join(misses)
