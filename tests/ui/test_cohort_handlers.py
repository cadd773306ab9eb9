"""Cohort view: create, join with a code, per-trainee progress, hardest parts, CSV export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from simulator.store.database import Store
from simulator.ui import cohort, practice
from simulator.ui.context import AppContext
from tests.ui.helpers import plain

GOOD = "I've got time now and I'm not going anywhere. What's been happening on your shifts?"
BLUNT = "Just get on with it, everyone is busy."


def play(ctx: AppContext, name: str, lines: list[str], scenario: str = "workload-conflict") -> None:
    view = practice.start(ctx, scenario, practice.COACHING, name)
    assert view.session is not None
    for line in lines:
        list(practice.send(ctx, view.session, line))
    practice.finish(ctx, view.session)


def made(ctx: AppContext, name: str = "Ward managers, March") -> str:
    message, code = cohort.create(ctx, True, name)
    assert code is not None and code in message, message
    return code


def test_codes_are_easy_to_type_and_typed_codes_are_normalised() -> None:
    code = cohort.new_code()
    assert len(code) == cohort.CODE_LENGTH and set(code) <= set(cohort.CODE_ALPHABET)
    assert not set("0O1IL") & set(cohort.CODE_ALPHABET)
    assert cohort.normalise_code(" ab3-k7q ") == "AB3K7Q"


def test_only_a_signed_in_facilitator_creates_or_reads_a_cohort(ctx: AppContext) -> None:
    assert cohort.create(ctx, False, "X") == (cohort.NOT_SIGNED_IN, None)
    code = made(ctx)
    assert cohort.report(ctx, False, code).message == cohort.NOT_SIGNED_IN
    assert "Give the cohort a name" in cohort.create(ctx, True, "   ")[0]


def test_joining_needs_a_name_and_a_real_code(ctx: AppContext) -> None:
    code = made(ctx)
    assert "Type your name" in cohort.join(ctx, "", code)
    assert "Type the cohort code" in cohort.join(ctx, "Jo", " ")
    assert "No cohort has the code **ZZZZZZ**" in cohort.join(ctx, "Jo", "zzzzzz")
    joined = plain(cohort.join(ctx, "Jo", code.lower())).replace("**", "")
    assert joined.startswith("✔ Jo joined Ward managers, March.")
    assert "is in" in cohort.join(ctx, "jo", code)  # the same trainee, whatever the case
    assert ctx.store.cohort_members(code) == ["Jo"]


@pytest.mark.slow
def test_the_view_shows_trainees_progress_hardest_parts_and_exports_csv(ctx: AppContext) -> None:
    code = made(ctx)
    other = made(ctx, "Another group")
    for name in ("Jo", "Ann"):
        cohort.join(ctx, name, code)
    cohort.join(ctx, "Pat", other)
    play(ctx, "Jo", [BLUNT])
    play(ctx, "Jo", [GOOD])
    play(ctx, "Ann", [GOOD], "upset-colleague")
    play(ctx, "Pat", [GOOD])  # not in this cohort
    practice.start(ctx, "workload-conflict", practice.COACHING, "Ann")  # left at the opening

    view = cohort.report(ctx, True, code)
    assert "2 trainees, 3 conversation(s)" in plain(view.message).replace("**", "")
    headers, rows = view.trainees
    assert headers[:4] == ["trainee", "sessions", "replies", "last practised"]
    assert headers[4:] == ["Attending", "Understanding", "Empathising", "Helping"]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == {"Jo", "Ann"}
    assert by_name["Jo"][1:3] == [2, 2] and by_name["Ann"][1:3] == [1, 1]
    assert "→" in by_name["Jo"][4]  # first → latest over two sessions
    first, latest = (float(x) for x in by_name["Jo"][4].split(" → "))
    assert latest > first  # attending: the blunt reply, then a listening one

    b_headers, b_rows = view.behaviours
    assert b_headers[:2] == ["behaviour", "average level"]
    averages = [float(row[1]) for row in b_rows]
    assert averages == sorted(averages) and len(b_rows) == 4

    s_headers, s_rows = view.scenarios
    titles = dict((sid, title.rsplit(" (", 1)[0]) for title, sid in practice.scenario_choices())
    assert s_headers[0] == "situation"
    assert {r[0] for r in s_rows} == {titles["workload-conflict"], titles["upset-colleague"]}
    assert {r[0]: r[1] for r in s_rows}[titles["workload-conflict"]] == 2  # Jo's two sessions
    assert [float(r[3]) for r in s_rows] == sorted(float(r[3]) for r in s_rows)

    assert view.csv_path is not None
    with view.csv_path.open(encoding="utf-8", newline="") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == 3 and {r["trainee"] for r in exported} == {"Jo", "Ann"}
    assert {r["cohort"] for r in exported} == {"Ward managers, March"}
    assert all(r["Attending"] for r in exported)


def test_an_empty_cohort_says_to_give_the_code_out(ctx: AppContext) -> None:
    code = made(ctx)
    view = cohort.report(ctx, True, code)
    assert "Nobody has joined" in view.message and code in view.message
    assert view.csv_path is None and view.trainees == ([], [])
    assert "Choose a cohort" in cohort.report(ctx, True, None).message
    assert "No cohort has the code" in cohort.report(ctx, True, "nope").message


@pytest.mark.slow
def test_a_formula_looking_name_is_exported_as_text(ctx: AppContext) -> None:
    code = made(ctx)
    cohort.join(ctx, "=cmd", code)
    play(ctx, "=cmd", [GOOD])
    view = cohort.report(ctx, True, code)
    assert view.csv_path is not None
    assert "'=cmd" in view.csv_path.read_text(encoding="utf-8")


def test_cohort_tables_are_added_to_an_existing_database(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as conn:  # as a file from before cohorts existed
        conn.execute("DROP TABLE cohort_members")
        conn.execute("DROP TABLE cohorts")
    store = Store(path)
    try:
        assert store.create_cohort("ABCDEF", "Group") and not store.create_cohort("ABCDEF", "X")
        assert store.join_cohort("ABCDEF", "Jo") and not store.join_cohort("ABCDEF", "JO")
        assert [c.members for c in store.list_cohorts()] == [1]
        with pytest.raises(Exception, match="no cohort has the code"):
            store.join_cohort("NOPE22", "Jo")
    finally:
        store.close()
