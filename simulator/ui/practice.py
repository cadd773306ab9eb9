"""Practice tab handlers: start, send, end, try again, go back, pick another situation.

Handlers are plain functions over a :class:`PracticeView` so they can be tested without a
browser; :mod:`simulator.ui.practice_tab` wires them to Gradio components. Each browser tab
keeps its own :class:`~simulator.conversation.session.Session` in a ``gr.State``, so two trainees
never see each other's conversation.
"""

from __future__ import annotations

import html
import json
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from simulator.content.loading import LoadError, UnknownNameError, available_scenarios
from simulator.content.schema import Scenario
from simulator.conversation.session import InputError, Session
from simulator.models.base import ModelError
from simulator.store.database import StoreError
from simulator.ui.context import ANONYMOUS, AppContext, clean_name
from simulator.ui.formatting import (
    debrief_markdown,
    mood_line,
    plural,
    reply_feedback,
    scenario_card,
    transcript_markdown,
)
from simulator.ui.text import as_text

Mode = Literal["coaching", "assessment"]
COACHING = "Coaching: feedback after every reply"
ASSESSMENT = "Assessment: feedback only at the end"
MODE_CHOICES = [COACHING, ASSESSMENT]
FEEDBACK_HINT = (
    "_After each reply you will see how it landed on the four behaviours: "
    "attending, understanding, empathising and helping._"
)

Message = dict[str, str]


@dataclass
class PracticeView:
    """Everything the practice tab shows for one browser session.

    Attributes:
        session: The conversation (None before the first start).
        chat: Chatbot messages (``{"role", "content"}``), already escaped.
        feedback: Coaching panel Markdown.
        status: One line under the chat (mood, or what to do next).
        notice: A problem to show as a pop-up warning (None when all is well).
        info: News that is not a problem, shown as a pop-up note (None when there is none).
        reply: What stays in the reply box (kept after an error so nothing typed is lost).
        debrief: Debrief Markdown ('' hides the debrief area).
        figures: (behaviours, trust) matplotlib figures once the session has ended.
        downloads: (JSON, Markdown) transcript files once the session has ended.
        branch_choices: (label, turn index) pairs for "try a different reply".
        busy: A reply is being generated: the reply box and the buttons that would start
            another turn are locked, so nothing typed meanwhile is lost or sent twice.
        stale: The result belongs to a conversation the trainee has since left (another
            situation picked, or a new start): show nothing of it.
    """

    session: Session | None = None
    chat: list[Message] = field(default_factory=list)
    feedback: str = ""
    status: str = ""
    notice: str | None = None
    info: str | None = None
    reply: str = ""
    debrief: str = ""
    figures: tuple[Any, Any] | None = None
    downloads: tuple[Path, Path] | None = None
    branch_choices: list[tuple[str, int]] = field(default_factory=list)
    busy: bool = False
    stale: bool = False


# Conversations the trainee has moved away from (another situation picked, a new start) while
# one of their replies may still be in the model. ``send`` checks this before showing the
# answer: the browser's state already holds the new situation, and writing the old session back
# would put it under the new card. Weak, so a left session is forgotten with its last reference.
_left: weakref.WeakSet[Session] = weakref.WeakSet()


def leave(session: Session | None) -> None:
    """Mark a conversation as left: an answer still being generated for it is not shown."""
    if session is not None:
        _left.add(session)


def is_left(session: Session) -> bool:
    """True once the trainee has moved away from this conversation (see :func:`leave`)."""
    return session in _left


def scenario_choices() -> list[tuple[str, str]]:
    """("title (difficulty)", id) for every scenario that loads, easiest first."""
    order = {"easy": 0, "medium": 1, "hard": 2}
    scenarios = sorted(
        available_scenarios().values(), key=lambda s: (order[s.difficulty.value], s.title)
    )
    return [(f"{s.title} ({s.difficulty.value})", s.id) for s in scenarios]


def describe(scenario_id: str | None) -> str:
    """The card for a picked scenario (or a hint to pick one)."""
    scenario = available_scenarios().get(scenario_id or "")
    if scenario is None:
        return "Pick a situation above to read the brief."
    return scenario_card(scenario)


def mode_of(label: str | None) -> Mode:
    """The session mode for a mode radio label."""
    return "assessment" if label == ASSESSMENT else "coaching"


def chat_messages(session: Session) -> list[Message]:
    """The whole conversation so far as Chatbot messages, every text escaped."""
    messages = [{"role": "assistant", "content": as_text(session.scenario.persona.opening_line)}]
    for turn in session.turns:
        messages.append({"role": "user", "content": as_text(turn.learner)})
        messages.append({"role": "assistant", "content": as_text(turn.persona)})
    return messages


