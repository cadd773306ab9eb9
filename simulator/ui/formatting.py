"""Markdown for the practice tab: scenario cards, per-reply coaching, the debrief.

Formatting only: every number shown here comes from the library (scores, trust, debrief).
"""

from __future__ import annotations

from simulator.content.schema import Rubric, Scenario
from simulator.conversation.transcript import Debrief, Moment, Transcript, Turn
from simulator.scoring.types import ReplyScore
from simulator.ui.text import as_text, quote

LEVEL_MARKS = {0: "○○○", 1: "●○○", 2: "●●○", 3: "●●●"}

MOOD_WORDS = {
    "escalated": "upset and on edge",
    "guarded": "guarded",
    "opening-up": "starting to open up",
    "opening_up": "starting to open up",
    "collaborative": "ready to work on it with you",
}


def mood_words(mood: str) -> str:
    """A plain phrase for a mood state name."""
    return MOOD_WORDS.get(mood, mood.replace("-", " ").replace("_", " "))


def scenario_card(scenario: Scenario) -> str:
    """What the trainee reads before starting: title, brief, role, difficulty."""
    return (
        f"### {as_text(scenario.title)}\n"
        f"**You are:** {as_text(scenario.learner_role)} &nbsp;·&nbsp; "
        f"**You will talk to:** {as_text(scenario.persona.name)}, "
        f"{as_text(scenario.persona.role.lower())} &nbsp;·&nbsp; "
        f"**Difficulty:** {scenario.difficulty.value} &nbsp;·&nbsp; "
        f"**Up to** {scenario.max_turns} replies\n\n"
        f"{as_text(scenario.brief.strip())}"
    )


def reply_feedback(score: ReplyScore | None, rubric: Rubric, turn_number: int) -> str:
    """Coaching panel for one reply: each behaviour's level, the words that showed it, a tip."""
    if score is None or not score.scored:
        reason = score.unscored_reason if score is not None else "no score"
        return f"**Reply {turn_number}** could not be scored: {as_text(reason or '')}"
    lines = [f"#### How reply {turn_number} landed"]
    for dim_id, dim_score in score.dimensions.items():
        name = rubric.dimension(dim_id).name if dim_id in rubric.dimension_ids else dim_id
        level = dim_score.level if dim_score.level is not None else 0
        label = rubric.scale.get(level, str(level))
        lines.append(f"**{as_text(name)}** {LEVEL_MARKS.get(level, '')} {as_text(label)}")
        if dim_score.evidence:
            spans = ", ".join(quote(span) for span in dim_score.evidence[:3])
            lines.append(f"- What showed it: {spans}")
        # A level-2 tip is the step towards strong and says so ("To make it strong: ..."); the
        # level-3 guard keeps old saved transcripts' "keep doing this" lines out of the panel.
        if level < 3 and dim_score.tip:
            prefix = "Try: " if level < 2 else ""
            lines.append(f"- {prefix}{as_text(dim_score.tip)}")
        lines.append("")
    names = {p.id: p.name for p in rubric.pitfalls}
    for pitfall in score.pitfalls:
        lines.append(f"⚠ **Watch out:** {as_text(names.get(pitfall, pitfall))}")
    return "\n".join(lines)


def mood_line(scenario: Scenario, turn: Turn | None, start_mood: str) -> str:
    """How the colleague seems now (coaching mode shows it after each reply)."""
    mood = turn.mood if turn is not None else start_mood
    # "is", not "seems": the mood phrases read as states ("starting to open up", "guarded").
    return f"{as_text(scenario.persona.first_name)} is **{as_text(mood_words(mood))}**."


def _moment(moment: Moment, heading: str) -> str:
    lines = [f"**{heading}** (reply {moment.turn + 1}): {quote(moment.learner)}"]
    if moment.evidence:
        lines.append("What counted: " + ", ".join(quote(e) for e in moment.evidence[:4]))
    return "\n\n".join(lines)


def plural(count: int, one: str, many: str) -> str:
    """``1 reply``, ``3 replies``."""
    return f"{count} {one if count == 1 else many}"


def _mood_change(name: str, start: str, end: str) -> str:
    # "<name> was <words>" reads for every state name (adjectives and -ing phrases alike), so
    # the sentence is built around it rather than "started <state>", which does not.
    first, last = mood_words(start), mood_words(end)
    if start == end:
        return f"{name} was {first} at first and still **{last}** at the end."
    return f"At first {name} was {first}; by the end {name} was **{last}**."


def _concerns(name: str, revealed: int, total: int) -> str:
    if total == 0:
        return ""
    if total == 1:
        shared = "shared" if revealed else "did not share"
        return f"{name} {shared} the one thing on their mind."
    if revealed == 0:
        return f"{name} shared none of the {total} things on their mind."
    if revealed == total:
        return f"{name} shared all {total} things on their mind."
    return f"{name} shared {revealed} of the {total} things on their mind."


