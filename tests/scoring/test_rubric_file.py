"""The shipped rubric file is complete: four behaviours, exemplars of mixed levels, pitfalls."""

from __future__ import annotations

from simulator.services import Services


def test_shipped_rubric_has_the_four_behaviours_and_pitfalls() -> None:
    rubric = Services().rubric("compassionate-leadership")
    assert rubric.dimension_ids == ["attending", "understanding", "empathising", "helping"]
    for dim in rubric.dimensions:
        assert 6 <= len(dim.exemplars) <= 10
        assert {e.level for e in dim.exemplars} >= {0, 1, 2, 3}
    assert {p.id for p in rubric.pitfalls} == {
        "dismissing",
        "premature-fixing",
        "blaming",
        "making-it-about-yourself",
        "commanding",
        "stepping-out",
    }
    assert all(p.examples for p in rubric.pitfalls)
    # What the code reads per dimension and pitfall is in the file, not in the code.
    assert {d.role for d in rubric.dimensions} == {
        "attending",
        "understanding",
        "empathising",
        "helping",
    }
    assert all(p.tip and p.trust_penalty < 0 for p in rubric.pitfalls)
    gates = {p.id for p in rubric.pitfalls if p.gate}
    assert gates == {"dismissing", "blaming", "commanding", "stepping-out"}
