"""Trainee commands: ``chat`` (interactive, in the terminal) and ``run`` (a scripted session)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from simulator.content.schema import DEFAULT_RUBRIC_ID
from simulator.models.base import ModelError
from simulator.scoring.embeddings import EmbedderError


def register(subparsers: Any) -> None:
    """Add ``chat`` and ``run``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--scenario", required=True, help="scenario id or path to a YAML file")
    common.add_argument(
        "--model",
        default=None,
        help="persona model: 'embedded' (default), a Hugging Face model id, "
        "a local folder or a .gguf file (or set RAPPORT_MODEL)",
    )
    common.add_argument("--seed", type=int, default=None, help="same seed, same transcript")
    common.add_argument("--db", default=None, help="SQLite file (default: your data folder)")
    common.add_argument("--trainee", default="anonymous", help="name stored with the session")

    chat = subparsers.add_parser(
        "chat", parents=[common], help="practise a conversation in the terminal"
    )
    chat.set_defaults(handler=chat_command)

    run = subparsers.add_parser(
        "run", parents=[common], help="play learner lines from a file and print the transcript"
    )
    run.add_argument("--script", required=True, help="text file: one learner line per line")
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.set_defaults(handler=run_command)
    register_checks(subparsers)
    warmup = subparsers.add_parser(
        "warmup", help="convert the persona model once and prepare the scorer (set-up step)"
    )
    warmup.add_argument("--model", default=None)
    warmup.set_defaults(handler=warmup_command)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _start(args: argparse.Namespace) -> Any:
    """A session, or an error message (str) a user can act on."""
    from simulator.content.loading import LoadError, UnknownNameError
    from simulator.services import Services
    from simulator.store.database import StoreError

    try:
        services = Services(store=args.db, model=args.model)
        return services.start_session(args.scenario, seed=args.seed, trainee=args.trainee)
    except (LoadError, UnknownNameError, ModelError, StoreError, EmbedderError) as exc:
        return str(exc)


def _levels(turn: Any) -> str:
    scores = turn.scores
    if scores is None or not scores.scored:
        return "unscored"
    return "  ".join(f"{dim} {score.level}" for dim, score in scores.dimensions.items())


def turn_json(turn: Any) -> dict[str, Any]:
    """One turn in the shape the issue fixes for ``run --json``."""
    scores = turn.scores.dimensions if turn.scores is not None else {}
    return {
        "learner": turn.learner,
        "persona": turn.persona,
        "scores": {
            dim: {"level": s.level, "evidence": s.evidence, "tip": s.tip}
            for dim, s in scores.items()
        },
        "pitfalls": turn.scores.pitfalls if turn.scores is not None else [],
        "mood": turn.mood,
        "trust": turn.trust,
        "source": turn.source,
    }


