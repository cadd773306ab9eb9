"""How the charts read: mood words as in the text, labels clear of the axis."""

from __future__ import annotations

from simulator.transcript import Debrief
from simulator.ui.charts import trust_figure
from simulator.ui.formatting import mood_words


def test_trust_chart_uses_the_texts_mood_words_and_keeps_them_off_the_axis() -> None:
    debrief = Debrief(
        behaviours={},
        trust=[0.05, 0.1, 0.45, 0.8],
        moods=["escalated", "escalated", "opening-up", "collaborative"],
    )
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = trust_figure(debrief, "Sam")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    texts = [t for t in ax.texts if t.get_text()]
    words = [t.get_text().replace("\n", " ") for t in texts]
    assert words == [mood_words(m) for m in ("escalated", "opening-up", "collaborative")]
    assert "upset and on edge" in words and "escalated" not in words
    axis_bottom = ax.get_window_extent().y0
    renderer = canvas.get_renderer()
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.y0 > axis_bottom, text.get_text()  # above the x axis, not into it
