"""LLM-judge mode with a scripted model: strict parsing, unscored on any doubt, same shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator.content.schema import Rubric
from simulator.models.fake import ScriptedModel
from simulator.scoring.judge import (
    LEVEL_PROBABILITY,
    JudgeError,
    LLMJudgeScorer,
    parse_answer,
    verbatim_span,
)
from simulator.scoring.judge_prompt import system_prompt

DIMS = ("attending", "understanding", "empathising", "helping")
REPLY = "That sounds exhausting. What's been the hardest part for you?"


def answer(dims: tuple[str, ...] = DIMS, pitfalls: list[str] | None = None, **over: Any) -> str:
    """A judge's one-line JSON answer: every dimension at level 0 unless overridden."""
    ratings: dict[str, Any] = {d: {"level": 0, "evidence": [], "explanation": ""} for d in dims}
    for dim, value in over.items():
        ratings[dim] = value
    return json.dumps({"dimensions": ratings, "pitfalls": pitfalls or []})


def judge(rubric: Rubric, *answers: str) -> tuple[LLMJudgeScorer, ScriptedModel]:
    model = ScriptedModel(default="not JSON at all")
    model.enqueue(*answers)
    return LLMJudgeScorer(rubric, model), model


def test_well_formed_answer_gives_the_scorer_shape(rubric: Rubric) -> None:
    good = answer(
        attending={
            "level": 3,
            "probability": 0.92,
            "evidence": ["What's been the hardest part for you?"],
            "explanation": "Invites them to say what is hardest.",
            "reasoning": "extra keys are ignored",
        },
        empathising={"level": 2, "evidence": ["That sounds exhausting."]},
    )
    scorer, model = judge(rubric, good)
    score = scorer.score(REPLY, "I've had two extra patients all week.")
    assert score.scored and score.unscored_reason is None
    assert score.rubric_id == rubric.id and score.rubric_version == rubric.version
    assert set(score.dimensions) == set(DIMS)
    attending = score.dimensions["attending"]
    assert attending.level == 3 and attending.probability == 0.92
    assert attending.evidence == ["What's been the hardest part for you?"]
    assert attending.explanation.startswith("Strong: Invites them")
    assert attending.tip == ""  # strong: no higher level to aim for
    # Competent: the step towards strong, from the rubric's own level-3 descriptor.
    assert score.dimensions["empathising"].tip.startswith("To make it strong: names the")
    # No probability given: derived from the level, and a present behaviour is above 0.5.
    assert score.dimensions["empathising"].probability == LEVEL_PROBABILITY[2] > 0.5
    assert score.dimensions["helping"].level == 0
    assert score.dimensions["helping"].probability == LEVEL_PROBABILITY[0] < 0.5
    assert score.dimensions["helping"].tip == rubric.dimensions[3].tip
    # What the judge was asked: deterministic, the rubric in the prompt, the reply and context.
    request = model.history[0]
    assert request.temperature == 0.0 and request.n == 1
    assert "Level 3: Makes time and space" in request.messages[0]["content"]
    assert REPLY in request.messages[1]["content"]
    assert "two extra patients" in request.messages[1]["content"]


def test_a_json_fence_is_tolerated(rubric: Rubric) -> None:
    fenced = "```json\n" + answer(helping={"level": 1, "evidence": []}) + "\n```"
    scorer, _ = judge(rubric, fenced)
    score = scorer.score(REPLY)
    assert score.scored and score.dimensions["helping"].level == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("Sure! The reply shows strong attending.", "not JSON"),
        ("```json", "not valid JSON (cut off or malformed"),
        ('{"dimensions": {"attending": {"level": 1', "not valid JSON"),
        ('Here you go: {"dimensions": {}}', "not JSON"),
        ("[1, 2, 3]", "does not fit the format"),
        (answer(attending={"level": 4}), "dimensions.attending.level"),
        (answer(attending={"level": "2"}), "valid integer"),
        (answer(attending={"level": 2.5}), "valid integer"),
        (answer(attending={"level": 1, "probability": 1.5}), "probability"),
        (answer(dims=DIMS[:3]), "no rating for helping"),
        (answer(dims=(*DIMS, "kindness")), "unknown dimension(s) kindness"),
    ],
)
def test_bad_answers_leave_the_reply_unscored(rubric: Rubric, raw: str, reason: str) -> None:
    scorer, _ = judge(rubric, raw)
    score = scorer.score(REPLY)
    assert not score.scored
    assert reason in (score.unscored_reason or "")
    # Never a midpoint: no level and no probability on any dimension.
    assert all(d.level is None and d.probability is None for d in score.dimensions.values())
    assert set(score.dimensions) == set(DIMS)


