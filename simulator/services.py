"""The composition root: the one place the app and the commands get their parts from.

:class:`Services` hands out the scenario and rubric catalogue, the session store, persona models
by spec, the scorer for a rubric, an LLM judge, and ready-to-play sessions built from them. The
UI and the commands are thin callers of it; nothing else assembles a session.

What is expensive to build is built once per process and shared by every ``Services``: a
scorer fits its regressions when it is made (seconds), and a model's weights are read once
(``simulator.models.load_model`` keeps one per spec). Scorers are read-only after they are
built, so sharing them between sessions and threads is safe.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from simulator.content.loading import (
    available_rubrics,
    available_scenarios,
    get_rubric,
    get_scenario,
)
from simulator.content.schema import DEFAULT_RUBRIC_ID, Rubric, Scenario
from simulator.conversation.session import Session
from simulator.models import ChatModel, load_model
from simulator.scoring.types import Scorer
from simulator.store.database import Store

if TYPE_CHECKING:
    from simulator.scoring.scorer import RubricScorer

Mode = Literal["coaching", "assessment"]

_scorers: dict[tuple[str, int], RubricScorer] = {}
_scorers_lock = threading.Lock()


class Services:
    """Parts for one app or one command, built on first use.

    Args:
        store: The session database: a ``Store``, a path, or None for the default file
            (opened on first use, so commands that store nothing never create it).
        model: The persona model spec for new sessions (None: ``RAPPORT_MODEL`` or embedded).
    """

    def __init__(self, store: Store | Path | str | None = None, model: str | None = None) -> None:
        self._store = store if isinstance(store, Store) else None
        self._store_path = None if isinstance(store, Store) else store
        self.model_spec = model
        self._lock = threading.Lock()

    # -- catalogue ----------------------------------------------------------------------------

    def scenarios(self) -> dict[str, Scenario]:
        """Every scenario that loads (shipped and saved), by id."""
        return available_scenarios()

    def scenario(self, name: str) -> Scenario:
        """A scenario by id or path (raises ``UnknownNameError`` or ``LoadError``)."""
        return get_scenario(name)

    def rubrics(self) -> dict[str, Rubric]:
        """Every rubric that loads, by id."""
        return available_rubrics()

    def rubric(self, name: str | None = None) -> Rubric:
        """A rubric by id or path; the default rubric when ``name`` is None."""
        return get_rubric(name or DEFAULT_RUBRIC_ID)

    def default_rubric(self) -> Rubric | None:
        """The default rubric, else any rubric that loads (None when none does)."""
        rubrics = self.rubrics()
        return rubrics.get(DEFAULT_RUBRIC_ID) or next(iter(rubrics.values()), None)

    # -- parts --------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The session database, opened on first use (raises ``StoreError``)."""
        with self._lock:
            if self._store is None:
                self._store = Store(self._store_path)
            return self._store

    def model(self, spec: str | None = None) -> ChatModel:
        """A persona model by spec (this Services' own spec when None); loaded once per process."""
        return load_model(spec or self.model_spec)

    def scorer(self, rubric: Rubric | None = None) -> RubricScorer:
        """The rubric scorer for a rubric (the default one when None), built once per process."""
        chosen = rubric or self.rubric()
        key = (chosen.id, chosen.version)
        with _scorers_lock:
            if key not in _scorers:
                from simulator.scoring.scorer import RubricScorer

                _scorers[key] = RubricScorer(chosen)
            return _scorers[key]

    def judge(self, spec: str, rubric: Rubric | None = None) -> Scorer:
        """An LLM judge that rates replies on a rubric with the chat model ``spec``."""
        from simulator.scoring.judge import LLMJudgeScorer

        return LLMJudgeScorer(rubric or self.rubric(), self.model(spec))

    # -- sessions -----------------------------------------------------------------------------

    def start_session(
        self,
        scenario: str | Scenario,
        *,
        seed: int | None = None,
        trainee: str = "anonymous",
        mode: Mode = "coaching",
        model: str | None = None,
    ) -> Session:
        """A new stored session for a scenario id (or path, or model), with the real scorer.

        Raises:
            UnknownNameError: No scenario or rubric by that name.
            LoadError: A named file is not valid.
            ModelError: The persona model cannot be loaded.
            StoreError: The database cannot be opened.
        """
        return self._session(scenario, model, seed, self.store, trainee, mode)

    def preview_session(self, scenario: Scenario, *, model: str | None = None) -> Session:
        """A throwaway session that is never stored (for trying a scenario while writing it)."""
        return self._session(scenario, model, None, None, "preview", "coaching")

    def _session(
        self,
        scenario: str | Scenario,
        model: str | None,
        seed: int | None,
        store: Store | None,
        trainee: str,
        mode: Mode,
    ) -> Session:
        chosen = scenario if isinstance(scenario, Scenario) else self.scenario(scenario)
        rubric = self.rubric(chosen.rubric)
        scorer = self.scorer(rubric)
        chat_model = self.model(model)
        # The persona re-ranks with the shipped MiniLM vectors; the scorer's embedder gives them
        # without loading MiniLM a second time.
        from simulator.persona.critic import load_critic
        from simulator.scoring.twin import get_scorer_embedder

        encode = get_scorer_embedder().encode
        return Session(
            chosen,
            rubric,
            scorer,
            chat_model,
            store=store,
            seed=seed,
            trainee=trainee,
            mode=mode,
            encode=encode,
            critic=load_critic(encode),
        )
