"""The HTML report of a batch evaluation: plots as embedded PNGs, every user text escaped."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.schema import Rubric
from simulator.scoring.types import ReplyScore

if TYPE_CHECKING:
    from simulator.evaluation.batch import EvaluationResult, ReplyRecord

WEAKEST = 10


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _distribution_plot(rubric: Rubric, scores: list[ReplyScore]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = rubric.dimension_ids
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / 4
    x = np.arange(len(dims))
    for level in range(4):
        counts = [sum(1 for s in scores if s.scored and s.level(d) == level) for d in dims]
        ax.bar(x + level * width - 0.3, counts, width, label=f"{level}: {rubric.scale[level]}")
    ax.set_xticks(x, dims)
    ax.set_ylabel("replies")
    ax.set_title("Levels per dimension")
    ax.legend(fontsize=8)
    return _png(fig)


def _trajectory_plot(rubric: Rubric, records: list[ReplyRecord], scores: list[ReplyScore]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    turns = sorted({r.turn for r in records})
    for dim in rubric.dimension_ids:
        means = []
        for turn in turns:
            levels = [
                s.level(dim)
                for r, s in zip(records, scores, strict=True)
                if r.turn == turn and s.scored
            ]
            means.append(float(np.mean(levels)) if levels else np.nan)
        ax.plot(turns, means, marker="o", label=dim)
    ax.set_xlabel("turn")
    ax.set_ylabel("mean level")
    ax.set_ylim(0, 3)
    ax.set_title("Mean level across turns")
    ax.legend(fontsize=8)
    return _png(fig)


def write_html(
    path: Path,
    rubric: Rubric,
    records: list[ReplyRecord],
    scores: list[ReplyScore],
    result: EvaluationResult,
) -> str:
    """Write the report and return its path."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Rapport evaluation: {esc(rubric.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        "table{border-collapse:collapse}</style></head><body>",
        f"<h1>Evaluation with {esc(rubric.title)} (v{rubric.version})</h1>",
        f"<p>{result.n_replies} replies from {result.n_transcripts} transcripts; "
        f"{result.n_scored} scored; {len(result.malformed)} malformed lines skipped.</p>",
        "<h2>Per dimension</h2><table><tr><th>dimension</th><th>mean level</th>"
        "<th>share present</th></tr>",
    ]
    for dim, info in result.dimensions.items():
        parts.append(
            f"<tr><td>{esc(dim)}</td><td>{info['mean_level']}</td>"
            f"<td>{info['share_present']}</td></tr>"
        )
    parts.append("</table>")
    if result.n_scored:
        parts.append(
            f"<h2>Distribution</h2><img alt='levels per dimension' "
            f"src='data:image/png;base64,{_distribution_plot(rubric, scores)}'>"
        )
        parts.append(
            f"<h2>Trajectory</h2><img alt='mean level across turns' "
            f"src='data:image/png;base64,{_trajectory_plot(rubric, records, scores)}'>"
        )
    parts.append(
        "<h2>Weakest replies</h2><table><tr><th>transcript</th><th>turn</th>"
        "<th>reply</th><th>levels</th><th>evidence</th><th>tips</th></tr>"
    )
    scored = [(r, s) for r, s in zip(records, scores, strict=True) if s.scored]
    scored.sort(key=lambda pair: sum(pair[1].level(d) for d in rubric.dimension_ids))
    for record, score in scored[:WEAKEST]:
        levels = ", ".join(f"{d} {score.level(d)}" for d in rubric.dimension_ids)
        evidence = "<br>".join(
            f"{esc(d)}: “{esc(span)}”" for d, ds in score.dimensions.items() for span in ds.evidence
        )
        tips = "<br>".join(
            f"{esc(d)}: {esc(ds.tip)}" for d, ds in score.dimensions.items() if ds.level != 3
        )
        if score.pitfalls:
            levels += "<br>pitfalls: " + esc(", ".join(score.pitfalls))
        parts.append(
            f"<tr><td>{esc(record.transcript_id)}</td><td>{record.turn}</td>"
            f"<td>{esc(record.text)}</td><td>{levels}</td><td>{evidence}</td><td>{tips}</td></tr>"
        )
    parts.append("</table>")
    if result.malformed:
        parts.append("<h2>Skipped lines</h2><ul>")
        parts.extend(f"<li>line {m.line}: {esc(m.reason)}</li>" for m in result.malformed)
        parts.append("</ul>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return str(path)