def run_command(args: argparse.Namespace) -> int:
    """Play the script's lines in order; print the transcript (or JSON) on stdout."""
    from simulator.conversation.session import InputError

    script = Path(args.script)
    try:
        lines = [line.strip() for line in script.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(
            f"cannot read the script {script}: {exc}. Give a UTF-8 text file with one "
            "learner line per line."
        )
    lines = [line for line in lines if line]
    if not lines:
        return _fail(f"{script} has no learner lines; write one line per learner reply.")
    session = _start(args)
    if isinstance(session, str):
        return _fail(session)
    name = session.scenario.persona.first_name
    if not args.json:
        print(f"{name}: {session.scenario.persona.opening_line}")
    for number, line in enumerate(lines, start=1):
        if session.finished:
            print(
                f"note: the scenario ends after {session.scenario.max_turns} turns; "
                f"{len(lines) - number + 1} line(s) not played",
                file=sys.stderr,
            )
            break
        try:
            turn = session.respond(line)
        except InputError as exc:
            print(f"line {number} skipped: {exc}", file=sys.stderr)
            continue
        except ModelError as exc:
            return _fail(
                f"the persona model failed at line {number}: {exc}. The turns before it are saved."
            )
        print(
            f"turn {number}: {turn.source}, mood {turn.mood}, trust {turn.trust:.2f}",
            file=sys.stderr,
        )
        if not args.json:
            print(f"\nYou: {turn.learner}\n   [{_levels(turn)}]\n{name}: {turn.persona}")
    debrief = session.end()
    if args.json:
        payload = {
            "scenario": session.scenario.id,
            "scenario_version": session.scenario.version,
            "rubric": session.rubric.id,
            "rubric_version": session.rubric.version,
            "model": session.transcript.model,
            "seed": args.seed,
            "session_id": session.transcript.session_id,
            "start_trust": session.transcript.start_trust,
            "turns": [turn_json(t) for t in session.turns],
            "debrief": debrief.model_dump(),
        }
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print("\n" + format_debrief(session))
    return 0


def format_debrief(session: Any) -> str:
    """The debrief as plain text for the terminal."""
    debrief = session.transcript.debrief or session.debrief()
    lines = ["Debrief", "-------"]
    for dim, summary in debrief.behaviours.items():
        levels = " ".join("-" if lvl is None else str(lvl) for lvl in summary.levels)
        lines.append(f"{dim:<14} {levels}   mean {summary.mean}")
    lines.append("trust          " + " -> ".join(f"{t:.2f}" for t in debrief.trust))
    lines.append("mood           " + " -> ".join(debrief.moods))
    if debrief.strongest:
        lines.append(
            f"strongest      turn {debrief.strongest.turn + 1}: {debrief.strongest.learner!r}"
        )
    if debrief.weakest:
        lines.append(f"room to grow   turn {debrief.weakest.turn + 1}: {debrief.weakest.learner!r}")
    lines.extend(f"next time      {s}" for s in debrief.suggestions)
    return "\n".join(lines)


def chat_command(args: argparse.Namespace) -> int:
    """Interactive practice: type replies; an empty line or /end ends with the debrief."""
    from simulator.conversation.session import InputError

    session = _start(args)
    if isinstance(session, str):
        return _fail(session)
    scenario = session.scenario
    print(
        f"{scenario.title}\n\n{scenario.brief.strip()}\n\nYou are: {scenario.learner_role}. "
        "Type your reply and press Enter; /end finishes and shows the debrief.\n"
    )
    name = scenario.persona.first_name
    print(f"{name}: {scenario.persona.opening_line}")
    while not session.finished:
        try:
            line = input("You: ")
        except EOFError:
            break
        if line.strip() in ("/end", "/quit"):
            break
        try:
            turn = session.respond(line)
        except InputError as exc:
            print(f"  ({exc})")
            continue
        except ModelError as exc:
            print(f"  (the persona model failed: {exc}; your turns so far are saved)")
            continue
        print(f"   [{_levels(turn)}]")
        tips = (
            [s.tip for s in turn.scores.dimensions.values() if s.level == 0 and s.tip][:1]
            if turn.scores
            else []
        )
        for tip in tips:
            print(f"   tip: {tip}")
        print(f"{name}: {turn.persona}")
    session.end()
    print("\n" + format_debrief(session))
    return 0


def register_checks(subparsers: Any) -> None:
    """Add ``persona-eval`` (``persona-check`` is its old name)."""
    check = subparsers.add_parser(
        "persona-eval",
        aliases=["persona-check"],
        help="play every script in a folder and rate each persona reply in context",
    )
    check.add_argument("--scenario", required=True)
    check.add_argument("--scripts", required=True, help="folder of *.txt learner scripts")
    check.add_argument("--model", default=None)
    check.add_argument("--seed", type=int, default=1)
    check.add_argument("--db", default=None)
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=persona_check_command, trainee="persona-check")


def persona_check_command(args: argparse.Namespace) -> int:
    """Run each script in its own session; print per-script and overall figures."""
    from simulator.evaluation.persona_check import play_script, read_scripts, summary
    from simulator.persona.critic import load_critic
    from simulator.scoring.twin import get_scorer_embedder

    folder = Path(args.scripts)
    if not folder.is_dir():
        return _fail(f"{folder} is not a folder; give a folder of *.txt learner scripts.")
    scripts = read_scripts(folder)
    if not scripts:
        return _fail(f"{folder} has no *.txt scripts.")
    results = []
    critic = None
    for name, lines in scripts.items():
        session = _start(args)
        if isinstance(session, str):
            return _fail(session)
        try:
            if critic is None:
                critic = load_critic(get_scorer_embedder().encode)
            results.append(play_script(session, name, lines, critic))
        except ModelError as exc:
            return _fail(f"the persona model failed in script {name}: {exc}")
        session.end()
        print(f"{name}: done", file=sys.stderr)
    report = summary(results)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    for result in results:
        print(
            f"{result.script:<12} all four {result.all_four}/{result.replies}  "
            f"fallbacks {result.fallbacks}  trust {result.start_trust:.2f} -> "
            f"{result.end_trust:.2f}  mean levels/turn {result.mean_total}"
        )
        for index, failed in enumerate(result.failed):
            if failed:
                print(
                    f"    turn {index + 1} fails {', '.join(failed)}: "
                    f"{result.transcript[index][1]!r}"
                )
    criteria = report["criteria"]
    assert isinstance(criteria, dict)
    print(
        "overall: "
        + ", ".join(f"{c.replace('_', ' ')} {rate:.0%}" for c, rate in criteria.items())
        + f"; all four {report['all_four_rate']:.0%}, fallbacks {report['fallback_rate']:.0%}, "
        f"longest reply {report['max_words']} words"
    )
    return 0


def warmup_command(args: argparse.Namespace) -> int:
    """Load the persona model and the default scorer once, so their caches exist."""
    from simulator.content.loading import LoadError, UnknownNameError
    from simulator.services import Services

    # Tuning the scorer's encoder takes minutes on a first run: show its progress.
    logging.getLogger("simulator.scoring.tuning").setLevel(logging.INFO)
    services = Services(model=args.model)
    try:
        model = services.model()
        services.scorer().score("How are you doing?")
    except (ModelError, LoadError, UnknownNameError, EmbedderError) as exc:
        return _fail(str(exc))
    print(f"ready: persona model {model.name}, scorer {DEFAULT_RUBRIC_ID}", file=sys.stderr)
    return 0
