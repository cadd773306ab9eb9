"""Matplotlib figures for the debrief and the history tab (shown in ``gr.Plot``).

Figures are built with ``matplotlib.figure.Figure`` directly, not pyplot, so nothing is kept
in a global registry between requests and the Agg backend is never swapped under a server.
They only draw numbers the library computed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from simulator.content.schema import Rubric
from simulator.conversation.transcript import Debrief
from simulator.evaluation.palette import level_colour
from simulator.ui.formatting import mood_words

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
LINE_STYLES = ["-", "--", "-.", ":"]
SPREAD = 0.1
"""Vertical gap (in levels) between behaviours' lines. Two behaviours often share a level on
every reply; drawn at the same height, one line hides the other and its legend entry points at
nothing. A tenth of a level is about 6 pixels at this figure size: far enough apart to see
both, near enough to read as the same level (four lines sit within 0.15 of it; the y ticks
stay at the whole levels)."""


def _figure(height: float = 3.2) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, height), dpi=100, layout="constrained")


def _name(rubric: Rubric | None, dim_id: str) -> str:
    if rubric is not None and dim_id in rubric.dimension_ids:
        return rubric.dimension(dim_id).name
    return dim_id


def _line(
    ax: Any, i: int, count: int, xs: list[int], ys: list[float], label: str, spread: float
) -> None:
    """Draw line ``i`` of ``count`` with its own colour, marker and dash, ``spread`` apart.

    Colour alone is not enough: lines that coincide, colour-blind readers, greyscale prints.
    """
    offset = (i - (count - 1) / 2) * spread
    ax.plot(
        xs,
        [y + offset for y in ys],
        label=label,
        color=COLOURS[i % len(COLOURS)],
        marker=MARKERS[i % len(MARKERS)],
        linestyle=LINE_STYLES[i % len(LINE_STYLES)],
        markersize=6,
        linewidth=1.8,
    )


def behaviours_figure(debrief: Debrief, rubric: Rubric | None) -> Figure:
    """The four behaviours' levels (0-3) across the replies of one session."""
    fig = _figure()
    ax = fig.add_subplot()
    count = len(debrief.behaviours)
    for i, (dim_id, summary) in enumerate(debrief.behaviours.items()):
        xs = [n + 1 for n, level in enumerate(summary.levels) if level is not None]
        ys = [float(level) for level in summary.levels if level is not None]
        _line(ax, i, count, xs, ys, _name(rubric, dim_id), SPREAD)
    scale = rubric.scale if rubric is not None else {0: "0", 1: "1", 2: "2", 3: "3"}
    ax.set_yticks(sorted(scale), [scale[k] for k in sorted(scale)])
    ax.set_ylim(-0.3, 3.3)
    turns = max((len(s.levels) for s in debrief.behaviours.values()), default=0)
    ax.set_xticks(range(1, turns + 1))
    ax.set_xlabel("Your reply")
    if turns == 1:
        ax.set_xlim(0.5, 1.5)  # one reply: keep the markers off the frame
    ax.set_title("The four behaviours, reply by reply")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def trust_figure(debrief: Debrief, persona_name: str) -> Figure:
    """Trust before the first reply and after each one, with the mood and turning points."""
    fig = _figure(3.0)
    ax = fig.add_subplot()
    xs = list(range(len(debrief.trust)))
    ax.plot(xs, debrief.trust, color="#444444", marker="o", label="trust")
    for point in debrief.turning_points:
        x = point.turn + 1
        if x < len(debrief.trust):
            change = debrief.trust[x] - debrief.trust[x - 1]
            # Grey where trust could not move (already at its highest or lowest).
            colour = "#2ca02c" if change > 0 else "#d62728" if change < 0 else "#888888"
            ax.scatter([x], [debrief.trust[x]], s=140, color=colour, zorder=3)
            ax.annotate(
                f"reply {x}",
                (x, debrief.trust[x]),
                textcoords="offset points",
                xytext=(0, 10),
                ha="center",
                fontsize=8,
            )
    for x, mood in enumerate(debrief.moods):
        if x == 0 or mood != debrief.moods[x - 1]:
            # The words the debrief's text uses ("upset and on edge", not "escalated"), under
            # the point, or over it near the bottom so they never run into the axis.
            low = debrief.trust[x] < 0.3
            ax.annotate(
                textwrap.fill(mood_words(mood), 16),
                (x, debrief.trust[x]),
                textcoords="offset points",
                xytext=(0, 24 if low else -10),  # above any "reply N" label
                ha="center",
                va="bottom" if low else "top",
                fontsize=8,
                color="#555555",
            )
    ax.set_ylim(0, 1)
    ax.set_xticks(xs, ["start", *[str(x) for x in xs[1:]]])
    ax.set_xlabel("Your reply (green: trust rose, red: trust fell)")
    ax.set_ylabel("trust")
    ax.set_title(f"How {persona_name}'s trust moved")
    ax.grid(alpha=0.3)
    return fig


