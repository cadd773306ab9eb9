"""Course-designer commands: ``rapport agreement`` and ``rapport evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from simulator.content.schema import DEFAULT_RUBRIC_ID as DEFAULT_RUBRIC


def register(subparsers: Any) -> None:
    """Add the ``agreement`` and ``evaluate`` sub-commands."""
    agreement = subparsers.add_parser(
        "agreement",
        help="measure how well the scorer agrees with human labels",
        description=(
            "Score every row of a labelled CSV (columns: text, optional context and conv_id, and "
            "one column per rubric dimension with 0/1 or a level 0-3) and report per dimension: "
            "AUROC with a 95% interval from a bootstrap over conversations, F1 at the scorer's "
            "threshold, weighted kappa and Spearman for ordinal labels, and a plain baseline."
        ),
    )
    agreement.add_argument("file", metavar="FILE.csv", help="labelled CSV")
    agreement.add_argument("--rubric", default=DEFAULT_RUBRIC, help="rubric id or YAML path")
    agreement.add_argument("--json", action="store_true", help="print only a JSON summary")
    _add_judge(agreement)
    agreement.set_defaults(handler=agreement_command)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="score every learner reply in transcripts and write reports",
        description=(
            "Score every learner reply in TRANSCRIPTS (a transcript as the app downloads it, a "
            "JSON list of transcripts, JSONL with one transcript per line, or CSV with text, "
            "optional context, transcript_id/conv_id and turn) and write per-reply CSV/JSON, "
            "per-transcript and per-dimension summaries and an HTML report to --out. Reports "
            "already there are kept unless --force is given; text cells a spreadsheet would run "
            "as a formula (starting with = + - @) get a leading ' in the CSV files."
        ),
    )
    evaluate.add_argument("transcripts", metavar="TRANSCRIPTS", help=".json, .jsonl or .csv file")
    evaluate.add_argument("--rubric", default=DEFAULT_RUBRIC, help="rubric id or YAML path")
    evaluate.add_argument(
        "--out", required=True, metavar="DIR", help="folder for the reports (created if missing)"
    )
    evaluate.add_argument(
        "--force",
        action="store_true",
        help=(
            "replace reports already in --out (never the input file, never through a symbolic link)"
        ),
    )
    _add_judge(evaluate)
    evaluate.set_defaults(handler=evaluate_command)


def _add_judge(parser: Any) -> None:
    parser.add_argument(
        "--judge",
        metavar="MODEL_SPEC",
        help=(
            "rate with a chat model as judge instead of the built-in scorer, e.g. "
            "openai:<model> or hf:<model>; needs a capable model (see docs/deployment.md)"
        ),
    )


def _scorer(args: argparse.Namespace, rubric: Any) -> Any:
    """The LLM judge when ``--judge`` names a model, else the rubric scorer."""
    from simulator.services import Services

    services = Services()
    return services.judge(args.judge, rubric) if args.judge else services.scorer(rubric)


def _rubric(name: str) -> Any:
    from simulator.services import Services

    return Services().rubric(name)


def _progress_bar(total_hint: str) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=0, unit="reply", desc=total_hint, file=sys.stderr, disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    update.close = bar.close  # type: ignore[attr-defined]
    return update


def _user_errors() -> tuple[type[BaseException], ...]:
    from simulator.evaluation.agreement import AgreementError
    from simulator.evaluation.inputs import EvaluationError
    from simulator.models.base import ModelError
    from simulator.scoring.embeddings import EmbedderError

    errors: list[type[BaseException]] = [
        AgreementError,
        EvaluationError,
        EmbedderError,
        ModelError,
        OSError,
    ]
    try:
        from simulator.content.loading import LoadError, UnknownNameError

        errors += [LoadError, UnknownNameError]
    except ImportError:
        pass
    errors.append(ValueError)
    return tuple(errors)


def _describe(exc: BaseException) -> str:
    """A user error as one line: an OSError without Python's "[Errno N]" prefix."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}; check the path and its permissions"
    return str(exc)


