# ruff: noqa: E501  (golden replies read best one per line)
"""Golden cases written by us, unscored inputs, evidence, pitfalls and custom rubrics."""

from __future__ import annotations

import pytest

from simulator.content.schema import Rubric, Scenario
from simulator.persona.state import PersonaState, trust_delta
from simulator.scoring import RubricScorer
from simulator.scoring.evidence import Candidate, choose
from simulator.scoring.scorer import SCORER_NAME, SCORER_VERSION
from simulator.scoring.types import MAX_REPLY_CHARS
from simulator.services import Services

pytestmark = pytest.mark.slow  # every test here loads a real model

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
    return Services().scorer()


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
        assert (result.scorer, result.scorer_version) == (SCORER_NAME, SCORER_VERSION)
        for dim, score in result.dimensions.items():
            assert score.level is not None and 0 <= score.level <= 3
            assert score.probability is not None and 0.0 <= score.probability <= 1.0
            # A strong (level 3) behaviour has no higher level to aim for: no tip; at level 2 the
            # tip asks only for what the strong level names beyond what the reply did, so a reply
            # that did all of it (time made, an open question asked) gets none either.
            assert score.explanation and (score.tip or score.level >= 2), dim
            for span in score.evidence:
                assert span and span in result.text


def test_a_rubric_with_an_extra_dimension_gets_scores_without_code(scorer: RubricScorer) -> None:
    data = Services().rubric().model_dump()
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
    # The custom rubric's own words coach: its tip below competent, its level 3 above.
    assert task.dimensions["gratitude"].tip == "Thank them for something specific they did."
    assert thanked.dimensions["gratitude"].tip in (
        "",
        "To make it strong: specific thanks and what it made possible.",
    )
    # the labelled set still drives the known dimensions of the custom rubric
    assert custom.model is not None and custom.model.covers("attending")
    assert not custom.model.covers("gratitude")


def test_a_fifth_dimension_is_scored_moves_trust_and_gets_tips_without_code(
    scorer: RubricScorer, workload: Scenario
) -> None:
    data = Services().rubric().model_dump()
    data["dimensions"].append(
        {
            "id": "recognition",
            "name": "Recognition",
            "description": "Recognising specific effort or contribution the person has made.",
            "levels": {
                1: "A general thanks or acknowledgement.",
                2: "Recognises something specific they did.",
                3: "Recognises specific effort and says what it made possible.",
            },
            "exemplars": [
                {
                    "text": "Thank you for covering the late shift, it kept the ward safe.",
                    "level": 3,
                },
                {"text": "Thanks for sorting the rota last week.", "level": 2},
                {"text": "Cheers.", "level": 1},
                {"text": "Is the audit finished?", "level": 0},
                {"text": "We need the report by Monday.", "level": 0},
            ],
            "tip": "Name one thing they did and thank them for it.",
            "trust_weight": 0.12,
        }
    )
    rubric = Rubric.model_validate(data)
    custom = RubricScorer(rubric, embedder=scorer.embedder)
    thanked, task = custom.score_batch(
        [
            "Thank you for covering Jo's patients yesterday, it kept the whole bay safe.",
            "Is the audit done?",
        ],
        [SAM, SAM],
    )
    level = thanked.level("recognition")
    assert level >= 2
    assert task.level("recognition") == 0
    assert task.dimensions["recognition"].tip == "Name one thing they did and thank them for it."
    # It moves the persona's trust by its own weight, read from the rubric.
    state = PersonaState.start(workload.persona)
    # Compared with the same reply without it (both attending a little, so that neither is a
    # reply in which nothing was observed).
    with_it = thanked.model_copy(deep=True)
    with_it.dimensions["attending"].level = 1
    without = with_it.model_copy(deep=True)
    without.dimensions["recognition"].level = 0
    gained = trust_delta(state, with_it, rubric=rubric) - trust_delta(state, without, rubric=rubric)
    assert gained == pytest.approx(0.12 * level / 3, abs=1e-3)


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


DISMISSALS = [
    "Calm down, it's not a big deal. Everyone is busy.",
    "Calm down, it's not a big deal, everyone deals with this.",
    "It's not a big deal, everyone deals with this.",
]


@pytest.mark.parametrize("reply", DISMISSALS)
def test_a_reply_whose_only_empathy_is_a_dismissal_does_not_empathise(
    scorer: RubricScorer, reply: str
) -> None:
    result = scorer.score(reply, SAM)
    assert "dismissing" in result.pitfalls
    empathising = result.dimensions["empathising"]
    assert empathising.level == 0, empathising.explanation
    assert empathising.probability is not None and empathising.probability < 0.5
    assert empathising.evidence == []
    assert empathising.tip


def test_real_empathy_beside_a_dismissal_is_lowered_and_quoted_without_it(
    scorer: RubricScorer,
) -> None:
    reply = "I'm sorry it's been such a hard week, but calm down, it's not a big deal."
    result = scorer.score(reply, SAM)
    empathising = result.dimensions["empathising"]
    assert "dismissing" in result.pitfalls
    assert empathising.level == 1, empathising.explanation
    assert "lowered by dismissing" in empathising.explanation
    assert empathising.evidence == ["I'm sorry it's been such a hard week"]