TRUST_AMOUNTS = ((0.20, "a lot"), (0.10, "noticeably"), (0.0, "a little"))
"""Words for how far one reply moved trust (0-1), largest first. A turning point moves it by at
least 0.05 (``simulator.conversation.debrief.TURNING_POINT``). Under the default trust rules a
reply moves it by about 0.3 at most (every behaviour at level 3), and the shipped scenarios' mood
bands are 0.25 wide. So under 0.10 is "a little" (one behaviour shown, or a small slip), 0.10 to
0.20 "noticeably" (a solid listening reply, or dismissing or blaming), and 0.20 or more "a lot"
(most of the way to the next mood)."""


def trust_change_words(delta: float) -> str:
    """'rose a little', 'fell noticeably', 'rose a lot': a trust change a trainee can read."""
    direction = "rose" if delta > 0 else "fell"
    amount = next(words for floor, words in TRUST_AMOUNTS if abs(delta) >= floor)
    return f"{direction} {amount}"


def _what_changed(point: Moment, debrief: Debrief, transcript: Transcript, name: str) -> str:
    turn = next((t for t in transcript.turns if t.index == point.turn), None)
    if turn is None or point.turn + 1 >= len(debrief.moods):
        return as_text(point.note)  # a debrief out of step with its transcript: show it as is
    before, after = debrief.moods[point.turn], debrief.moods[point.turn + 1]
    trust = f"Trust {trust_change_words(turn.trust_delta)}"
    if before == after:
        return f"{trust}; {name} was still {mood_words(after)}."
    return f"{trust}, and {name} was now **{mood_words(after)}**."


def debrief_markdown(debrief: Debrief, transcript: Transcript, scenario: Scenario) -> str:
    """The debrief's words: moments, turning points, concerns heard, what to try next time."""
    name = as_text(scenario.persona.first_name)
    parts = ["## Your debrief"]
    if not transcript.turns:
        parts.append("You ended before replying, so there is nothing to score yet. Try again!")
        return "\n\n".join(parts)
    summary = [
        f"{plural(len(transcript.turns), 'reply', 'replies')}.",
        _mood_change(name, debrief.moods[0], debrief.moods[-1]),
        _concerns(name, debrief.concerns_revealed, debrief.concerns_total),
    ]
    parts.append(" ".join(sentence for sentence in summary if sentence))
    if debrief.strongest is not None:
        parts.append(_moment(debrief.strongest, "Your strongest reply"))
    if debrief.weakest is not None:
        parts.append(_moment(debrief.weakest, "The reply with most room to grow"))
    if debrief.turning_points:
        rows = ["| Reply | What you said | What changed |", "| --- | --- | --- |"]
        for point in debrief.turning_points:
            changed = _what_changed(point, debrief, transcript, name)
            # A reply written over several lines (Shift+Enter) stays in its cell: a newline
            # would end the table row.
            said = " ".join(as_text(point.learner).split())
            rows.append(f"| {point.turn + 1} | {said} | {changed} |")
        parts.append("### The moments that moved trust\n\n" + "\n".join(rows))
    if debrief.suggestions:
        tips = "\n".join(f"- {as_text(s)}" for s in debrief.suggestions)
        parts.append("### What to try next time\n\n" + tips)
    return "\n\n".join(parts)


def transcript_markdown(
    transcript: Transcript, scenario: Scenario | None, rubric: Rubric | None
) -> str:
    """A readable transcript with every reply's scores (the Markdown download)."""
    title = scenario.title if scenario is not None else transcript.scenario_id
    persona = scenario.persona.first_name if scenario is not None else "Colleague"
    lines = [
        f"# {title}",
        "",
        f"- Trainee: {transcript.trainee}",
        f"- Scenario: {transcript.scenario_id} v{transcript.scenario_version}",
        f"- Rubric: {transcript.rubric_id} v{transcript.rubric_version}",
        f"- Mode: {transcript.mode}; model: {transcript.model}",
        f"- Started: {transcript.started_at}; ended: {transcript.ended_at or 'not ended'}",
        "",
        f"**{persona}:** {transcript.opening_line}",
        "",
    ]
    for turn in transcript.turns:
        lines.append(f"**You ({turn.index + 1}):** {turn.learner}")
        if turn.scores is not None and turn.scores.scored:
            levels = []
            for dim_id, score in turn.scores.dimensions.items():
                name = (
                    rubric.dimension(dim_id).name
                    if rubric and dim_id in rubric.dimension_ids
                    else dim_id
                )
                levels.append(f"{name} {score.level}")
            lines.append(f"> Scores: {', '.join(levels)}")
            evidence = [s for d in turn.scores.dimensions.values() for s in d.evidence]
            if evidence:
                lines.append(f"> Evidence: {'; '.join(dict.fromkeys(evidence))}")
            if turn.scores.pitfalls:
                lines.append(f"> Pitfalls: {', '.join(turn.scores.pitfalls)}")
        lines.append(f"> Trust {turn.trust:.2f} ({turn.trust_delta:+.2f}), mood: {turn.mood}")
        lines.append("")
        lines.append(f"**{persona}:** {turn.persona}")
        lines.append("")
    debrief = transcript.debrief
    if debrief is not None and debrief.suggestions:
        lines.append("## What to try next time")
        lines.extend(f"- {s}" for s in debrief.suggestions)
    return "\n".join(lines) + "\n"
