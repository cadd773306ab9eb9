"""Time the Evaluate tab on six replies: a scorer built per run (as before) vs the app's own.

``python -m bench.evaluate_tab`` (with ``RAPPORT_HOME`` set to a scratch folder). Building a
``RubricScorer`` refits its regressions on the labelled set, which is what dominated a run; the
tab now reuses the scorer the app warmed at start (``Services.scorer``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def main() -> None:
    """Print the seconds each way takes."""
    from simulator.content.loading import get_rubric
    from simulator.evaluation.batch import evaluate_file
    from simulator.scoring import RubricScorer
    from simulator.services import Services
    from simulator.store.database import Store
    from simulator.ui import evaluate
    from simulator.ui.context import AppContext

    rubric = get_rubric("compassionate-leadership")
    folder = Path(tempfile.mkdtemp())
    csv = folder / "six.csv"
    lines = [
        f't1,{i},"That sounds really hard. What happened on shift {i}?","I am exhausted"'
        for i in range(6)
    ]
    csv.write_text("transcript_id,turn,text,context\n" + "\n".join(lines) + "\n")
    start = time.perf_counter()
    scorer = RubricScorer(rubric)
    built = time.perf_counter() - start
    start = time.perf_counter()
    evaluate_file(csv, rubric, folder / "before", scorer=scorer)
    scored = time.perf_counter() - start
    print(f"before: a new RubricScorer {built:.1f} s + scoring 6 replies {scored:.1f} s")
    Services().scorer(rubric)  # what the app's warm-up does once at start
    ctx = AppContext(store=Store(":memory:"), downloads=folder)
    for run in (1, 2):
        start = time.perf_counter()
        evaluate.run(ctx, True, str(csv), evaluate.BATCH, lambda fraction, note: None)
        print(f"after: Evaluate tab run {run}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