FLAGGED = [
    # (reply, words a pitfall flagged, dimensions those words must never be evidence for)
    (
        "I'm sorry it's been such a hard week, but calm down, it's not a big deal.",
        ["calm down", "big deal"],
        ("empathising", "understanding"),
    ),
    (
        "That's awful, but at least you're safe, and I'm glad you told me.",
        ["at least"],
        ("empathising", "understanding"),
    ),
    (
        "I hear you, that's really tough. But you'll get used to it, everyone does.",
        ["get used to"],
        ("empathising", "understanding"),
    ),
    (
        "I had the same problem last year, how are you coping with it?",
        ["I had"],
        ("attending", "understanding"),
    ),
    (
        "Why didn't you tell me sooner? What's going on?",
        ["Why didn't you"],
        ("attending", "understanding", "empathising"),
    ),
]


def test_words_a_pitfall_flagged_are_never_evidence_for_what_it_lowers(
    scorer: RubricScorer,
) -> None:
    replies = [reply for reply, _, _ in FLAGGED]
    # One small batch (sentences embedded for evidence) and one large one (cue-ranked evidence).
    small = scorer.score_batch(replies, [SAM] * len(replies))
    large = scorer.score_batch(replies * 4, [SAM] * 4 * len(replies))[: len(replies)]
    for result in small + large:
        _, words, dims = FLAGGED[replies.index(result.text)]
        assert result.pitfalls, result.text
        for dim in dims:
            for span in result.dimensions[dim].evidence:
                assert span in result.text
                assert not any(w.lower() in span.lower() for w in words), (dim, span)
    # The caring part still counts, quoted on its own.
    glad = small[1].dimensions["empathising"]
    assert glad.level and "I'm glad you told me." in glad.evidence
    coping = small[3].dimensions["attending"]
    assert coping.level and coping.evidence == ["how are you coping with it?"]


@pytest.mark.parametrize("context", [SAM, ""])
def test_a_paraphrase_is_quoted_for_understanding_and_the_feeling_for_empathy(
    scorer: RubricScorer, context: str
) -> None:
    reply = "So they gave you two extra patients without asking. That sounds exhausting."
    results = [scorer.score(reply, context)]
    if context:
        # Large batches rank sentences by cues and words only (no embeddings): with what Sam
        # said to compare against, the paraphrase is still found.
        results.append(scorer.score_batch([reply] * 20, [context] * 20)[0])
    for result in results:
        understanding = result.dimensions["understanding"]
        empathising = result.dimensions["empathising"]
        assert understanding.level and empathising.level
        assert understanding.evidence == ["So they gave you two extra patients without asking."]
        assert empathising.evidence == ["That sounds exhausting."]


def test_two_behaviours_share_a_sentence_only_when_no_other_fits_as_well() -> None:
    feeling = "That sounds exhausting."
    paraphrase = "So nobody asked you first."
    ranked = {
        "understanding": [Candidate(feeling, 1, 5.0), Candidate(paraphrase, 1, 4.5)],
        "empathising": [Candidate(feeling, 2, 9.0), Candidate(paraphrase, 0, -4.0)],
    }
    shown = ["understanding", "empathising"]
    assert choose(ranked, shown) == {"understanding": paraphrase, "empathising": feeling}
    # The other sentence shows understanding less (a lower level): both quote the feeling.
    ranked["understanding"][1] = Candidate(paraphrase, 0, -1.0)
    assert choose(ranked, shown) == {"understanding": feeling, "empathising": feeling}
    # A dimension that is not shown quotes nothing and takes no sentence.
    assert choose(ranked, ["empathising"]) == {"empathising": feeling}


def test_caring_words_near_pitfall_phrases_keep_their_credit(scorer: RubricScorer) -> None:
    for reply in (
        "It's not your fault, and I'm sorry you're carrying this.",
        "I'm proud of you for trying to move on.",
    ):
        result = scorer.score(reply, "I keep thinking I caused it.")
        assert result.pitfalls == [], reply
        assert result.level("empathising") >= 2, result.dimensions["empathising"].explanation


def test_tips_follow_the_level(scorer: RubricScorer) -> None:
    rubric = scorer.rubric
    attending = scorer.score("What's been happening on your shift today?", SAM)
    competent = attending.dimensions["attending"]
    assert competent.level == 2
    # The reply already invites them to say what is going on: the step left is making time.
    assert competent.tip == "To make it strong: makes time and space explicitly."
    time_given = scorer.score("Take all the time you need. I'm listening.", SAM)
    assert time_given.dimensions["attending"].level == 2
    assert "time" not in time_given.dimensions["attending"].tip
    # Levels 0-1 get the rubric's tip, how to show the behaviour at all.
    assert attending.dimensions["empathising"].level == 0
    assert attending.dimensions["empathising"].tip == rubric.dimension("empathising").tip
    feeling = scorer.score("That sounds exhausting", SAM).dimensions["empathising"]
    assert feeling.level == 2
    # The feeling is named already: what is left of the strong level is showing you care.
    assert feeling.tip == "To make it strong: shows you care about them."
    assert feeling.tip != rubric.dimension("empathising").tip
