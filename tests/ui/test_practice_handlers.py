"""Practice tab handlers, driven directly: scripted persona model, real scorer, isolated store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from simulator.conversation.session import MAX_REPLY_CHARS, Session
from simulator.conversation.transcript import Transcript
from simulator.models import load_model
from simulator.models.fake import ScriptedModel
from simulator.ui import practice
from simulator.ui.context import AppContext
from simulator.ui.text import as_text

SCENARIO = "workload-conflict"
GOOD = "I've got time now and I'm not going anywhere. What's been happening on your shifts?"
REFLECT = "So you were handed two extra patients without anyone asking, and that felt unfair?"


def scripted() -> ScriptedModel:
    model = load_model()
    assert isinstance(model, ScriptedModel)
    return model


def started(
    ctx: AppContext, mode: str = practice.COACHING, name: str = "Jo"
) -> practice.PracticeView:
    view = practice.start(ctx, SCENARIO, mode, name)
    assert view.notice is None, view.notice
    assert view.session is not None
    return view


def session_of(view: practice.PracticeView) -> Session:
    assert view.session is not None
    return view.session


def send(ctx: AppContext, view: practice.PracticeView, line: str) -> list[practice.PracticeView]:
    return list(practice.send(ctx, view.session, line))


def test_picker_lists_every_scenario_by_title_and_the_card_shows_the_brief() -> None:
    choices = dict((sid, title) for title, sid in practice.scenario_choices())
    assert choices[SCENARIO] == "Extra patients, again (medium)"
    assert len(choices) >= 6
    card = practice.describe(SCENARIO)
    assert "Extra patients, again" in card
    assert "Ward manager" in card and "medium" in card and "handover" in card
    assert "Pick a situation" in practice.describe(None)


@pytest.mark.slow
def test_start_shows_the_opening_line_and_is_stored(ctx: AppContext) -> None:
    view = started(ctx)
    assert view.chat == [
        {
            "role": "assistant",
            "content": "Do you actually need me for something? I've still got meds to do.",
        }
    ]
    assert "10 replies left" in view.status and "guarded" in view.status
    assert view.debrief == ""
    stored = ctx.store.list_sessions("Jo")
    assert [s.session_id for s in stored] == [session_of(view).transcript.session_id]


@pytest.mark.parametrize("scenario_id", [None, "", "no-such-scenario", "/etc/passwd.yaml", "../x"])
def test_start_refuses_anything_but_a_catalogue_id(
    ctx: AppContext, scenario_id: str | None
) -> None:
    view = practice.start(ctx, scenario_id, practice.COACHING, "Jo")
    assert view.session is None
    assert view.notice == "Pick a situation first, then press Start conversation."


@pytest.mark.slow
def test_send_shows_the_reply_while_thinking_then_the_answer_and_coaching(ctx: AppContext) -> None:
    scripted().enqueue("Honestly? Four late finishes this fortnight.")
    view = started(ctx)
    first, last = send(ctx, view, GOOD)
    assert first.chat[-2] == {"role": "user", "content": as_text(GOOD)}
    assert "thinking" in first.chat[-1]["content"] and "thinking" in first.status
    assert last.notice is None
    assert len(last.chat) == 3 and last.chat[-1]["role"] == "assistant"
    for name in ("Attending", "Understanding", "Empathising", "Helping"):
        assert name in last.feedback
    assert "How reply 1 landed" in last.feedback
    assert "What showed it" in last.feedback  # the scorer's evidence, not ours
    assert "9 replies left" in last.status
    assert last.reply == ""
    assert last.branch_choices == [(f"Reply 1: {GOOD[:57]}...", 0)]
    stored = ctx.store.load_transcript(session_of(view).transcript.session_id)
    assert [t.learner for t in stored.turns] == [GOOD]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", "Type what you would say to Sam"),
        ("   ", "Type what you would say to Sam"),
        ("x" * (MAX_REPLY_CHARS + 1), f"keep it under {MAX_REPLY_CHARS}"),
    ],
)
def test_empty_and_too_long_replies_get_a_clear_notice_and_are_kept(
    ctx: AppContext, line: str, expected: str
) -> None:
    view = started(ctx)
    (result,) = send(ctx, view, line)
    assert result.notice is not None and expected in result.notice
    assert result.reply == line
    assert len(result.chat) == 1 and not session_of(view).turns


def test_send_before_start_asks_to_start(ctx: AppContext) -> None:
    (result,) = list(practice.send(ctx, None, "Hello"))
    assert result.notice == "Press Start conversation first."
    assert result.reply == "Hello"


@pytest.mark.slow
def test_model_error_keeps_finished_turns_and_the_typed_reply(ctx: AppContext) -> None:
    view = started(ctx)
    send(ctx, view, GOOD)
    model = scripted()
    model.fail_with = "the model ran out of memory"
    try:
        results = send(ctx, view, REFLECT)
    finally:
        model.fail_with = None
    last = results[-1]
    assert last.notice is not None and "could not answer just now" in last.notice
    assert "ran out of memory" in last.notice and "earlier replies are kept" in last.notice
    assert last.reply == REFLECT
    assert len(last.chat) == 3  # opening + the one finished turn, the failed one dropped
    assert len(ctx.store.load_transcript(session_of(view).transcript.session_id).turns) == 1
    # The same session carries on once the model answers again.
    assert len(send(ctx, view, REFLECT)[-1].chat) == 5


@pytest.mark.slow
def test_html_in_a_reply_is_escaped_in_the_chat(ctx: AppContext) -> None:
    view = started(ctx)
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script> **bold**'
    last = send(ctx, view, attack)[-1]
    shown = last.chat[1]["content"]
    assert "<" not in shown and "&lt;script&gt;" in shown
    assert "\\*\\*bold\\*\\*" in shown
    assert session_of(view).turns[0].learner == attack  # stored as typed


@pytest.mark.slow
def test_end_gives_debrief_charts_and_downloads(ctx: AppContext) -> None:
    view = started(ctx)
    send(ctx, view, GOOD)
    send(ctx, view, REFLECT)
    ended = practice.finish(ctx, view.session)
    assert ended.notice is None
    assert "Your debrief" in ended.debrief and "What to try next time" in ended.debrief
    assert "strongest reply" in ended.debrief
    assert ended.figures is not None and all(isinstance(f, Figure) for f in ended.figures)
    assert ended.downloads is not None
    json_path, md_path = ended.downloads
    transcript = Transcript.model_validate(json.loads(Path(json_path).read_text()))
    assert [t.learner for t in transcript.turns] == [GOOD, REFLECT]
    assert transcript.debrief is not None and transcript.turns[0].scores is not None
    markdown = Path(md_path).read_text()
    assert "Scores: Attending" in markdown and GOOD in markdown
    assert "ended" in ended.status
    # Replying after the end is refused with a clear message.
    (after,) = send(ctx, view, "One more thing")
    assert after.notice is not None and "has ended" in after.notice
    assert ctx.store.list_sessions("Jo")[0].ended_at is not None


@pytest.mark.slow
def test_assessment_mode_holds_feedback_until_the_end(ctx: AppContext) -> None:
    view = started(ctx, mode=practice.ASSESSMENT)
    assert session_of(view).transcript.mode == "assessment"
    last = send(ctx, view, GOOD)[-1]
    assert "Assessment mode" in last.feedback and "Attending" not in last.feedback
    assert "seems" not in last.status  # no mood hints either
    ended = practice.finish(ctx, view.session)
    assert "How reply 1 landed" in ended.feedback and "Attending" in ended.feedback


@pytest.mark.slow
def test_reaching_max_turns_ends_with_the_debrief(ctx: AppContext) -> None:
    view = started(ctx)
    session_of(view).scenario = session_of(view).scenario.model_copy(update={"max_turns": 2})
    send(ctx, view, GOOD)
    last = send(ctx, view, REFLECT)[-1]
    assert last.debrief and last.downloads is not None
    assert session_of(view).transcript.ended_at is not None


@pytest.mark.slow
def test_try_again_starts_afresh_with_the_same_settings(ctx: AppContext) -> None:
    view = started(ctx, mode=practice.ASSESSMENT, name="Ann")
    send(ctx, view, GOOD)
    again = practice.try_again(ctx, view.session)
    assert again.session is not None and again.session is not view.session
    assert session_of(again).turns == []
    assert session_of(again).transcript.mode == "assessment"
    assert session_of(again).transcript.trainee == "Ann"
    assert len(ctx.store.list_sessions("Ann")) == 2


@pytest.mark.slow
def test_go_back_keeps_earlier_turns_and_leaves_the_original(ctx: AppContext) -> None:
    view = started(ctx)
    send(ctx, view, GOOD)
    send(ctx, view, "Everyone's busy, we all have to muck in.")
    back = practice.go_back(ctx, view.session, 1)
    assert back.session is not None and back.session is not view.session
    assert [t.learner for t in session_of(back).turns] == [GOOD]
    assert len(back.chat) == 3 and "Back before reply 2" in back.status
    assert len(session_of(view).turns) == 2
    assert practice.go_back(ctx, view.session, None).notice == (
        "Choose the reply you want to change first."
    )
    assert "no turn 10" in (practice.go_back(ctx, view.session, 9).notice or "")


@pytest.mark.slow
def test_two_sessions_do_not_share_a_conversation(ctx: AppContext) -> None:
    one = started(ctx, name="Jo")
    two = started(ctx, name="Ann")
    send(ctx, one, GOOD)
    assert len(session_of(two).turns) == 0
    assert len(send(ctx, two, REFLECT)[-1].chat) == 3
    assert [t.learner for t in session_of(one).turns] == [GOOD]


@pytest.mark.slow
def test_start_waits_for_the_warm_up_to_finish(ctx: AppContext) -> None:
    import threading

    ctx.warming = threading.Event()
    assert not ctx.warm
    timer = threading.Timer(0.5, ctx.warming.set)
    timer.start()
    view = practice.start(ctx, SCENARIO, practice.COACHING, "Jo")
    assert ctx.warm and view.session is not None
    timer.join()


OTHER = "colleagues-conflict"  # "Row on the shop floor", with Bernie


@pytest.mark.slow
def test_picking_another_situation_mid_conversation_starts_clean_and_says_where_the_old_is(
    ctx: AppContext,
) -> None:
    from simulator.ui import history

    view = started(ctx)
    send(ctx, view, GOOD)
    send(ctx, view, REFLECT)
    switched = practice.switch(view.session, OTHER)
    assert switched is not None
    # Nothing of Sam's conversation is left to mix with Bernie's brief.
    assert switched.session is None and switched.chat == [] and switched.debrief == ""
    assert switched.branch_choices == [] and switched.figures is None and switched.downloads is None
    assert switched.feedback == practice.FEEDBACK_HINT
    assert "reply to Sam" not in switched.status and "replies left" not in switched.status
    assert "You left your conversation with Sam after 2 replies." in switched.status
    assert "kept in My history under Jo, marked not finished" in switched.status
    assert "Row on the shop floor" in switched.status and "talk to Bernie" in switched.status
    assert switched.info is not None and "after 2 replies" in switched.info
    assert switched.notice is None  # not a problem: a note, not a warning
    # What the status promises is true: the two replies are in Jo's history.
    shown = history.history(ctx, "Jo", "jo's passphrase")
    assert [row[1:5] for row in shown.rows] == [
        ["Extra patients, again", "coaching", 2, "not finished"]
    ]
    # Start now plays Bernie, from his opening line.
    bernie = practice.start(ctx, OTHER, practice.COACHING, "Jo")
    assert session_of(bernie).scenario.persona.first_name == "Bernie"
    assert len(bernie.chat) == 1 and "reply to Bernie" in bernie.status


@pytest.mark.slow
def test_picking_another_situation_after_the_debrief_hides_it(ctx: AppContext) -> None:
    view = started(ctx)
    send(ctx, view, GOOD)
    ended = practice.finish(ctx, view.session)
    assert ended.debrief
    switched = practice.switch(ended.session, OTHER)
    assert switched is not None and switched.debrief == "" and switched.session is None
    assert switched.status.startswith("Your conversation with Sam has ended. It is kept in")
    assert "with its scores and transcript" in switched.status


@pytest.mark.slow
def test_picking_another_situation_without_a_name_says_it_is_not_in_history(
    ctx: AppContext,
) -> None:
    view = started(ctx, name="")
    send(ctx, view, GOOD)
    switched = practice.switch(view.session, OTHER)
    assert switched is not None and switched.session is None
    assert "started without a name, so it is not listed in My history" in switched.status


@pytest.mark.slow
def test_picking_a_situation_changes_nothing_it_does_not_need_to(ctx: AppContext) -> None:
    assert practice.switch(None, OTHER) is None  # no conversation yet
    view = started(ctx)
    send(ctx, view, GOOD)
    assert practice.switch(view.session, SCENARIO) is None  # the one already playing
    fresh = started(ctx)  # no reply yet: nothing to report, just the new start
    switched = practice.switch(fresh.session, OTHER)
    assert switched is not None and switched.session is None and switched.info is None
    assert switched.status.startswith("You picked **Row on the shop floor**")
    unknown = practice.switch(view.session, "no-such-scenario")
    assert unknown is not None and unknown.session is None
    assert "Pick a situation above" in unknown.status


def _state_names() -> list[tuple[str, str]]:
    """(first name, state) for every mood state of every shipped scenario."""
    from simulator.content.loading import available_scenarios

    return [
        (s.persona.first_name, state)
        for s in available_scenarios().values()
        for state in s.persona.mood.states
    ]


@pytest.mark.parametrize(("name", "state"), _state_names())
def test_the_debrief_mood_sentence_reads_for_every_state(name: str, state: str) -> None:
    from simulator.ui import formatting

    start = "guarded" if state != "guarded" else "escalated"
    moved = formatting._mood_change(name, start, state)
    words = formatting.mood_words(state)
    assert moved == (
        f"At first {name} was {formatting.mood_words(start)}; by the end {name} was **{words}**."
    )
    stayed = formatting._mood_change(name, state, state)
    assert stayed == f"{name} was {words} at first and still **{words}** at the end."
    assert "-" not in words  # a phrase, not the state's id


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (0.05, "rose a little"),
        (0.0999, "rose a little"),
        (0.11, "rose noticeably"),
        (-0.15, "fell noticeably"),
        (0.2, "rose a lot"),
        (-0.3, "fell a lot"),
    ],
)
def test_trust_changes_are_said_in_words(delta: float, words: str) -> None:
    from simulator.ui.formatting import trust_change_words

    assert trust_change_words(delta) == words


@pytest.mark.slow
def test_the_debrief_says_moods_and_trust_changes_in_words(ctx: AppContext) -> None:
    view = started(ctx)
    # The reflection restates Sam's opening line ("I've still got meds to do"): what the
    # scripted model says may be set aside by the persona's floor for the authored line.
    reflect = "So you've still got all the meds to do, and this feels like one more thing?"
    for line in (GOOD, reflect, "That sounds exhausting, and I'm sorry it's landed on you again."):
        send(ctx, view, line)
    debrief = practice.finish(ctx, view.session).debrief
    assert (
        "3 replies. At first Sam was guarded; by the end Sam was **starting to open up**. "
        "Sam shared 1 of the 2 things on their mind." in debrief
    )
    assert "| Trust rose a little; Sam was still guarded. |" in debrief
    assert "| Trust rose noticeably, and Sam was now **starting to open up**. |" in debrief
    assert "| Trust rose a little; Sam was still starting to open up. |" in debrief
    assert re.search(r"\d\.\d", debrief) is None, debrief  # no "trust rose by 0.10"


@pytest.mark.slow
def test_a_debrief_of_one_reply_says_reply(ctx: AppContext) -> None:
    view = started(ctx)
    send(ctx, view, GOOD)
    summary = practice.finish(ctx, view.session).debrief.split("\n\n")[1]
    assert summary.startswith("1 reply. ")


@pytest.mark.parametrize(
    ("revealed", "total", "sentence"),
    [
        (0, 0, ""),
        (0, 1, "Sam did not share the one thing on their mind."),
        (1, 1, "Sam shared the one thing on their mind."),
        (0, 3, "Sam shared none of the 3 things on their mind."),
        (2, 3, "Sam shared 2 of the 3 things on their mind."),
        (3, 3, "Sam shared all 3 things on their mind."),
    ],
)
def test_the_concerns_sentence_reads_for_every_count(
    revealed: int, total: int, sentence: str
) -> None:
    from simulator.ui.formatting import _concerns

    assert _concerns("Sam", revealed, total) == sentence


def test_equal_behaviour_lines_stay_visible_in_the_debrief_chart() -> None:
    from simulator.content.loading import get_rubric
    from simulator.conversation.transcript import BehaviourSummary, Debrief
    from simulator.ui.charts import behaviours_figure

    same = BehaviourSummary(levels=[1, 2, 2], mean=1.67)
    debrief = Debrief(
        behaviours={
            "attending": BehaviourSummary(levels=[2, 3, 3], mean=2.67),
            "understanding": same,
            "empathising": same,
            "helping": BehaviourSummary(levels=[0, 0, 1], mean=0.33),
        },
        trust=[0.3, 0.35, 0.45, 0.5],
        moods=["guarded", "guarded", "guarded", "opening-up"],
    )
    ax = behaviours_figure(debrief, get_rubric("compassionate-leadership")).axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == [
        "Attending",
        "Understanding",
        "Empathising",
        "Helping",
    ]
    understanding, empathising = (list(line.get_ydata()) for line in lines[1:3])
    gaps = [abs(a - b) for a, b in zip(understanding, empathising, strict=True)]
    assert min(gaps) >= 0.08  # apart on every reply...
    assert all(abs(y - round(y)) < 0.2 for line in lines for y in line.get_ydata())  # ...near
    assert len({line.get_marker() for line in lines}) == 4
    assert len({line.get_linestyle() for line in lines}) == 4
    assert list(ax.get_yticks()) == [0, 1, 2, 3]


@pytest.mark.slow
def test_while_thinking_the_reply_box_and_turn_buttons_are_locked(ctx: AppContext) -> None:
    from simulator.ui.practice_tab import OUTPUT_COUNT, REPLY_HINT, render

    view = started(ctx)
    first, last = send(ctx, view, GOOD)
    assert first.busy and not last.busy
    locked = render(first)
    assert len(locked) == OUTPUT_COUNT
    box = locked[2]
    assert box["interactive"] is False and box["value"] == ""
    assert "Sam is answering" in box["placeholder"]
    assert [u["interactive"] for u in locked[-4:]] == [False] * 4  # Send, End, Start, Branch
    free = render(last)
    assert free[2]["interactive"] is True and free[2]["placeholder"] == REPLY_HINT
    assert [u["interactive"] for u in free[-4:]] == [True] * 4


def test_the_reply_hint_says_what_enter_does() -> None:
    from simulator.ui.practice_tab import REPLY_HINT

    assert "Enter sends" in REPLY_HINT and "Shift+Enter" in REPLY_HINT


@pytest.mark.slow
def test_an_answer_for_a_conversation_left_meanwhile_is_not_shown(ctx: AppContext) -> None:
    from simulator.ui.practice_tab import OUTPUT_COUNT, render

    view = started(ctx)
    steps = practice.send(ctx, view.session, GOOD)
    thinking = next(steps)
    assert thinking.busy
    switched = practice.switch(view.session, OTHER)  # picked while Sam is still "thinking"
    assert switched is not None and switched.session is None
    (late,) = list(steps)
    assert late.stale and late.session is None
    assert render(late) == [{"__type__": "update"}] * OUTPUT_COUNT  # gr.skip(): nothing changes
    # The turn itself is kept: My history still has it.
    stored = ctx.store.load_transcript(session_of(view).transcript.session_id)
    assert [t.learner for t in stored.turns] == [GOOD]


@pytest.mark.slow
def test_a_new_start_while_thinking_also_drops_the_late_answer(ctx: AppContext) -> None:
    view = started(ctx)
    steps = practice.send(ctx, view.session, GOOD)
    next(steps)
    practice.leave(view.session)  # what the Start button does with the tab's old session
    (late,) = list(steps)
    assert late.stale
    again = started(ctx)
    assert not practice.is_left(session_of(again))
