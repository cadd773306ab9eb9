"""Tips match the level given: basics below competent, the step to strong at competent, nothing
at strong; a pitfall's advice wins wherever it lowered the dimension."""

from __future__ import annotations

from simulator.content.schema import Rubric
from simulator.scoring import feedback
from simulator.scoring.types import DimensionScore, ReplyScore
from simulator.ui.formatting import reply_feedback


def test_tip_follows_the_level(rubric: Rubric) -> None:
    empathising = rubric.dimension("empathising")
    assert feedback.tip(empathising, 0, []) == empathising.tip
    assert feedback.tip(empathising, 1, []) == empathising.tip
    assert feedback.tip(empathising, 2, []) == (
        "To make it strong: names the specific feeling in context, validates it and shows you "
        "care about them."
    )
    assert feedback.tip(empathising, 3, []) == ""


def test_a_pitfall_that_lowered_the_dimension_gives_its_advice(rubric: Rubric) -> None:
    empathising = rubric.dimension("empathising")
    dismissing = next(p for p in rubric.pitfalls if p.id == "dismissing")
    for level in (0, 1, 2):
        assert "Acknowledge the feeling" in feedback.tip(empathising, level, [dismissing])


def test_without_a_level_3_descriptor_a_competent_reply_gets_the_tip(rubric: Rubric) -> None:
    attending = rubric.dimension("attending")
    # Loaded rubrics always describe level 3; a hand-built one may not.
    bare = attending.model_copy(update={"levels": {1: "Asks.", 2: "Asks openly."}})
    assert feedback.tip(bare, 2, []) == attending.tip
    assert feedback.tip(bare, 3, []) == ""


def test_the_coaching_panel_words_each_kind_of_tip(rubric: Rubric) -> None:
    dims = {
        d.id: DimensionScore(level=level, probability=0.9, tip=feedback.tip(d, level, []))
        for d, level in zip(rubric.dimensions, (0, 1, 2, 3), strict=True)
    }
    score = ReplyScore(
        text="a reply", rubric_id=rubric.id, rubric_version=rubric.version, dimensions=dims
    )
    panel = reply_feedback(score, rubric, 1)
    tips = [line for line in panel.splitlines() if line.startswith("- ") and "showed" not in line]
    assert tips[0].startswith("- Try: Pause the task")  # attending, level 0
    assert tips[1].startswith("- Try: Say back")  # understanding, level 1
    assert tips[2].startswith("- To make it strong: names the specific feeling")  # level 2
    assert len(tips) == 3  # helping is strong: no tip
    assert "Try: To make it strong" not in panel