def agreement_command(args: argparse.Namespace) -> int:
    """Run the agreement harness; with ``--json`` stdout holds only the JSON summary.

    Returns:
        0 on success, 2 when the file or rubric cannot be used.
    """
    from simulator.evaluation.agreement import run_agreement

    try:
        rubric = _rubric(args.rubric)
        scorer = _scorer(args, rubric)
        progress = _progress_bar("judging" if args.judge else "scoring")
        try:
            report = run_agreement(args.file, rubric, scorer, progress=progress)
        finally:
            progress.close()
    except _user_errors() as exc:
        print(f"rapport agreement: {_describe(exc)}", file=sys.stderr)
        return 2
    for bad in report.bad_rows:
        print(f"skipped line {bad.line}: {bad.reason}", file=sys.stderr)
    if report.bad_rows:
        print(f"{len(report.bad_rows)} bad rows skipped", file=sys.stderr)
    for dim, measured in report.dimensions.items():
        if measured.unlabelled:
            print(
                f"{dim}: {measured.unlabelled} of {report.n} rows have no label for it (left "
                "out of this dimension only)",
                file=sys.stderr,
            )
    for row in report.unscored:
        print(f"unscored line {row.line}: {row.reason}", file=sys.stderr)
    if report.unscored:
        print(
            f"{len(report.unscored)} of {report.n} replies unscored (left out of every dimension)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report.summary_json()))
        return 0
    judged = f" (LLM judge {args.judge})" if args.judge else ""
    print(
        f"{report.n} rows, {report.n - len(report.unscored)} scored, {len(report.unscored)} "
        f"unscored, with {report.rubric_id} v{report.rubric_version}{judged}"
    )
    header = f"{'dimension':<16}{'n':>6}{'pos':>6}  {'AUROC [95% CI]':<24}{'F1':>6}  baseline"
    print(header)
    for dim, m in report.dimensions.items():
        if m.auroc is None:
            print(f"{dim:<16}{m.n:>6}{m.positives:>6}  null: {m.reason}")
            continue
        ci = f"[{m.auroc_ci[0]:.3f}, {m.auroc_ci[1]:.3f}]" if m.auroc_ci else "[n/a]"
        extra = f"  kappa {m.kappa}, spearman {m.spearman}" if m.ordinal else ""
        print(
            f"{dim:<16}{m.n:>6}{m.positives:>6}  {m.auroc:.3f} {ci:<17}{m.f1:>6.3f}  "
            f"{m.baseline_auroc} ({m.baseline}){extra}"
        )
    print(f"mean AUROC: {report.mean_auroc}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    """Score transcripts and write the reports.

    Returns:
        0 on success, 2 when the input or rubric cannot be used.
    """
    from simulator.evaluation.batch import evaluate_file, prepare_out_dir
    from simulator.evaluation.inputs import check_input_file

    try:
        # Before the scorer loads and scores: a bad --out must not cost a whole run, and a
        # mistyped input must not leave an empty --out folder behind.
        check_input_file(Path(args.transcripts))
        prepare_out_dir(args.out, "--out", inputs=[args.transcripts], force=args.force)
        rubric = _rubric(args.rubric)
        scorer = _scorer(args, rubric)
        progress = _progress_bar("judging" if args.judge else "scoring")
        try:
            result = evaluate_file(
                args.transcripts, rubric, args.out, progress, scorer, force=args.force
            )
        finally:
            progress.close()
    except _user_errors() as exc:
        print(f"rapport evaluate: {_describe(exc)}", file=sys.stderr)
        return 2
    for bad in result.malformed:
        print(f"skipped line {bad.line}: {bad.reason}", file=sys.stderr)
    transcripts = "transcript" if result.n_transcripts == 1 else "transcripts"
    print(
        f"{result.n_replies} replies ({result.n_scored} scored) from {result.n_transcripts} "
        f"{transcripts}; {len(result.malformed)} malformed lines skipped"
    )
    for name, path in result.files.items():
        print(f"{name}: {path}")
    return 0
