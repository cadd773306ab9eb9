"""Cue extraction on its own: spans are verbatim, features line up with their names."""

from __future__ import annotations

from simulator.scoring import cues


def test_feature_vector_matches_names() -> None:
    result = cues.extract("What's been happening?", "I'm exhausted.")
    assert result.features.shape == (len(cues.FEATURE_NAMES),)
    assert result.features[cues.FEATURE_NAMES.index("context_feeling")] == 1.0


def test_spans_are_substrings_and_support_the_right_targets() -> None:
    reply = "So you've had no break all shift? That must be exhausting. I'll cover your bay."
    result = cues.extract(reply, "No break again.")
    for spans in result.spans.values():
        assert all(span in reply for span in spans)
    assert result.evidence_for("understanding")
    assert result.evidence_for("empathising")
    assert any("cover your bay" in s for s in result.evidence_for("helping"))


def test_task_questions_are_told_apart_from_open_questions() -> None:
    task = cues.extract("Did you finish the meds round?")
    open_q = cues.extract("How have you been finding the new rota?")
    assert "task_question" in task.spans and "open_question" not in task.spans
    assert "open_question" in open_q.spans


def test_spans_start_at_a_word_or_a_quote() -> None:
    reply = 'Okay. What\'s been happening today? You said "never again", and... how did that feel?'
    for spans in cues.extract(reply).spans.values():
        for span in spans:
            assert span in reply
            assert span[0].isalnum() or span[0] in "\"'", span
    assert cues.trim_span(". What's been happening today?") == "What's been happening today?"
    assert cues.trim_span('  "Quoted" words, ') == '"Quoted" words'
