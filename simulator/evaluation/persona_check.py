"""Persona evaluation: play learner scripts through the real session and rate every reply.

Used by ``rapport persona-eval`` (``persona-check`` is its old name) and the real-model tests.
Each persona reply is rated afresh in context, independently of the guard that chose it
(``simulator.persona.evaluation``): checks for what is certain (assistant-speak, role reversal,
talk about instructions, hidden concerns said before they were earned, repeats) and, when the
critic's weights are there, the critic's verdict per criterion (in character, coherent,
responsive, non-repeating, no leak).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from simulator.conversation.session import Session
from simulator.persona.critic import CRITERIA, Critic
from simulator.persona.evaluation import READER_CRITERIA, rate_reply
from simulator.persona.guards import ASSISTANT, INSTRUCTION_LEAK, ROLE_REVERSAL
from simulator.persona.state import concerns_earned_in

MAX_WORDS = 60


@dataclass
class ScriptResult:
    """How one scripted conversation went."""

    script: str
    replies: int
    in_character: int
    fallbacks: int
    verbatim_beats: int
    max_words: int
    start_trust: float
    end_trust: float
    mean_total: float
    problems: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str, str]] = field(default_factory=list)
    passed: dict[str, int] = field(default_factory=dict)
    """Replies passing each criterion (checks and critic)."""
    all_four: int = 0
    """Replies passing all four reader criteria."""
    failed: list[list[str]] = field(default_factory=list)
    """Per reply, the criteria it fails."""
    ratings: list[dict[str, object]] = field(default_factory=list)


def _earned_by(session: Session, index: int) -> set[int]:
    """Hidden concerns earned by the end of turn ``index``."""
    earned = {i for t in session.turns[: index + 1] for i in t.revealed}
    return earned | concerns_earned_in(session.scenario.persona, session.transcript.start_mood)


def reply_problems(session: Session, index: int) -> list[str]:
    """Why reply ``index`` of a played session is out of character (empty when it is fine)."""
    turn = session.turns[index]
    text = turn.persona
    problems = []
    if len(text.split()) > MAX_WORDS:
        problems.append(f"over {MAX_WORDS} words")
    for name, pattern in (
        ("assistant-speak", ASSISTANT),
        ("role reversal", ROLE_REVERSAL),
        ("talks about instructions", INSTRUCTION_LEAK),
    ):
        if pattern.search(text):
            problems.append(name)
    earned = _earned_by(session, index)
    for i, concern in enumerate(session.scenario.persona.hidden_concerns):
        if i not in earned and any(
            re.search(rf"\b{re.escape(k)}", text, re.IGNORECASE) for k in concern.keywords
        ):
            problems.append("hidden concern before it was earned")
    return problems


def _forbidden_at(session: Session, index: int) -> list[str]:
    earned = _earned_by(session, index)
    return [
        keyword
        for i, concern in enumerate(session.scenario.persona.hidden_concerns)
        if i not in earned
        for keyword in concern.keywords
    ]


def play_script(
    session: Session, name: str, lines: list[str], critic: Critic | None = None
) -> ScriptResult:
    """Play every line (until the scenario ends) and rate each persona reply in context."""
    for line in lines:
        if session.finished:
            break
        session.respond(line)
    problems: list[str] = []
    in_character = 0
    for index, turn in enumerate(session.turns):
        found = reply_problems(session, index)
        if found:
            problems.append(f"turn {index + 1}: {', '.join(found)}: {turn.persona!r}")
        else:
            in_character += 1
    totals = [
        sum(turn.scores.level(d) for d in turn.scores.dimensions)
        for turn in session.turns
        if turn.scores is not None
    ]
    beats = {
        b
        for s in session.scenario.persona.mood.states.values()
        for lines_ in s.beats.values()
        for b in lines_
    }
    passed = dict.fromkeys(CRITERIA, 0)
    all_four = 0
    ratings: list[dict[str, object]] = []
    failed: list[list[str]] = []
    for index, turn in enumerate(session.turns):
        earlier = [session.transcript.opening_line, *(t.persona for t in session.turns[:index])]
        rating = rate_reply(
            turn.persona,
            turn.learner,
            earlier,
            forbidden_keywords=_forbidden_at(session, index),
            critic=critic,
        )
        for criterion, ok in rating.passed.items():
            passed[criterion] += ok
        all_four += rating.all_four
        failed.append([c for c, ok in rating.passed.items() if not ok])
        ratings.append({"passed": rating.passed, "checks": rating.checks, "critic": rating.critic})
    return ScriptResult(
        script=name,
        replies=len(session.turns),
        in_character=in_character,
        fallbacks=sum(t.source == "fallback" for t in session.turns),
        verbatim_beats=sum(t.source == "model" and t.persona in beats for t in session.turns),
        max_words=max((len(t.persona.split()) for t in session.turns), default=0),
        start_trust=session.transcript.start_trust,
        end_trust=session.turns[-1].trust if session.turns else session.transcript.start_trust,
        mean_total=round(sum(totals) / len(totals), 2) if totals else 0.0,
        problems=problems,
        transcript=[(t.learner, t.persona, t.source) for t in session.turns],
        passed=passed,
        all_four=all_four,
        failed=failed,
        ratings=ratings,
    )


def read_scripts(folder: Path) -> dict[str, list[str]]:
    """Every ``*.txt`` in a folder: one learner line per non-empty line."""
    return {
        path.stem: [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        for path in sorted(folder.glob("*.txt"))
    }


def summary(results: list[ScriptResult]) -> dict[str, object]:
    """Totals over all scripts, for the closing note and the JSON output."""
    replies = sum(r.replies for r in results)
    return {
        "replies": replies,
        "in_character_rate": round(sum(r.in_character for r in results) / max(1, replies), 3),
        "fallback_rate": round(sum(r.fallbacks for r in results) / max(1, replies), 3),
        "verbatim_beat_rate": round(sum(r.verbatim_beats for r in results) / max(1, replies), 3),
        "max_words": max((r.max_words for r in results), default=0),
        "criteria": {
            c: round(sum(r.passed.get(c, 0) for r in results) / max(1, replies), 3)
            for c in CRITERIA
        },
        "all_four_rate": round(sum(r.all_four for r in results) / max(1, replies), 3),
        "reader_criteria": list(READER_CRITERIA),
        "scripts": {r.script: asdict(r) for r in results},
    }