def _branch_choices(session: Session) -> list[tuple[str, int]]:
    choices = []
    for turn in session.turns:
        text = turn.learner if len(turn.learner) <= 60 else turn.learner[:57] + "..."
        choices.append((f"Reply {turn.index + 1}: {text}", turn.index))
    return choices


def _coaching(session: Session) -> str:
    if session.transcript.mode == "assessment":
        return "_Assessment mode: you will see how you did when you end the conversation._"
    if not session.turns:
        return "_After each reply you will see how it landed on the four behaviours._"
    last = session.turns[-1]
    return reply_feedback(last.scores, session.rubric, last.index + 1)


def _status(session: Session) -> str:
    name = as_text(session.scenario.persona.first_name)
    left = session.scenario.max_turns - len(session.turns)
    if session.finished:
        return "The conversation has ended. Read your debrief below, or try again."
    mood = ""
    if session.transcript.mode == "coaching":
        last = session.turns[-1] if session.turns else None
        mood = mood_line(session.scenario, last, session.transcript.start_mood) + " "
    return f"{mood}Your turn: reply to {name}. {left} replies left."


def view_of(session: Session, ctx: AppContext | None = None, **changes: Any) -> PracticeView:
    """The view of a session in progress (or ended: then with its debrief and downloads)."""
    view = PracticeView(
        session=session,
        chat=chat_messages(session),
        feedback=_coaching(session),
        status=_status(session),
        branch_choices=_branch_choices(session),
    )
    if session.transcript.debrief is not None:
        view = _with_debrief(view, session, ctx)
    return replace(view, **changes)


def _with_debrief(
    view: PracticeView, session: Session, ctx: AppContext | None = None
) -> PracticeView:
    from simulator.ui.charts import behaviours_figure, trust_figure

    debrief = session.transcript.debrief or session.debrief()
    figures = (
        behaviours_figure(debrief, session.rubric),
        trust_figure(debrief, session.scenario.persona.first_name),
    )
    downloads = write_downloads(session, ctx.download_dir()) if ctx is not None else None
    feedback = view.feedback
    if session.transcript.mode == "assessment" and session.turns:
        feedback = "\n\n---\n\n".join(
            reply_feedback(t.scores, session.rubric, t.index + 1) for t in session.turns
        )
    return replace(
        view,
        debrief=debrief_markdown(debrief, session.transcript, session.scenario),
        figures=figures,
        downloads=downloads,
        feedback=feedback,
    )


