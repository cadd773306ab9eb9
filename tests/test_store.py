"""The SQLite store: round trips, crash safety, rewind, history, threads, bad files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from simulator.conversation.transcript import BehaviourSummary, Debrief, Moment, Transcript, Turn
from simulator.scoring.types import DimensionScore, ReplyScore
from simulator.store.database import SCHEMA_VERSION, Store, StoreError

DIMENSIONS = ["attending", "understanding", "empathising", "helping"]


def make_transcript(session_id: str = "s1", trainee: str = "alex", **fields: object) -> Transcript:
    values: dict[str, object] = {
        "session_id": session_id,
        "scenario_id": "workload-conflict",
        "scenario_version": 3,
        "rubric_id": "compassionate-leadership",
        "rubric_version": 2,
        "model": "smollm2-135m",
        "seed": 7,
        "trainee": trainee,
        "mode": "assessment",
        "start_trust": 0.2,
        "start_mood": "guarded",
        "opening_line": "Do you actually need me for something?",
        "started_at": "2025-01-01T09:00:00+00:00",
    }
    values.update(fields)
    return Transcript.model_validate(values)


def make_turn(
    index: int, levels: tuple[int | None, ...] = (1, 2, 0, 3), scored: bool = True
) -> Turn:
    scores = None
    if scored:
        scores = ReplyScore(
            text=f"reply {index}",
            rubric_id="compassionate-leadership",
            rubric_version=2,
            dimensions={
                dim: DimensionScore(
                    level=level,
                    probability=None if level is None else 0.25 * (level + 1),
                    evidence=[f"span {index} {dim}", "é ünïcode"],
                    explanation=f"because {dim}",
                    tip=f"tip for {dim}",
                )
                for dim, level in zip(DIMENSIONS, levels, strict=True)
            },
            pitfalls=["dismissing"] if index % 2 else [],
            unscored_reason=None if all(v is not None for v in levels) else "too short",
        )
    return Turn(
        index=index,
        learner=f"reply {index}",
        persona=f"answer {index}",
        scores=scores,
        move="asked",
        mood="guarded",
        trust=0.2 + index / 10,
        trust_delta=0.1,
        source="fallback" if index == 1 else "model",
        revealed=[0] if index >= 2 else [],
        created_at=f"2025-01-01T09:0{index}:00+00:00",
    )


def make_debrief() -> Debrief:
    return Debrief(
        behaviours={d: BehaviourSummary(levels=[1, None], mean=1.0) for d in DIMENSIONS},
        trust=[0.2, 0.3],
        moods=["guarded", "guarded"],
        turning_points=[Moment(turn=0, learner="reply 0", total=6, evidence=["x"], note="n")],
        strongest=Moment(turn=0, learner="reply 0", total=6),
        suggestions=["Ask first."],
        concerns_revealed=1,
        concerns_total=2,
    )


def test_round_trip_everything(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.sqlite3")
    transcript = make_transcript()
    store.start_session(transcript)
    turns = [
        make_turn(0),
        make_turn(1),
        make_turn(2, (None, None, None, None)),
        make_turn(3, scored=False),
    ]
    for turn in turns:
        store.add_turn("s1", turn)
    debrief = make_debrief()
    store.end_session("s1", debrief, ended_at="2025-01-01T09:30:00+00:00")
    expected = transcript.model_copy(
        update={"turns": turns, "debrief": debrief, "ended_at": "2025-01-01T09:30:00+00:00"}
    )
    assert store.load_transcript("s1") == expected
    store.close()


def test_in_memory_store() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript(turns=[make_turn(0)]))
    assert store.load_transcript("s1").turns == [make_turn(0)]


def test_finished_turn_survives_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    script = f"""
import os
from simulator.store.database import Store
from tests.test_store import make_transcript, make_turn
store = Store({str(db)!r})
store.start_session(make_transcript())
store.add_turn("s1", make_turn(0))
os._exit(3)  # no close(), no end_session(): the process dies mid-session
"""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, check=False)
    assert done.returncode == 3
    restored = Store(db).load_transcript("s1")
    assert restored.turns == [make_turn(0)]
    assert restored.debrief is None and restored.ended_at is None


def test_turn_readable_from_a_second_store_before_end(tmp_path: Path) -> None:
    db = tmp_path / "two.sqlite3"
    writer = Store(db)
    writer.start_session(make_transcript())
    writer.add_turn("s1", make_turn(0))
    assert Store(db).load_transcript("s1").turns == [make_turn(0)]


def test_truncate_rewinds_and_reopens(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.sqlite3")
    store.start_session(make_transcript())
    for index in range(4):
        store.add_turn("s1", make_turn(index))
    store.end_session("s1", make_debrief())
    store.truncate_turns("s1", keep=2)
    restored = store.load_transcript("s1")
    assert [t.index for t in restored.turns] == [0, 1]
    assert restored.debrief is None and restored.ended_at is None
    store.add_turn("s1", make_turn(2, (3, 3, 3, 3)))  # the replacement turn
    assert store.load_transcript("s1").turns[2].scores.level("helping") == 3  # type: ignore[union-attr]
    rows = store._read("SELECT count(*) AS n FROM scores WHERE turn_index >= 2")
    assert rows[0]["n"] == 4  # old turn 2 and 3 scores are gone


def test_adding_an_existing_turn_or_to_an_unknown_session_is_refused() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript())
    store.add_turn("s1", make_turn(0))
    with pytest.raises(StoreError, match="turn 0 of session 's1' is already stored"):
        store.add_turn("s1", make_turn(0))
    with pytest.raises(StoreError, match="no stored session 'nope'; call start_session"):
        store.add_turn("nope", make_turn(0))
    with pytest.raises(StoreError, match="already stored"):
        store.start_session(make_transcript())
    with pytest.raises(StoreError, match="no stored session 'nope'"):
        store.load_transcript("nope")


def test_list_sessions_and_progress() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript("a", started_at="2025-01-01T09:00:00+00:00"))
    store.add_turn("a", make_turn(0, (0, 1, 2, 3)))
    store.add_turn("a", make_turn(1, (2, 3, 2, 1)))
    store.start_session(make_transcript("b", started_at="2025-01-02T09:00:00+00:00"))
    store.add_turn("b", make_turn(0, (3, 3, 3, 3)))
    store.start_session(make_transcript("c", trainee="sam", started_at="2025-01-03T09:00:00+00:00"))
    store.start_session(make_transcript("d", started_at="2025-01-04T09:00:00+00:00"))  # no turns
    store.end_session("a", make_debrief(), ended_at="2025-01-01T09:20:00+00:00")

    everyone = store.list_sessions()
    assert [s.session_id for s in everyone] == ["d", "c", "b", "a"]
    alex = store.list_sessions(trainee="alex", limit=2)
    assert [s.session_id for s in alex] == ["d", "b"]
    oldest = store.list_sessions(trainee="alex")[-1]
    assert oldest.n_turns == 2
    assert oldest.ended_at == "2025-01-01T09:20:00+00:00"
    assert oldest.scenario_version == 3
    assert oldest.means == {
        "attending": 1.0,
        "understanding": 2.0,
        "empathising": 2.0,
        "helping": 2.0,
    }
    assert store.list_sessions(trainee="alex")[0].means == {}

    progress = store.behaviour_progress("alex")
    assert [(when[:10], scenario) for when, scenario, _ in progress] == [
        ("2025-01-01", "workload-conflict"),
        ("2025-01-02", "workload-conflict"),
    ]
    assert progress[1][2] == dict.fromkeys(DIMENSIONS, 3.0)
    assert store.behaviour_progress("nobody") == []


def test_unscored_levels_do_not_count_in_means() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript())
    store.add_turn("s1", make_turn(0, (2, 2, 2, 2)))
    store.add_turn("s1", make_turn(1, (None, None, None, None)))
    assert store.list_sessions()[0].means["attending"] == 2.0


def test_delete_session() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript())
    store.add_turn("s1", make_turn(0))
    store.delete_session("s1")
    assert store.list_sessions() == []
    assert store._read("SELECT count(*) AS n FROM scores")[0]["n"] == 0


def test_threads_share_one_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "threads.sqlite3")
    errors: list[BaseException] = []

    def play(session: str) -> None:
        try:
            store.start_session(make_transcript(session))
            for index in range(15):
                store.add_turn(session, make_turn(index))
                store.list_sessions()
        except BaseException as error:  # collected: pytest would not see a thread's exception
            errors.append(error)

    threads = [threading.Thread(target=play, args=(f"t{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(s.n_turns == 15 for s in store.list_sessions())
    assert len(store.list_sessions()) == 8


def test_two_stores_on_one_file_from_threads(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    stores = [Store(db), Store(db)]
    errors: list[BaseException] = []

    def play(store: Store, session: str) -> None:
        try:
            store.start_session(make_transcript(session))
            for index in range(10):
                store.add_turn(session, make_turn(index))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=play, args=(stores[i % 2], f"p{i}")) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(s.n_turns for s in Store(db).list_sessions()) == [10] * 6


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    db = tmp_path / "wal.sqlite3"
    Store(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_default_path_uses_rapport_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_HOME", str(tmp_path / "home"))
    Store().close()
    assert (tmp_path / "home" / "rapport.sqlite3").is_file()


def test_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite3"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="is not a Rapport session database"):
        Store(bogus)


def test_someone_elses_database(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE accounts (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not one of Rapport's"):
        Store(other)


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.sqlite3"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer Rapport"):
        Store(db)


def test_unwritable_places(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(blocker / "sub" / "db.sqlite3")


def test_database_errors_become_store_errors(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.sqlite3")
    store.start_session(make_transcript())
    store._conn.execute("DROP TABLE scores")  # a damaged file, as far as the store can tell
    with pytest.raises(StoreError, match=r"cannot save to .*e\.sqlite3: no such table: scores"):
        store.add_turn("s1", make_turn(0))
    with pytest.raises(StoreError, match="cannot read"):
        store.list_sessions()
    # The failed turn was rolled back whole: no turn row without its scores.
    assert store._conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 0


def test_names_are_compared_case_insensitively() -> None:
    store = Store(":memory:")
    store.start_session(make_transcript("a", trainee="Jo Smith"))
    store.start_session(make_transcript("b", trainee="JO  SMITH", started_at="2025-01-02T09:00Z"))
    store.start_session(make_transcript("c", trainee="Ann"))
    assert [s.session_id for s in store.list_sessions("jo smith")] == ["b", "a"]
    assert len(store.behaviour_progress("jo SMITH")) == 0  # no scored turns yet
    store.add_turn("a", make_turn(0))
    assert len(store.behaviour_progress("jo SMITH")) == 1


def test_a_name_is_claimed_once_and_can_be_released() -> None:
    from simulator.store.trainees import hash_passphrase, verify_passphrase

    store = Store(":memory:")
    assert store.trainee_credential("Jo") is None
    first = hash_passphrase("correct horse")
    assert store.claim_trainee("Jo", first)
    assert not store.claim_trainee("jo", hash_passphrase("someone else"))  # first one wins
    stored = store.trainee_credential("JO")
    assert stored == first and verify_passphrase("correct horse", stored)
    assert not verify_passphrase("someone else", stored)
    assert "correct horse" not in stored  # only the salted hash is kept
    assert store.release_trainee("Jo") and store.trainee_credential("Jo") is None


def test_a_version_1_database_keeps_its_sessions(tmp_path: Path) -> None:
    db = tmp_path / "v1.sqlite3"
    with Store(db) as store:
        store.start_session(make_transcript("old", trainee="Jo Smith"))
        store.add_turn("old", make_turn(0))
    # Turn the file back into what version 1 wrote: no trainee key, no trainees table.
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP INDEX sessions_by_trainee_key; ALTER TABLE sessions DROP COLUMN trainee_key; "
        "DROP TABLE trainees; ALTER TABLE turns DROP COLUMN score_scorer; "
        "ALTER TABLE turns DROP COLUMN score_scorer_version; UPDATE schema_version SET version = 1;"
    )
    conn.close()
    with Store(db) as store:
        assert [s.session_id for s in store.list_sessions("jo smith")] == ["old"]
        assert store.load_transcript("old").turns[0].learner == "reply 0"
        assert store.trainee_credential("Jo Smith") is None  # unclaimed until a passphrase
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_an_older_database_is_migrated_and_keeps_which_scorer_rated(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    Store(db).close()
    conn = sqlite3.connect(db)
    # What a version-1 file looks like: no scorer columns, no trainee keys.
    conn.executescript(
        "DROP INDEX sessions_by_trainee_key; ALTER TABLE sessions DROP COLUMN trainee_key; "
        "DROP TABLE trainees;"
    )
    conn.execute("ALTER TABLE turns DROP COLUMN score_scorer")
    conn.execute("ALTER TABLE turns DROP COLUMN score_scorer_version")
    conn.execute("UPDATE schema_version SET version = 1")
    conn.commit()
    conn.close()
    store = Store(db)
    store.start_session(make_transcript())
    turn = make_turn(0)
    assert turn.scores is not None
    turn.scores.scorer, turn.scores.scorer_version = "rubric-scorer", "2"
    store.add_turn("s1", turn)
    loaded = store.load_transcript("s1").turns[0].scores
    assert loaded is not None and (loaded.scorer, loaded.scorer_version) == ("rubric-scorer", "2")
    store.close()


def test_a_cohort_has_one_member_per_trainee_however_the_name_is_typed() -> None:
    store = Store(":memory:")
    assert store.create_cohort("ABC234", "Ward 7")
    assert store.join_cohort("ABC234", "Émile Zola")
    assert not store.join_cohort("ABC234", "ÉMILE  zola")  # the same trainee (name_key)
    assert store.cohort_members("ABC234") == ["Émile Zola"]