def _short(title: str, width: int = 24) -> str:
    """A scenario title wrapped (and cut) to fit under one tick of the progress chart."""
    return "\n".join(textwrap.wrap(title, width, max_lines=2, placeholder="…")) or title


def progress_figure(
    progress: list[tuple[str, str, dict[str, float]]], rubric: Rubric | None
) -> Figure:
    """A trainee's mean level per behaviour in each past session, oldest first.

    Args:
        progress: ``(started_at, scenario title, {behaviour: mean level})`` per session.
    """
    fig = _figure()
    ax = fig.add_subplot()
    if not progress:
        ax.text(0.5, 0.5, "No scored sessions yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    dims = list(dict.fromkeys(d for _, _, levels in progress for d in levels))
    xs = list(range(1, len(progress) + 1))
    for i, dim_id in enumerate(dims):
        points = [
            (x, levels[dim_id])
            for x, (_, _, levels) in zip(xs, progress, strict=True)
            if dim_id in levels
        ]
        xs_i, ys_i = [p[0] for p in points], [p[1] for p in points]
        # Averages sit on a continuous scale, so only a hair apart here: markers and dashes
        # tell coinciding lines apart, a bigger offset would misstate the average.
        _line(ax, i, len(dims), xs_i, ys_i, _name(rubric, dim_id), 0.04)
    # Session number and time as well as the date: a day's practice would otherwise show the
    # same label under every tick.
    labels = [
        f"{n}. {started[:10]} {started[11:16]}\n{_short(title)}"
        for n, (started, title, _) in enumerate(progress, start=1)
    ]
    ax.set_xticks(xs, labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylim(-0.1, 3.1)
    ax.set_ylabel("average level (0-3)")
    ax.set_title("Your progress per behaviour, session by session")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def agreement_figure(report: Any) -> Figure:
    """AUROC per behaviour with its 95% interval, next to the plain baseline's."""
    fig = _figure()
    ax = fig.add_subplot()
    dims = list(report.dimensions)
    for i, dim_id in enumerate(dims):
        dim = report.dimensions[dim_id]
        for offset, value, ci, colour, label in (
            (-0.12, dim.auroc, dim.auroc_ci, COLOURS[0], "scorer"),
            (0.12, dim.baseline_auroc, dim.baseline_auroc_ci, "#999999", "baseline"),
        ):
            if value is None:
                continue
            low, high = ci if ci else (value, value)
            ax.errorbar(
                [i + offset],
                [value],
                yerr=[[value - low], [high - value]],
                fmt="o",
                color=colour,
                capsize=4,
                label=label if i == 0 else None,
            )
    ax.axhline(0.5, color="#cccccc", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(dims)), dims)
    ax.set_ylim(0, 1)
    ax.set_ylabel("AUROC (95% interval)")
    ax.set_title("Agreement with human ratings")
    ax.legend(loc="lower right", frameon=False)
    return fig


def levels_figure(dimensions: dict[str, dict[str, Any]]) -> Figure:
    """How many replies reached each level, per behaviour (from a batch evaluation summary)."""
    fig = _figure()
    ax = fig.add_subplot()
    dims = list(dimensions)
    width = 0.2
    for level in range(4):
        counts = [int(dimensions[d].get("levels", {}).get(str(level), 0)) for d in dims]
        ax.bar(
            [i + (level - 1.5) * width for i in range(len(dims))],
            counts,
            width,
            label=f"level {level}",
            color=level_colour(level),
        )
    ax.set_xticks(range(len(dims)), dims)
    ax.set_ylabel("replies")
    ax.set_title("Levels reached, per behaviour")
    ax.legend(frameon=False, fontsize=8)
    return fig
