"""The shipped rubric file is complete: four behaviours, exemplars of mixed levels, pitfalls."""

from __future__ import annotations

from simulator.scoring.scorer import load_rubric


def test_shipped_rubric_has_the_four_behaviours_and_pitfalls() -> None:
    rubric = load_rubric("compassionate-leadership")
    assert rubric.dimension_ids == ["attending", "understanding", "empathising", "helping"]
    for dim in rubric.dimensions:
        assert 6 <= len(dim.exemplars) <= 10
        assert {e.level for e in dim.exemplars} >= {0, 1, 2, 3}
    assert {p.id for p in rubric.pitfalls} == {
        "dismissing",
        "premature-fixing",
        "blaming",
        "making-it-about-yourself",
    }
    assert all(p.examples for p in rubric.pitfalls)
