"""The LLM judge with the embedded model: too small to judge well, but never a crash or a
half-filled result. Every reply is scored with the full shape or unscored with a reason."""

from __future__ import annotations

import pytest

from simulator.content.schema import Rubric
from simulator.models import load_model
from simulator.scoring.judge import LLMJudgeScorer

pytestmark = pytest.mark.real_model


def test_embedded_judge_scores_or_gives_a_reason(rubric: Rubric) -> None:
    # A short answer budget keeps this to seconds; cut-off answers must come back unscored.
    scorer = LLMJudgeScorer(rubric, load_model("embedded"), max_new_tokens=80)
    scores = scorer.score_batch(
        ["That sounds exhausting. What's been the hardest part?", "Just get on with it."],
        ["I've had two extra patients all week.", "I'm behind on everything."],
    )
    assert len(scores) == 2
    for score in scores:
        assert set(score.dimensions) == set(rubric.dimension_ids)
        if score.scored:
            for dim in score.dimensions.values():
                assert dim.level is not None and 0 <= dim.level <= 3
                assert dim.probability is not None
                assert bool(dim.tip) == (dim.level < 3)  # nothing to try once it is strong
                assert all(span in score.text for span in dim.evidence)
        else:
            assert score.unscored_reason and score.unscored_reason.startswith("the judge")
            assert all(d.level is None for d in score.dimensions.values())
