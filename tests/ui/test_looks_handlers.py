"""How the charts read: mood words as in the text, labels clear of the axis."""

from __future__ import annotations

from simulator.conversation.transcript import Debrief
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


def test_a_reply_over_several_lines_stays_in_its_debrief_table_cell() -> None:
    from simulator.content.loading import get_scenario
    from simulator.conversation.transcript import Moment, Transcript, Turn
    from simulator.ui.formatting import debrief_markdown

    scenario = get_scenario("workload-conflict")
    moment = Moment(turn=1, learner="That sounds like a lot.\nTell me more?", total=4)
    debrief = Debrief(
        behaviours={}, trust=[0.3, 0.35, 0.45], moods=["guarded"] * 3, turning_points=[moment]
    )
    transcript = Transcript(
        session_id="s",
        scenario_id=scenario.id,
        scenario_version=1,
        rubric_id="compassionate-leadership",
        rubric_version=1,
        model="scripted",
        start_trust=0.3,
        start_mood="guarded",
        opening_line=scenario.persona.opening_line,
        turns=[
            Turn(index=i, learner=line, persona="Right.", mood="guarded", trust=trust)
            for i, (line, trust) in enumerate([("Hi.", 0.35), (moment.learner, 0.45)])
        ],
    )
    text = debrief_markdown(debrief, transcript, scenario)
    rows = [line for line in text.splitlines() if line.startswith("| 2 |")]
    assert len(rows) == 1 and "That sounds like a lot. Tell me more?" in rows[0]
    assert rows[0].count("|") == 4