def write_downloads(session: Session, folder: Path) -> tuple[Path, Path]:
    """Write the transcript with its scores as JSON and Markdown; return both paths."""
    transcript = session.transcript
    stem = f"rapport-{transcript.scenario_id}-{transcript.session_id[:8]}"
    safe = re.sub(r"[^a-z0-9-]", "", stem)
    json_path = folder / f"{safe}.json"
    md_path = folder / f"{safe}.md"
    json_path.write_text(
        json.dumps(transcript.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    md_path.write_text(
        transcript_markdown(transcript, session.scenario, session.rubric), encoding="utf-8"
    )
    return json_path, md_path


def _scenario(scenario_id: str | None) -> Scenario | None:
    # Only ids from the catalogue: start_session would also accept a file path, and a request
    # sent to the API directly must not make the server read an arbitrary file.
    return available_scenarios().get(scenario_id or "")


def _where_kept(session: Session) -> str:
    """Where an earlier conversation can still be found (the store keeps every turn as sent)."""
    trainee = session.transcript.trainee
    if trainee == ANONYMOUS:
        # History lists sessions by name only, so one started without a name is listed nowhere.
        return "It was started without a name, so it is not listed in My history."
    if session.transcript.ended_at is None:
        return f"It is kept in My history under {trainee}, marked not finished."
    return f"It is kept in My history under {trainee}, with its scores and transcript."


def switch(session: Session | None, scenario_id: str | None) -> PracticeView | None:
    """What the tab shows once another situation is picked (None: nothing needs to change).

    A conversation with one colleague must never carry on under another's brief: the chat,
    coaching, debrief and "Try again" would then mix two scenarios. So picking a different
    situation clears the tab to the new situation's start, and the status line (and a pop-up)
    says what became of the earlier conversation: nothing is ended or dropped silently.
    """
    if session is None or session.scenario.id == scenario_id:
        return None
    leave(session)
    scenario = _scenario(scenario_id)
    if scenario is None:
        status = "Pick a situation above, then press **Start conversation**."
    else:
        status = (
            f"You picked **{as_text(scenario.title)}**. Read the brief, then press "
            f"**Start conversation** to talk to {as_text(scenario.persona.first_name)}."
        )
    name = session.scenario.persona.first_name
    count = len(session.turns)
    if session.transcript.ended_at is not None:
        earlier = f"Your conversation with {name} has ended."
    elif count:
        replies = plural(count, "reply", "replies")
        earlier = f"You left your conversation with {name} after {replies}."
    else:
        return PracticeView(feedback=FEEDBACK_HINT, status=status)  # nothing was said yet
    earlier = f"{earlier} {_where_kept(session)}"
    return PracticeView(
        feedback=FEEDBACK_HINT,
        status=f"{as_text(earlier)} {status}",
        info=html.escape(earlier),  # pop-ups render HTML
    )


def start(
    ctx: AppContext, scenario_id: str | None, mode_label: str | None, trainee: str | None
) -> PracticeView:
    """Start a new conversation; the persona's opening line is the first message."""
    scenario = _scenario(scenario_id)
    if scenario is None:
        return PracticeView(notice="Pick a situation first, then press Start conversation.")
    ctx.wait_until_warm()
    try:
        session = ctx.services.start_session(
            scenario,
            trainee=clean_name(trainee) or ANONYMOUS,
            mode=mode_of(mode_label),
        )
    except ModelError as exc:
        return PracticeView(notice=f"The practice colleague could not be started: {exc}")
    except (LoadError, UnknownNameError, StoreError) as exc:
        return PracticeView(notice=f"This situation cannot be started: {exc}")
    return view_of(session, ctx)


def send(ctx: AppContext, session: Session | None, line: str | None) -> Iterator[PracticeView]:
    """Play one reply: first show it with a "thinking" note, then the persona's answer.

    Problems (no conversation, empty or too-long reply, model failure) come back as a notice;
    the finished turns and the typed reply are kept.
    """
    if session is None:
        yield PracticeView(notice="Press Start conversation first.", reply=line or "")
        return
    try:
        text = session.check_input(line)
    except InputError as exc:
        yield view_of(session, ctx, notice=str(exc), reply=line or "")
        return
    name = as_text(session.scenario.persona.first_name)
    thinking = [
        *chat_messages(session),
        {"role": "user", "content": as_text(text)},
        {"role": "assistant", "content": f"_{name} is thinking…_"},
    ]
    yield view_of(
        session,
        ctx,
        chat=thinking,
        status=f"{name} is thinking… this takes a few seconds.",
        busy=True,
    )
    outcome = _answer(ctx, session, text, name)
    # The turn is stored either way (My history shows it); if the tab has moved on to another
    # situation meanwhile, the answer must not be written back over it.
    yield PracticeView(stale=True) if is_left(session) else outcome


def _answer(ctx: AppContext, session: Session, text: str, name: str) -> PracticeView:
    """Play ``text`` and return the view after it (a notice with the reply kept on failure)."""
    try:
        session.respond(text)
    except InputError as exc:
        return view_of(session, ctx, notice=str(exc), reply=text)
    except ModelError as exc:
        return view_of(
            session,
            ctx,
            notice=f"{name} could not answer just now ({exc}). Your earlier replies are kept; "
            "press Send to try again.",
            reply=text,
        )
    except StoreError as exc:
        return view_of(session, ctx, notice=f"Your reply could not be saved: {exc}", reply=text)
    if session.finished:
        return finish(ctx, session)
    return view_of(session, ctx)


def finish(ctx: AppContext, session: Session | None) -> PracticeView:
    """End the conversation and show the debrief, charts and downloads."""
    if session is None:
        return PracticeView(notice="There is no conversation to end. Press Start conversation.")
    try:
        session.end()
    except StoreError as exc:
        return view_of(session, ctx, notice=f"The debrief could not be saved: {exc}")
    return view_of(session, ctx)


def try_again(ctx: AppContext, session: Session | None) -> PracticeView:
    """A fresh conversation with the same situation, mode and name."""
    if session is None:
        return PracticeView(notice="Press Start conversation first.")
    transcript = session.transcript
    label = ASSESSMENT if transcript.mode == "assessment" else COACHING
    leave(session)
    return start(ctx, transcript.scenario_id, label, transcript.trainee)


def go_back(ctx: AppContext, session: Session | None, turn_index: int | None) -> PracticeView:
    """Continue from just before an earlier reply, to try a different one there."""
    if session is None:
        return PracticeView(notice="Press Start conversation first.")
    if turn_index is None:
        return view_of(session, ctx, notice="Choose the reply you want to change first.")
    try:
        branched = session.branch(int(turn_index))
    except InputError as exc:
        return view_of(session, ctx, notice=str(exc))
    except StoreError as exc:
        return view_of(session, ctx, notice=f"Could not go back: {exc}")
    return view_of(
        branched,
        ctx,
        status=f"Back before reply {int(turn_index) + 1}. Type a different reply. "
        + _status(branched),
    )
