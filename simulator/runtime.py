"""Building a ready-to-play session from names: the one place the app and CLI assemble parts.

Models, scorers and the embedder are built once per process and shared between sessions (the
persona model is guarded by a lock; scorers are read-only after construction).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

from simulator.loading import get_rubric, get_scenario
from simulator.models import load_model
from simulator.schema import Rubric, Scenario
from simulator.scoring.types import Scorer
from simulator.session import Session
from simulator.store import Store

_lock = threading.Lock()
_scorers: dict[tuple[str, int], Scorer] = {}


def scorer_for(rubric: Rubric) -> Scorer:
    """The scorer for a rubric, built once per process."""
    from simulator.scoring import RubricScorer

    key = (rubric.id, rubric.version)
    with _lock:
        if key not in _scorers:
            _scorers[key] = RubricScorer(rubric)
        return _scorers[key]


def _build(
    scenario: str | Scenario,
    model: str | None,
    seed: int | None,
    store: Store | None,
    trainee: str,
    mode: Literal["coaching", "assessment"],
) -> Session:
    chosen = scenario if isinstance(scenario, Scenario) else get_scenario(scenario)
    rubric = get_rubric(chosen.rubric)
    scorer = scorer_for(rubric)
    chat_model = load_model(model)
    # The persona re-ranks with the shipped MiniLM vectors; the scorer's embedder gives them
    # without loading MiniLM a second time.
    from simulator.scoring import get_scorer_embedder

    return Session(
        chosen,
        rubric,
        scorer,
        chat_model,
        store=store,
        seed=seed,
        trainee=trainee,
        mode=mode,
        encode=get_scorer_embedder().encode,
    )


def start_session(
    scenario: str | Scenario,
    *,
    model: str | None = None,
    seed: int | None = None,
    store: Store | Path | str | None = None,
    trainee: str = "anonymous",
    mode: Literal["coaching", "assessment"] = "coaching",
) -> Session:
    """A new stored session for a scenario id (or path, or model), with the real scorer and model.

    ``store`` is a Store, a database path, or None for the default database.

    Raises:
        UnknownNameError: no scenario or rubric by that name.
        LoadError: a named file is not valid.
        ModelError: the persona model cannot be loaded.
        StoreError: the database cannot be opened.
    """
    database = store if isinstance(store, Store) else Store(store)
    return _build(scenario, model, seed, database, trainee, mode)


def preview_session(scenario: Scenario, *, model: str | None = None) -> Session:
    """A throwaway session that is never stored (for trying a scenario while writing it)."""
    return _build(scenario, model, None, None, "preview", "coaching")