def test_evidence_not_in_the_reply_is_dropped(rubric: Rubric) -> None:
    quotes = [
        "What’s been the hardest  part for you?",  # curly apostrophe, double space: same words
        "I'm here for you.",  # invented
        '"That sounds exhausting."',  # wrapped in quote marks
    ]
    scorer, _ = judge(rubric, answer(attending={"level": 2, "evidence": quotes}))
    evidence = scorer.score(REPLY).dimensions["attending"].evidence
    assert evidence == ["What's been the hardest part for you?", "That sounds exhausting."]
    assert all(span in REPLY for span in evidence)
    assert verbatim_span("   ", REPLY) is None


def test_level_zero_quotes_nothing_and_a_contradicting_probability_yields(rubric: Rubric) -> None:
    raw = answer(
        helping={"level": 0, "probability": 0.9, "evidence": ["That sounds exhausting."]},
        attending={"level": 2, "probability": 0.2},
    )
    scorer, _ = judge(rubric, raw)
    dims = scorer.score(REPLY).dimensions
    assert dims["helping"].evidence == []
    assert dims["helping"].probability == LEVEL_PROBABILITY[0]
    assert dims["attending"].probability == LEVEL_PROBABILITY[2]


def test_pitfalls_are_rubric_ids_and_change_the_tip(rubric: Rubric) -> None:
    raw = answer(pitfalls=["dismissing", "sarcasm", "dismissing"])
    scorer, _ = judge(rubric, raw)
    score = scorer.score("It's not a big deal, honestly.")
    assert score.pitfalls == ["dismissing"]
    assert "Acknowledge the feeling" in score.dimensions["empathising"].tip
    assert score.dimensions["attending"].tip == rubric.dimensions[0].tip


def test_model_errors_leave_one_reply_unscored_and_the_batch_goes_on(rubric: Rubric) -> None:
    class FailsOnce(ScriptedModel):
        def generate(self, request: Any) -> list[str]:
            if len(self.history) == 1:
                self.history.append(request)
                from simulator.models.base import ModelError

                raise ModelError("server hiccup")
            return super().generate(request)

    model = FailsOnce()
    model.enqueue(answer(attending={"level": 1}), answer(attending={"level": 2}))
    scorer = LLMJudgeScorer(rubric, model)
    scores = scorer.score_batch(["How are you?", "What happened?", "Tell me more."])
    assert [s.scored for s in scores] == [True, False, True]
    assert scores[1].unscored_reason == "the judge model failed: server hiccup"
    assert scores[2].dimensions["attending"].level == 2


def test_a_model_that_keeps_failing_stops_the_run(rubric: Rubric) -> None:
    model = ScriptedModel()
    model.fail_with = "cannot connect"
    scorer = LLMJudgeScorer(rubric, model, max_consecutive_errors=3)
    scores = scorer.score_batch(["One?", "Two?"])
    assert all("cannot connect" in (s.unscored_reason or "") for s in scores)
    with pytest.raises(JudgeError, match="failed on 3 replies in a row"):
        scorer.score("Three?")


def test_unrateable_replies_never_reach_the_model(rubric: Rubric) -> None:
    scorer, model = judge(rubric)
    scores = scorer.score_batch(["", "x" * 3000, 42, "..."])  # type: ignore[list-item]
    assert [s.unscored_reason for s in scores] == [
        "the reply is empty",
        "the reply is 3000 characters long; the limit is 2000 "
        "(rate one conversational turn at a time)",
        "the reply is not text (got int)",
        "the reply has no words",
    ]
    assert model.history == []
    with pytest.raises(ValueError, match="one context each"):
        scorer.score_batch(["a"], ["b", "c"])


def _custom_rubric(rubric: Rubric) -> Rubric:
    data = rubric.model_dump()
    data["dimensions"].append(
        {
            "id": "boundary-setting",
            "name": "Boundary setting",
            "description": "Being clear and kind about what can and cannot change.",
            "levels": {
                1: "Hints at a limit.",
                2: "States a limit kindly.",
                3: "States a limit kindly and explains why.",
            },
            "exemplars": [
                {"text": "I can't change the rota today, and here's why.", "level": 3},
                {"text": "Whatever you want.", "level": 0},
            ],
            "tip": "Say plainly what can change and what cannot.",
        }
    )
    return Rubric.model_validate(data)


def test_a_custom_rubric_dimension_is_prompted_and_required(rubric: Rubric) -> None:
    custom = _custom_rubric(rubric)
    prompt = system_prompt(custom)
    assert '"boundary-setting" (Boundary setting)' in prompt
    assert "\"I can't change the rota today, and here's why.\" -> level 3" in prompt
    dims = (*DIMS, "boundary-setting")
    good = answer(dims=dims, **{"boundary-setting": {"level": 2, "evidence": ["today"]}})
    scorer, _ = judge(custom, good, answer())
    scores = scorer.score_batch(["I can't change it today, sorry.", "Fine."])
    assert scores[0].dimensions["boundary-setting"].level == 2
    assert scores[0].dimensions["boundary-setting"].evidence == ["today"]
    assert not scores[1].scored
    assert "no rating for boundary-setting" in (scores[1].unscored_reason or "")
    assert parse_answer(good, custom).dimensions["boundary-setting"].level == 2
