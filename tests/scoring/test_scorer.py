# ruff: noqa: E501  (golden replies read best one per line)
"""Golden cases written by us, unscored inputs, evidence, pitfalls and custom rubrics."""

from __future__ import annotations

import pytest

from simulator.schema import Rubric
from simulator.scoring import RubricScorer, default_scorer
from simulator.scoring.scorer import MAX_REPLY_CHARS, load_rubric

SAM = "They gave me two extra patients again. Nobody even asked."

GOLDEN = [
    # (reply, context, dimension that must reach level >= 2)
    (
        "I've got time now and I'm not rushing off. What's been happening on your shifts?",
        "",
        "attending",
    ),
    ("Take your time. What's been the hardest part of this week for you?", SAM, "attending"),
    (
        "So you were given two extra patients and nobody asked you first. Have I got that right?",
        SAM,
        "understanding",
    ),
    (
        "It sounds like the deadline moved but the scope didn't, and it all landed on you. Is that it?",
        "They moved the release up a week and want every feature.",
        "understanding",
    ),
    (
        "That sounds exhausting, and it makes sense you're frustrated after a week like that.",
        SAM,
        "empathising",
    ),
    (
        "I'm so sorry. Losing a patient stays with you, and it's okay to feel shaken.",
        "One of my patients died last night.",
        "empathising",
    ),
    ("Would it help if I took two of your patients for the rest of the shift?", SAM, "helping"),
    (
        "Let's look at the rota together and get you back on days from next week.",
        "Third week running on nights.",
        "helping",
    ),
]

ABSENT = [
    # (reply, context, dimension that must be 0)
    ("Did you finish the meds round?", SAM, "attending"),
    ("Can you send me the figures by five?", "", "empathising"),
    ("I understand.", SAM, "understanding"),
    ("That sounds really hard. How are you feeling about it?", SAM, "helping"),
    ("Thanks for letting me know.", SAM, "helping"),
]

PITFALLS = [
    ("Calm down, it's not a big deal, everyone deals with this.", SAM, "dismissing"),
    ("Well, you should have planned better. That's your own fault.", SAM, "blaming"),
    (
        "That's nothing, when I was on the ward we did twelve-hour nights with no breaks.",
        SAM,
        "making-it-about-yourself",
    ),
    ("Just delegate it. Next?", "I'm drowning and I don't know what to do.", "premature-fixing"),
]


@pytest.fixture(scope="module")
def scorer() -> RubricScorer:
    return default_scorer()


@pytest.mark.parametrize(("reply", "context", "dimension"), GOLDEN)
def test_golden_behaviour_is_rated_competent_or_better(
    scorer: RubricScorer, reply: str, context: str, dimension: str
) -> None:
    result = scorer.score(reply, context)
    score = result.dimensions[dimension]
    assert score.level is not None and score.level >= 2, score.explanation
    assert score.probability is not None and score.probability >= 0.5
    assert score.evidence, "a rated behaviour quotes its evidence"


@pytest.mark.parametrize(("reply", "context", "dimension"), ABSENT)
def test_hard_negatives_are_not_observed(
    scorer: RubricScorer, reply: str, context: str, dimension: str
) -> None:
    score = scorer.score(reply, context).dimensions[dimension]
    assert score.level == 0, score.explanation
    assert score.probability is not None and score.probability < 0.5
    assert score.evidence == []


@pytest.mark.parametrize(("reply", "context", "pitfall"), PITFALLS)
def test_pitfalls_are_reported_and_lower_dimensions(
    scorer: RubricScorer, reply: str, context: str, pitfall: str
) -> None:
    result = scorer.score(reply, context)
    assert pitfall in result.pitfalls
    lowered = scorer.rubric.pitfalls[[p.id for p in scorer.rubric.pitfalls].index(pitfall)].lowers
    for dim in lowered:
        level = result.dimensions[dim].level
        assert level is not None and level <= 2


def test_a_pitfall_lowers_the_level_it_names(scorer: RubricScorer) -> None:
    clean = scorer.score("I'm sorry it's been such a hard week. You must be worn out.", SAM)
    dismissive = scorer.score(
        "I'm sorry it's been such a hard week, but calm down, it's not a big deal.", SAM
    )
    assert "dismissing" in dismissive.pitfalls
    assert dismissive.level("empathising") < clean.level("empathising")
    assert "lowered by dismissing" in dismissive.dimensions["empathising"].explanation


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        (None, "not text"),
        (42, "not text"),
        ("x" * (MAX_REPLY_CHARS + 1), "limit"),
        ("?!... 123", "no words"),
    ],
)
def test_unrateable_replies_are_unscored_never_midpoint(
    scorer: RubricScorer, reply: object, reason: str
) -> None:
    result = scorer.score_batch([reply])[0]
    assert not result.scored
    assert result.unscored_reason is not None and reason in result.unscored_reason
    for score in result.dimensions.values():
        assert score.level is None and score.probability is None


