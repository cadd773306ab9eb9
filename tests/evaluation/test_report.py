"""The HTML report: which replies it calls weak, its tips, and how its charts read."""

from __future__ import annotations

from pathlib import Path

from simulator.content.schema import Rubric
from simulator.evaluation.inputs import ReplyRecord
from simulator.evaluation.report import distribution_figure, render_html, trajectory_figure
from simulator.evaluation.results import EvaluationResult
from simulator.scoring.types import DimensionScore, ReplyScore

DIMS = ("attending", "understanding", "empathising", "helping")
TIPS = {0: "Start with one open question.", 1: "Go a step further.", 2: "Nearly there.", 3: ""}


def score(text: str, pitfalls: list[str] | None = None, **levels: int) -> ReplyScore:
    # Like the scorer: a tip that depends on the level, and none at level 3.
    return ReplyScore(
        text=text,
        rubric_id="compassionate-leadership",
        rubric_version=1,
        dimensions={
            d: DimensionScore(level=levels.get(d, 0), tip=TIPS[levels.get(d, 0)]) for d in DIMS
        },
        pitfalls=pitfalls or [],
    )


def report(
    tmp_path: Path, rubric: Rubric, scores: list[ReplyScore]
) -> tuple[str, list[ReplyRecord]]:
    records = [ReplyRecord("t1", i, s.text, "") for i, s in enumerate(scores)]
    result = EvaluationResult(
        out_dir=str(tmp_path), n_replies=len(scores), n_scored=len(scores), n_transcripts=1
    )
    path = tmp_path / "report.html"
    path.write_text(render_html(rubric, records, scores, result), encoding="utf-8")
    return path.read_text(encoding="utf-8"), records


def weakest(html: str) -> str:
    return html.split("<h2>Weakest replies</h2>", 1)[1]


def test_only_weak_replies_are_listed_lowest_first_with_the_tips_due(
    tmp_path: Path, rubric: Rubric
) -> None:
    scores = [
        score("I'll cover your bay for an hour.", helping=3),
        score("Hello.", attending=1),
        score("Just get on with it.", pitfalls=["dismissing"], helping=2),
        score("Did you finish?"),
    ]
    html, _ = report(tmp_path, rubric, scores)
    section = weakest(html)
    assert "cover your bay" not in section  # a reply at helping 3 is not weak
    assert section.index("Did you finish?") < section.index("Hello.") < section.index("get on")
    assert "pitfalls: dismissing" in section
    # Tips only where there is one: "helping: " with nothing after it never appears.
    assert "helping: Nearly there." in section
    assert "<td>4</td><td>Did you finish?" in section  # replies count from 1, as in the app
    assert ": <br>" not in section and ": </td>" not in section


def test_a_report_without_weak_replies_says_so(tmp_path: Path, rubric: Rubric) -> None:
    html, _ = report(tmp_path, rubric, [score("Take your time.", attending=3, empathising=2)])
    section = weakest(html)
    assert "No weak replies" in section and "<table>" not in section
    assert "<td>" not in section


def test_the_trajectory_counts_replies_from_one_in_whole_numbers(rubric: Rubric) -> None:
    import matplotlib.pyplot as plt

    scores = [score(f"reply {i}", attending=i % 4) for i in range(5)]
    records = [ReplyRecord("t1", i, s.text, "") for i, s in enumerate(scores)]
    fig = trajectory_figure(rubric, records, scores)
    ax = fig.axes[0]
    fig.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert ticks == [1, 2, 3, 4, 5]
    assert list(ax.lines[0].get_xdata()) == [1, 2, 3, 4, 5]
    assert ax.get_xlabel() == "reply"
    plt.close(fig)


def test_the_distribution_legend_does_not_cover_the_bars(rubric: Rubric) -> None:
    import matplotlib.pyplot as plt

    fig = distribution_figure(rubric, [score("a"), score("b"), score("c", helping=1)])
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    plt.close(fig)
