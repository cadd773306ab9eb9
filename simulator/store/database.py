"""SQLite persistence of practice sessions: sessions, turns and per-behaviour scores.

Every turn is written in its own transaction as soon as it happens, so a crash (or a closed
browser tab) loses no finished turn. The database runs in WAL mode; one connection per
``Store`` is shared between threads behind a lock (Gradio serves requests from a thread pool),
and several processes may open the same file (SQLite's busy timeout makes them take turns).

Scenario and rubric versions are stored with every session, so results stay interpretable when
the files change. ``schema_version`` records the table layout; an older file is migrated when
it is opened (version 2 added the case-insensitive trainee key and the ``trainees`` table of
personal passphrase hashes, keeping every stored session: the first passphrase chosen for a name
claims it and its earlier sessions).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.conversation.transcript import Debrief, Transcript, Turn, utc_now
from simulator.scoring.types import DimensionScore, ReplyScore
from simulator.store.trainees import name_key

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    scenario_version INTEGER NOT NULL,
    rubric_id TEXT NOT NULL,
    rubric_version INTEGER NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER,
    trainee TEXT NOT NULL,
    mode TEXT NOT NULL,
    start_trust REAL NOT NULL,
    start_mood TEXT NOT NULL,
    opening_line TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    debrief TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    trainee_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS sessions_by_trainee ON sessions (trainee, started_at);
CREATE INDEX IF NOT EXISTS sessions_by_trainee_key ON sessions (trainee_key, started_at);
CREATE TABLE IF NOT EXISTS trainees (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    turn_index INTEGER NOT NULL,
    learner TEXT NOT NULL,
    persona TEXT NOT NULL,
    move TEXT NOT NULL,
    mood TEXT NOT NULL,
    trust REAL NOT NULL,
    trust_delta REAL NOT NULL,
    source TEXT NOT NULL,
    revealed TEXT NOT NULL,
    created_at TEXT NOT NULL,
    scored INTEGER NOT NULL,
    score_text TEXT,
    score_rubric_id TEXT,
    score_rubric_version INTEGER,
    pitfalls TEXT,
    unscored_reason TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    score_scorer TEXT NOT NULL DEFAULT '',
    score_scorer_version TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, turn_index)
);
CREATE TABLE IF NOT EXISTS scores (
    session_id TEXT NOT NULL,
    turn_index INTEGER NOT NULL,
    dimension TEXT NOT NULL,
    level INTEGER,
    probability REAL,
    evidence TEXT NOT NULL,
    explanation TEXT NOT NULL,
    tip TEXT NOT NULL,
    PRIMARY KEY (session_id, turn_index, dimension),
    FOREIGN KEY (session_id, turn_index) REFERENCES turns (session_id, turn_index)
        ON DELETE CASCADE
);
"""

# Cohorts (a facilitator's group of trainees, joined with a code the facilitator gives out).
# Created if missing whenever a file is opened, so they need no schema version of their own and
# a file without them (older, or opened by an older Rapport) works either way.
_COHORT_SCHEMA = """
CREATE TABLE IF NOT EXISTS cohorts (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cohort_members (
    code TEXT NOT NULL REFERENCES cohorts (code) ON DELETE CASCADE,
    trainee TEXT NOT NULL,
    trainee_key TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (code, trainee_key)
);
"""

# Migrations from version N to N+1 (lists of statements), run in order inside the opening
# transaction when an older file is opened. ``rapport_name_key`` is
# simulator.store.trainees.name_key, registered on every connection (SQLite's own lower() folds
# ASCII only).
_MIGRATIONS: dict[int, list[str]] = {
    # 1 -> 2: names compared by key and kept by a passphrase; which scorer, and which version
    # of it, rated each reply ("" for older rows).
    1: [
        "ALTER TABLE sessions ADD COLUMN trainee_key TEXT NOT NULL DEFAULT ''",
        "UPDATE sessions SET trainee_key = rapport_name_key(trainee)",
        "CREATE INDEX IF NOT EXISTS sessions_by_trainee_key ON sessions (trainee_key, started_at)",
        "CREATE TABLE IF NOT EXISTS trainees (name_key TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "credential TEXT NOT NULL, created_at TEXT NOT NULL)",
        "ALTER TABLE turns ADD COLUMN score_scorer TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE turns ADD COLUMN score_scorer_version TEXT NOT NULL DEFAULT ''",
    ],
}

