"""Play every eval script through the engine of the repo this runs in; write one JSON file.

usage: PYTHONPATH=<repo> python examples/transcripts/play.py examples/eval OUT.json [SEED]
(run it in a checkout of the engine to measure; the engine before issue 11 is d93c386)
"""

import json
import sys
import tempfile
import time
from pathlib import Path

from simulator.services import Services

eval_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 11
only = sys.argv[4].split(",") if len(sys.argv) > 4 else None
services = Services(store=str(Path(tempfile.mkdtemp()) / "s.db"))
unseen = {p.stem: p for p in (eval_dir / "scenarios").glob("*.yaml")}
results = []
for folder in sorted((eval_dir / "scripts").iterdir()):
    if only and folder.name not in only:
        continue
    scenario = str(unseen.get(folder.name, folder.name))
    for script in sorted(folder.glob("*.txt")):
        lines = [x.strip() for x in script.read_text().splitlines() if x.strip()]
        session = services.start_session(scenario, seed=seed, trainee="eval")
        started = time.perf_counter()
        for line in lines:
            if session.finished:
                break
            session.respond(line)
        t = session.transcript
        results.append(
            {
                "scenario": folder.name,
                "script": script.stem,
                "opening": t.opening_line,
                "start_trust": t.start_trust,
                "seconds_per_reply": round(
                    (time.perf_counter() - started) / max(1, len(t.turns)), 2
                ),
                "turns": [
                    {
                        "learner": x.learner,
                        "persona": x.persona,
                        "source": x.source,
                        "mood": x.mood,
                        "trust": x.trust,
                        "move": x.move,
                        "revealed": x.revealed,
                    }
                    for x in t.turns
                ],
            }
        )
        print(folder.name, script.stem, results[-1]["seconds_per_reply"], flush=True)
        out.write_text(json.dumps(results, indent=1))
