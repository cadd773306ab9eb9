"""The HTML report of a batch evaluation: plots as embedded PNGs, every user text escaped."""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.content.schema import Rubric
from simulator.evaluation.palette import level_colour
from simulator.scoring.types import ReplyScore

if TYPE_CHECKING:
    from simulator.evaluation.inputs import ReplyRecord
    from simulator.evaluation.results import EvaluationResult

WEAKEST = 10
WEAK_BELOW = 2
"""A reply is weak when no behaviour reaches this level (2: competent) or it shows a pitfall; a
single reply is not expected to show every behaviour, so one strong behaviour is enough."""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def distribution_figure(rubric: Rubric, scores: list[ReplyScore]) -> Any:
    """Bars of how many replies reached each level, per dimension."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = rubric.dimension_ids
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / 4
    x = np.arange(len(dims))
    for level in range(4):
        counts = [sum(1 for s in scores if s.scored and s.level(d) == level) for d in dims]
        ax.bar(
            x + level * width - 0.3,
            counts,
            width,
            label=f"{level}: {rubric.scale[level]}",
            color=level_colour(level),  # the same colours as the app's charts
        )
    ax.set_xticks(x, dims)
    ax.set_ylabel("replies")
    ax.set_title("Levels per dimension")
    # Outside the axes: inside, the legend hides the first dimension's bars.
    ax.legend(fontsize=8, title="level", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def trajectory_figure(rubric: Rubric, records: list[ReplyRecord], scores: list[ReplyScore]) -> Any:
    """Mean level per dimension at each reply number (1 = the first reply)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

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
        # Turns count from 0 in the data; the app and the table below say "reply 1".
        ax.plot([t + 1 for t in turns], means, marker="o", label=dim)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(min(turns) + 0.5, max(turns) + 1.5)
    ax.set_xlabel("reply")
    ax.set_ylabel("mean level")
    ax.set_ylim(0, 3)
    ax.set_yticks(range(4))
    ax.set_title("Mean level across replies")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def _is_weak(score: ReplyScore, dims: list[str]) -> bool:
    return bool(score.pitfalls) or max(score.level(d) for d in dims) < WEAK_BELOW


def _mean_level(score: ReplyScore, dims: list[str]) -> float:
    return sum(score.level(d) for d in dims) / len(dims)


def _weakest_section(
    rubric: Rubric, records: list[ReplyRecord], scores: list[ReplyScore]
) -> list[str]:
    """The weak replies, lowest mean level first, with their evidence and the tips due."""
    esc = html.escape
    dims = rubric.dimension_ids
    competent = esc(rubric.scale.get(WEAK_BELOW, str(WEAK_BELOW)))
    weak = [
        (r, s)
        for r, s in zip(records, scores, strict=True)
        if s.scored and dims and _is_weak(s, dims)
    ]
    # A pitfall breaks a tie; a stable sort keeps equally weak replies in file order.
    weak.sort(key=lambda pair: (_mean_level(pair[1], dims), -len(pair[1].pitfalls)))
    parts = ["<h2>Weakest replies</h2>"]
    if not weak:
        parts.append(
            f"<p>No weak replies: every scored reply reached level {WEAK_BELOW} ({competent}) "
            "on at least one behaviour and showed no pitfall.</p>"
        )
        return parts
    parts.append(
        f"<p>Replies that reached no behaviour at level {WEAK_BELOW} ({competent}) or showed a "
        f"pitfall, lowest mean level first ({min(len(weak), WEAKEST)} of {len(weak)} shown).</p>"
        "<table><tr><th>transcript</th><th>reply</th>"
        "<th>text</th><th>levels</th><th>evidence</th><th>tips</th></tr>"
    )
    for record, score in weak[:WEAKEST]:
        levels = ", ".join(f"{d} {score.level(d)}" for d in dims)
        evidence = "<br>".join(
            f"{esc(d)}: “{esc(span)}”" for d, ds in score.dimensions.items() for span in ds.evidence
        )
        # The scorer leaves the tip empty when none is due (level 3).
        tips = "<br>".join(
            f"{esc(d)}: {esc(ds.tip.strip())}"
            for d, ds in score.dimensions.items()
            if ds.tip.strip()
        )
        if score.pitfalls:
            levels += "<br>pitfalls: " + esc(", ".join(score.pitfalls))
        parts.append(
            f"<tr><td>{esc(record.transcript_id)}</td><td>{record.turn + 1}</td>"
            f"<td>{esc(record.text)}</td><td>{levels}</td><td>{evidence}</td><td>{tips}</td></tr>"
        )
    parts.append("</table>")
    return parts


def render_html(
    rubric: Rubric,
    records: list[ReplyRecord],
    scores: list[ReplyScore],
    result: EvaluationResult,
) -> str:
    """The report as one HTML page, every user text escaped."""
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
            f"src='data:image/png;base64,{_png(distribution_figure(rubric, scores))}'>"
        )
        parts.append(
            f"<h2>Trajectory</h2><img alt='mean level across replies' "
            f"src='data:image/png;base64,{_png(trajectory_figure(rubric, records, scores))}'>"
        )
    parts.extend(_weakest_section(rubric, records, scores))
    if result.malformed:
        parts.append("<h2>Skipped lines</h2><ul>")
        parts.extend(f"<li>line {m.line}: {esc(m.reason)}</li>" for m in result.malformed)
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