def test_batch_keeps_order_and_matches_single_scores(scorer: RubricScorer) -> None:
    replies = ["What's been going on?", "", "I'll cover your bay for an hour."]
    batch = scorer.score_batch(replies, [SAM, SAM, SAM])
    assert [r.text for r in batch] == replies
    assert not batch[1].scored
    single = scorer.score(replies[2], SAM)
    assert batch[2].dimensions["helping"].probability == pytest.approx(
        single.dimensions["helping"].probability, abs=1e-3
    )


def test_contexts_must_match_replies(scorer: RubricScorer) -> None:
    with pytest.raises(ValueError, match="contexts"):
        scorer.score_batch(["a reply"], ["one", "two"])


def test_evidence_is_always_a_verbatim_substring(scorer: RubricScorer) -> None:
    replies = [reply for reply, _, _ in GOLDEN + ABSENT + PITFALLS] + [
        "Honestly? That sounds rough. So nobody asked you... what would help most right now?",
        "I hear you.   Really.  Let me take the 3 o'clock meds, and we'll talk after.",
    ]
    for result in scorer.score_batch(replies, [SAM] * len(replies)):
        assert result.rubric_id == "compassionate-leadership" and result.rubric_version == 1
        for dim, score in result.dimensions.items():
            assert score.level is not None and 0 <= score.level <= 3
            assert score.probability is not None and 0.0 <= score.probability <= 1.0
            assert score.explanation and score.tip, dim
            for span in score.evidence:
                assert span and span in result.text


def test_a_rubric_with_an_extra_dimension_gets_scores_without_code(scorer: RubricScorer) -> None:
    data = load_rubric().model_dump()
    data["dimensions"].append(
        {
            "id": "gratitude",
            "name": "Gratitude",
            "description": "Thanking the person for specific effort or contribution.",
            "levels": {
                1: "A general thanks.",
                2: "Thanks for something specific.",
                3: "Specific thanks and what it made possible.",
            },
            "exemplars": [
                {
                    "text": "Thank you for staying late to finish the handover, it really helped the night team.",
                    "level": 3,
                },
                {"text": "Thanks so much for covering the ward on Sunday.", "level": 2},
                {"text": "Thanks.", "level": 1},
                {"text": "Did you finish the meds round?", "level": 0},
                {"text": "The deadline is on Friday.", "level": 0},
            ],
            "tip": "Thank them for something specific they did.",
        }
    )
    custom = RubricScorer(Rubric.model_validate(data), embedder=scorer.embedder)
    thanked, task = custom.score_batch(
        [
            "Thank you for staying late yesterday to help the new starter, it made a real difference.",
            "Is the stock count done?",
        ]
    )
    assert "gratitude" in thanked.dimensions
    assert thanked.dimensions["gratitude"].level is not None
    assert thanked.dimensions["gratitude"].level >= 2
    assert task.dimensions["gratitude"].level == 0
    assert thanked.dimensions["gratitude"].tip
    # the labelled set still drives the known dimensions of the custom rubric
    assert custom.model is not None and custom.model.covers("attending")
    assert not custom.model.covers("gratitude")


def test_evidence_starts_at_a_word_and_has_no_nested_duplicates(scorer: RubricScorer) -> None:
    replies = [
        "Okay. That sounds exhausting. What's been happening today?",
        "That sounds exhausting, honestly. I'm sorry. So nobody asked you first?",
    ]
    # One small batch (sentences embedded for evidence) and one large one (cue-ranked evidence).
    small = scorer.score_batch(replies, [SAM, SAM])
    large = scorer.score_batch(replies * 10, [SAM] * 20)[:2]
    for result in small + large:
        for score in result.dimensions.values():
            for span in score.evidence:
                assert span in result.text
                assert span[0].isalnum() or span[0] in "\"'", span
            lowered = [s.lower() for s in score.evidence]
            for i, span in enumerate(lowered):
                assert not any(i != j and span in other for j, other in enumerate(lowered))
    attending = small[0].dimensions["attending"]
    assert attending.level and "What's been happening today?" in attending.evidence
