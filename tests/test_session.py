"""Session turn loop on a scripted model and a dictated scorer, with a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.content.schema import Rubric, Scenario
from simulator.conversation.session import InputError, Session
from simulator.models.base import ModelError
from simulator.models.fake import ScriptedModel
from simulator.scoring.types import ReplyScore
from simulator.store.database import Store
from tests.fakes import DictatedScorer


def make(
    workload: Scenario,
    rubric: Rubric,
    scorer: DictatedScorer,
    model: ScriptedModel,
    store: Store | None = None,
    seed: int | None = 3,
) -> Session:
    return Session(workload, rubric, scorer, model, store=store, seed=seed, n_candidates=2)


def test_turns_are_scored_in_context_and_stored_as_they_happen(
    workload: Scenario,
    rubric: Rubric,
    dictated: DictatedScorer,
    scripted: ScriptedModel,
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.sqlite3"
    dictated.set("How are you, really?", attending=3)
    session = make(workload, rubric, dictated, scripted, Store(db))
    turn = session.respond("How are you, really?")
    assert dictated.contexts == [workload.persona.opening_line]
    assert turn.scores is not None and turn.scores.level("attending") == 3
    assert turn.trust > session.transcript.start_trust
    assert turn.move == "asked"
    # A second store on the same file sees the finished turn before the session ends.
    stored = Store(db).load_transcript(session.transcript.session_id)
    assert [t.learner for t in stored.turns] == ["How are you, really?"]
    session.respond("And the extra patients?")
    assert dictated.contexts[-1] == turn.persona


def test_caring_raises_trust_and_dismissive_lowers_it(
    workload: Scenario, rubric: Rubric, dictated: DictatedScorer, scripted: ScriptedModel
) -> None:
    caring = [
        "What's been going on?",
        "Sounds like you feel taken for granted.",
        "That sounds exhausting.",
        "Would earlies for a month help?",
    ]
    dictated.set(caring[0], attending=3)
    dictated.set(caring[1], understanding=3, empathising=2)
    dictated.set(caring[2], empathising=3)
    dictated.set(caring[3], helping=3, attending=2)
    dismissive = ["Everyone is busy.", "Stop snapping at people."]
    for line in dismissive:
        dictated.set(line, pitfalls=["dismissing"])
    good = make(workload, rubric, dictated, scripted)
    for line in caring:
        good.respond(line)
    bad = make(workload, rubric, dictated, scripted)
    for line in dismissive:
        bad.respond(line)
    assert good.turns[-1].trust > good.transcript.start_trust
    assert bad.turns[-1].trust < bad.transcript.start_trust
    assert bad.turns[-1].move == "dismissed"
    debrief = good.end()
    assert debrief.behaviours["empathising"].levels == [0, 2, 3, 0]
    assert debrief.trust[0] == good.transcript.start_trust
    assert debrief.strongest is not None


def test_debrief_quotes_the_same_words_once(
    workload: Scenario, rubric: Rubric, dictated: DictatedScorer, scripted: ScriptedModel
) -> None:
    line = "It sounds like it really shook you, and that makes sense."
    dictated.set(line, understanding=2, empathising=2)
    session = make(workload, rubric, dictated, scripted)
    turn = session.respond(line)
    assert turn.scores is not None
    # Two behaviours quote the same clause, one with its full stop, one a part of it.
    turn.scores.dimensions["understanding"].evidence = [line[:-1]]
    turn.scores.dimensions["empathising"].evidence = [line, "that makes sense"]
    debrief = session.end()
    assert debrief.strongest is not None
    assert debrief.strongest.evidence == [line]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "Type what you would say to Sam"),
        ("   ", "Type what you would say to Sam"),
        ("x" * 2001, "keep it under 2000"),
    ],
)
def test_bad_input_changes_nothing(
    workload: Scenario,
    rubric: Rubric,
    dictated: DictatedScorer,
    scripted: ScriptedModel,
    line: str,
    message: str,
) -> None:
    session = make(workload, rubric, dictated, scripted)
    with pytest.raises(InputError, match=message):
        session.respond(line)
    assert session.turns == []


def test_model_failure_keeps_finished_turns(
    workload: Scenario,
    rubric: Rubric,
    dictated: DictatedScorer,
    scripted: ScriptedModel,
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "s.sqlite3")
    session = make(workload, rubric, dictated, scripted, store)
    session.respond("Hello Sam.")
    trust = session.state.trust
    scripted.fail_with = "the inference server at http://127.0.0.1:9 is down"
    with pytest.raises(ModelError, match="is down"):
        session.respond("Are you OK?")
    assert len(session.turns) == 1 and session.state.trust == trust
    assert len(store.load_transcript(session.transcript.session_id).turns) == 1
    scripted.fail_with = None
    assert session.respond("Are you OK?").index == 1


def test_session_ends_after_max_turns(
    workload: Scenario, rubric: Rubric, dictated: DictatedScorer, scripted: ScriptedModel
) -> None:
    session = make(workload, rubric, dictated, scripted)
    for i in range(workload.max_turns):
        session.respond(f"line {i}")
    assert session.finished
    with pytest.raises(InputError, match="ended"):
        session.respond("one more")


def test_branch_keeps_earlier_turns_and_leaves_the_original(
    workload: Scenario,
    rubric: Rubric,
    dictated: DictatedScorer,
    scripted: ScriptedModel,
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "s.sqlite3")
    dictated.set("What's up?", attending=3)
    session = make(workload, rubric, dictated, scripted, store)
    session.respond("What's up?")
    session.respond("Pull yourself together.")
    branch = session.branch(1)
    assert [t.learner for t in branch.turns] == ["What's up?"]
    assert branch.state.trust == session.turns[0].trust
    branch.respond("That sounds hard.")
    assert len(session.turns) == 2
    assert len(store.load_transcript(branch.transcript.session_id).turns) == 2
    assert len(store.load_transcript(session.transcript.session_id).turns) == 2
    with pytest.raises(InputError):
        session.branch(5)


def test_same_seed_same_prompts(
    workload: Scenario, rubric: Rubric, dictated: DictatedScorer
) -> None:
    runs = []
    for _ in range(2):
        model = ScriptedModel()
        session = make(workload, rubric, dictated, model, seed=11)
        for line in ["Hi", "How are you?", "Tell me more"]:
            session.respond(line)
        runs.append([(r.messages, r.seed, r.prefill) for r in model.history])
    assert runs[0] == runs[1]


def test_debrief_never_holds_up_a_reply_with_a_pitfall_and_targets_the_weakest(
    workload: Scenario, rubric: Rubric, dictated: DictatedScorer, scripted: ScriptedModel
) -> None:
    blunt = "People have been complaining about you for weeks. How are you finding it?"
    dictated.set(blunt, attending=3, understanding=2, pitfalls=["blaming"])
    kind = "That sounds exhausting."
    dictated.set(kind, empathising=3)
    fix = "I'll take two of your patients for the rest of the shift."
    dictated.set(fix, helping=3, attending=2)
    session = make(workload, rubric, dictated, scripted)
    for line in (blunt, kind, fix):
        session.respond(line)
    debrief = session.end()
    assert debrief.strongest is not None
    assert debrief.strongest.learner != blunt  # highest total, but it blamed
    # Understanding (mean 2/3) is the weakest behaviour; helping was shown strongly once and
    # attending is ahead: the one thing to try next is understanding, not helping.
    weakest = [s for s in debrief.suggestions if not s.startswith("Watch for")]
    assert weakest[0].startswith(rubric.dimension("understanding").name)
    assert not any(s.startswith(rubric.dimension("helping").name) for s in weakest)


class _ConversationScorer(DictatedScorer):
    """A dictated scorer that, like the rubric scorer, reads the whole conversation."""

    def __init__(self) -> None:
        super().__init__()
        self.conversations: list[list[str]] = []

    def score_in_conversation(self, reply: str, colleague_lines: list[str]) -> ReplyScore:
        self.conversations.append(list(colleague_lines))
        return self.score(reply, colleague_lines[-1])


def test_a_paraphrase_is_checked_against_everything_the_colleague_said(
    workload: Scenario, rubric: Rubric, scripted: ScriptedModel
) -> None:
    scorer = _ConversationScorer()
    session = make(workload, rubric, scorer, scripted)
    first = session.respond("How are you doing?")
    session.respond("So you've had a hard week?")
    assert scorer.conversations == [
        [workload.persona.opening_line],
        [workload.persona.opening_line, first.persona],
    ]
    assert scorer.contexts == [workload.persona.opening_line, first.persona]