_SESSION_COLUMNS = [
    "session_id",
    "scenario_id",
    "scenario_version",
    "rubric_id",
    "rubric_version",
    "model",
    "seed",
    "trainee",
    "mode",
    "start_trust",
    "start_mood",
    "opening_line",
    "started_at",
    "ended_at",
]
_TURN_COLUMNS = [
    "learner",
    "persona",
    "move",
    "mood",
    "trust",
    "trust_delta",
    "source",
    "created_at",
]


class StoreError(RuntimeError):
    """The session database cannot be used; the message says what to do."""


@dataclass(frozen=True)
class SessionSummary:
    """One row of the session history.

    Attributes:
        means: Mean level per behaviour over the scored turns (None if none were scored).
    """

    session_id: str
    scenario_id: str
    scenario_version: int
    trainee: str
    mode: str
    started_at: str
    ended_at: str | None
    n_turns: int
    means: dict[str, float | None] = field(default_factory=dict)


def _sql_name_key(name: object) -> str:
    return name_key(name) if isinstance(name, str) else ""


@dataclass(frozen=True)
class Cohort:
    """A facilitator's group of trainees; they join with its code."""

    code: str
    name: str
    created_at: str
    members: int = 0


class Store:
    """Sessions, turns and scores in one SQLite file.

    Args:
        path: The database file; ``None`` means ``paths.default_db_path()``, ``":memory:"`` a
            private in-memory database (tests).

    Raises:
        StoreError: The file cannot be created or opened, is not a database, or was written by
            a newer version of Rapport.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        if path is None:
            from simulator.files.paths import default_db_path

            path = default_db_path()
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn = self._open()

    # ------------------------------------------------------------------ connection

    def _open(self) -> sqlite3.Connection:
        where = f"the session database {self.path}"
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"cannot create the folder for {where}: {error.strerror}; choose a writable "
                    "place (set RAPPORT_HOME or pass --db)"
                ) from None
            if Path(self.path).is_dir():
                raise StoreError(f"{where} is a folder; give the path of a file")
        try:
            # Autocommit mode: transactions are opened explicitly in _write, one per change.
            conn = sqlite3.connect(
                self.path, timeout=10.0, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as error:
            raise StoreError(f"cannot open {where}: {error}; check it is writable") from None
        try:
            conn.create_function("rapport_name_key", 1, _sql_name_key, deterministic=True)
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL is durable in WAL mode across application crashes (not power loss).
                conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(conn)
        except sqlite3.DatabaseError as error:
            conn.close()
            if "not a database" in str(error) or "malformed" in str(error):
                raise StoreError(
                    f"{self.path} is not a Rapport session database (or it is damaged); move it "
                    "aside or choose another file"
                ) from None
            raise StoreError(f"cannot use {where}: {error}; check it is writable") from None
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            has_version = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if not has_version:
                others = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if others:
                    raise StoreError(
                        f"{self.path} is an SQLite database but not one of Rapport's; choose "
                        "another file"
                    )
                # Not executescript(): before Python 3.12 it commits the open transaction.
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            else:
                (version,) = conn.execute("SELECT max(version) FROM schema_version").fetchone()
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} was written by a newer Rapport (database version "
                        f"{version}, this one reads {SCHEMA_VERSION}); upgrade Rapport"
                    )
                for step in range(version, SCHEMA_VERSION):
                    for statement in _MIGRATIONS[step]:
                        conn.execute(statement)
                    conn.execute("UPDATE schema_version SET version = ?", (step + 1,))
            for statement in _COHORT_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, serialised between threads; any failure rolls it back."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise StoreError(f"cannot write to {self.path}: {error}") from None
            try:
                yield self._conn
            except sqlite3.Error as error:  # disk full, read-only file, locked too long...
                self._conn.execute("ROLLBACK")
                raise StoreError(f"cannot save to {self.path}: {error}") from None
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as error:
                self._conn.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {error}") from None

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.Error as error:
                raise StoreError(f"cannot read {self.path}: {error}") from None

    def close(self) -> None:
        """Close the connection (the data is already on disk)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def start_session(self, transcript: Transcript) -> None:
        """Record a new session's header (and any turns it already holds).

        Raises:
            StoreError: A session with this id already exists.
        """
        header = transcript.model_dump(mode="json")
        known = {*_SESSION_COLUMNS, "turns", "debrief"}
        extra = {k: v for k, v in header.items() if k not in known}
        with self._write() as conn:
            exists = conn.execute(
                "SELECT 1 FROM sessions WHERE session_id = ?", (transcript.session_id,)
            ).fetchone()
            if exists:
                raise StoreError(f"session {transcript.session_id!r} is already stored")
            conn.execute(
                f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}, debrief, extra, "
                f"trainee_key) VALUES ({', '.join('?' * (len(_SESSION_COLUMNS) + 3))})",
                (
                    *(header[c] for c in _SESSION_COLUMNS),
                    json.dumps(header["debrief"]) if transcript.debrief else None,
                    json.dumps(extra),
                    name_key(transcript.trainee),
                ),
            )
            for turn in transcript.turns:
                self._insert_turn(conn, transcript.session_id, turn)

    def add_turn(self, session_id: str, turn: Turn) -> None:
        """Write one finished turn and its scores, in its own transaction.

        Raises:
            StoreError: The session is unknown, or a turn with this index is already stored
                (call :meth:`truncate_turns` first to rewind).
        """
        with self._write() as conn:
            self._require_session(conn, session_id)
            stored = conn.execute(
                "SELECT 1 FROM turns WHERE session_id = ? AND turn_index = ?",
                (session_id, turn.index),
            ).fetchone()
            if stored:
                raise StoreError(
                    f"turn {turn.index} of session {session_id!r} is already stored; "
                    "truncate_turns() first to replace it"
                )
            self._insert_turn(conn, session_id, turn)

    def _insert_turn(self, conn: sqlite3.Connection, session_id: str, turn: Turn) -> None:
        data = turn.model_dump(mode="json")
        known = {*_TURN_COLUMNS, "index", "revealed", "scores"}
        extra = {k: v for k, v in data.items() if k not in known}
        score = turn.scores
        conn.execute(
            "INSERT INTO turns (session_id, turn_index, learner, persona, move, mood, trust, "
            "trust_delta, source, created_at, revealed, scored, score_text, score_rubric_id, "
            "score_rubric_version, pitfalls, unscored_reason, extra, score_scorer, "
            "score_scorer_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                turn.index,
                *(data[c] for c in _TURN_COLUMNS),
                json.dumps(turn.revealed),
                score is not None,
                score.text if score else None,
                score.rubric_id if score else None,
                score.rubric_version if score else None,
                json.dumps(score.pitfalls) if score else None,
                score.unscored_reason if score else None,
                json.dumps(extra),
                score.scorer if score else "",
                score.scorer_version if score else "",
            ),
        )
        for dimension, dim in (score.dimensions if score else {}).items():
            conn.execute(
                "INSERT INTO scores (session_id, turn_index, dimension, level, probability, "
                "evidence, explanation, tip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    turn.index,
                    dimension,
                    dim.level,
                    dim.probability,
                    json.dumps(dim.evidence),
                    dim.explanation,
                    dim.tip,
                ),
            )

    def truncate_turns(self, session_id: str, keep: int) -> None:
        """Rewind: delete the turns with index >= ``keep`` (and their scores).

        Raises:
            StoreError: The session is unknown.
        """
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "DELETE FROM turns WHERE session_id = ? AND turn_index >= ?", (session_id, keep)
            )
            # A rewound session is open again: its old debrief no longer describes it.
            conn.execute(
                "UPDATE sessions SET ended_at = NULL, debrief = NULL WHERE session_id = ?",
                (session_id,),
            )

    def end_session(self, session_id: str, debrief: Debrief, ended_at: str | None = None) -> None:
        """Store the debrief and the end time (now, unless given).

        Raises:
            StoreError: The session is unknown.
        """
        with self._write() as conn:
            self._require_session(conn, session_id)
            conn.execute(
                "UPDATE sessions SET debrief = ?, ended_at = ? WHERE session_id = ?",
                (debrief.model_dump_json(), ended_at or utc_now(), session_id),
            )

    def delete_session(self, session_id: str) -> None:
        """Delete a session with its turns and scores (e.g. at a trainee's request)."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM scores WHERE session_id = ?", (session_id,)
            )  # explicit: older SQLite builds may ship with foreign keys compiled out
            conn.execute("DELETE FROM turns WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))

    @staticmethod
    def _require_session(conn: sqlite3.Connection, session_id: str) -> None:
        if not conn.execute(
            "SELECT 1 FROM sessions WHERE session_id = ?", (session_id,)
        ).fetchone():
            raise StoreError(f"no stored session {session_id!r}; call start_session() first")

    # ------------------------------------------------------------------ reading

    def load_transcript(self, session_id: str) -> Transcript:
        """Read a whole session back, turns and scores included.

        Raises:
            StoreError: No session has this id.
        """
        rows = self._read("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
        if not rows:
            raise StoreError(f"no stored session {session_id!r}")
        session = rows[0]
        scores: dict[int, dict[str, DimensionScore]] = {}
        for row in self._read(
            "SELECT * FROM scores WHERE session_id = ? ORDER BY rowid", (session_id,)
        ):
            scores.setdefault(row["turn_index"], {})[row["dimension"]] = DimensionScore(
                level=row["level"],
                probability=row["probability"],
                evidence=json.loads(row["evidence"]),
                explanation=row["explanation"],
                tip=row["tip"],
            )
        turns = []
        for row in self._read(
            "SELECT * FROM turns WHERE session_id = ? ORDER BY turn_index", (session_id,)
        ):
            reply = None
            if row["scored"]:
                reply = ReplyScore(
                    text=row["score_text"],
                    rubric_id=row["score_rubric_id"],
                    rubric_version=row["score_rubric_version"],
                    dimensions=scores.get(row["turn_index"], {}),
                    pitfalls=json.loads(row["pitfalls"]),
                    unscored_reason=row["unscored_reason"],
                    scorer=row["score_scorer"],
                    scorer_version=row["score_scorer_version"],
                )
            turns.append(
                Turn(
                    index=row["turn_index"],
                    **{c: row[c] for c in _TURN_COLUMNS},
                    revealed=json.loads(row["revealed"]),
                    scores=reply,
                    **json.loads(row["extra"]),
                )
            )
        debrief = Debrief.model_validate_json(session["debrief"]) if session["debrief"] else None
        return Transcript(
            **{c: session[c] for c in _SESSION_COLUMNS},
            turns=turns,
            debrief=debrief,
            **json.loads(session["extra"]),
        )

    def list_sessions(self, trainee: str | None = None, limit: int = 100) -> list[SessionSummary]:
        """Sessions, newest first, with turn counts and mean level per behaviour.

        Args:
            trainee: Only this trainee's sessions (names compared case-insensitively); None
                for everyone's.
            limit: At most this many sessions.
        """
        where, params = (
            ("WHERE s.trainee_key = ?", (name_key(trainee),)) if trainee is not None else ("", ())
        )
        rows = self._read(
            "SELECT s.*, (SELECT count(*) FROM turns t WHERE t.session_id = s.session_id) AS n "
            f"FROM sessions s {where} ORDER BY s.started_at DESC, s.rowid DESC LIMIT ?",
            (*params, limit),
        )
        means = self._means([row["session_id"] for row in rows])
        return [
            SessionSummary(
                session_id=row["session_id"],
                scenario_id=row["scenario_id"],
                scenario_version=row["scenario_version"],
                trainee=row["trainee"],
                mode=row["mode"],
                started_at=row["started_at"],
                ended_at=row["ended_at"],
                n_turns=row["n"],
                means=means.get(row["session_id"], {}),
            )
            for row in rows
        ]

    def _means(self, session_ids: list[str]) -> dict[str, dict[str, float | None]]:
        result: dict[str, dict[str, float | None]] = {}
        # Chunked: SQLite limits the number of ? parameters in one statement.
        for start in range(0, len(session_ids), 500):
            chunk = session_ids[start : start + 500]
            for row in self._read(
                "SELECT session_id, dimension, avg(level) AS mean FROM scores "
                f"WHERE session_id IN ({', '.join('?' * len(chunk))}) "
                "GROUP BY session_id, dimension ORDER BY min(rowid)",
                tuple(chunk),
            ):
                result.setdefault(row["session_id"], {})[row["dimension"]] = row["mean"]
        return result

    def behaviour_progress(self, trainee: str) -> list[tuple[str, str, dict[str, float]]]:
        """A trainee's mean level per behaviour in each session, oldest first (for a chart).

        Sessions without any scored turn are left out.

        Returns:
            ``(started_at, scenario_id, {behaviour: mean level})`` per session.
        """
        sessions = self._read(
            "SELECT session_id, started_at, scenario_id FROM sessions WHERE trainee_key = ? "
            "ORDER BY started_at, rowid",
            (name_key(trainee),),
        )
        means = self._means([row["session_id"] for row in sessions])
        progress = []
        for row in sessions:
            levels = {k: v for k, v in means.get(row["session_id"], {}).items() if v is not None}
            if levels:
                progress.append((row["started_at"], row["scenario_id"], levels))
        return progress

    # ------------------------------------------------------------------ trainees

    def trainee_credential(self, name: str) -> str | None:
        """The stored passphrase hash for a name (None while nobody has claimed it)."""
        rows = self._read("SELECT credential FROM trainees WHERE name_key = ?", (name_key(name),))
        return str(rows[0]["credential"]) if rows else None

    def claim_trainee(self, name: str, credential: str) -> bool:
        """Protect a name with a passphrase hash, unless someone claimed it first.

        Sessions already stored under the name (from before passphrases, or started while it
        was unclaimed) go with it: the first passphrase chosen claims them.

        Returns:
            True when this call claimed the name; False when it was claimed already.
        """
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO trainees (name_key, name, credential, created_at) "
                "VALUES (?, ?, ?, ?)",
                (name_key(name), name, credential, utc_now()),
            )
            return cursor.rowcount == 1

    def release_trainee(self, name: str) -> bool:
        """Forget a name's passphrase (a facilitator's reset); its sessions stay.

        Returns:
            True when a passphrase was removed.
        """
        with self._write() as conn:
            cursor = conn.execute("DELETE FROM trainees WHERE name_key = ?", (name_key(name),))
            return cursor.rowcount == 1

    # ------------------------------------------------------------------ cohorts

    def create_cohort(self, code: str, name: str) -> bool:
        """Add a cohort; False (nothing changed) when the code is taken already."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO cohorts (code, name, created_at) VALUES (?, ?, ?)",
                (code, name, utc_now()),
            )
            return cursor.rowcount == 1

    def list_cohorts(self) -> list[Cohort]:
        """Every cohort, newest first, with its member count."""
        rows = self._read(
            "SELECT c.code, c.name, c.created_at, "
            "(SELECT count(*) FROM cohort_members m WHERE m.code = c.code) AS members "
            "FROM cohorts c ORDER BY c.created_at DESC, c.rowid DESC"
        )
        return [Cohort(row["code"], row["name"], row["created_at"], row["members"]) for row in rows]

    def cohort(self, code: str) -> Cohort | None:
        """One cohort by its code (None when there is none)."""
        return next((c for c in self.list_cohorts() if c.code == code), None)

    def join_cohort(self, code: str, trainee: str) -> bool:
        """Add a trainee to a cohort; False when they were in it already.

        Raises:
            StoreError: No cohort has that code (check with :meth:`cohort` first).
        """
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM cohorts WHERE code = ?", (code,)).fetchone() is None:
                raise StoreError(f"no cohort has the code {code}")
            cursor = conn.execute(
                # One member per trainee, however the name is typed (the key sessions use).
                "INSERT OR IGNORE INTO cohort_members (code, trainee, trainee_key, joined_at) "
                "VALUES (?, ?, ?, ?)",
                (code, trainee, name_key(trainee), utc_now()),
            )
            return cursor.rowcount == 1

    def cohort_members(self, code: str) -> list[str]:
        """The names in a cohort, as each first joined, in the order they joined."""
        rows = self._read(
            "SELECT trainee FROM cohort_members WHERE code = ? ORDER BY joined_at, rowid",
            (code,),
        )
        return [row["trainee"] for row in rows]
