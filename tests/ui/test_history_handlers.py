"""History tab: only the named trainee's sessions, progress chart, downloads checked by owner."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from simulator.ui import history, practice
from simulator.ui.context import AppContext

LINE = "What's been happening on your shifts this week?"


def play(ctx: AppContext, name: str, scenario: str = "workload-conflict") -> str:
    view = practice.start(ctx, scenario, practice.COACHING, name)
    assert view.session is not None
    list(practice.send(ctx, view.session, LINE))
    practice.finish(ctx, view.session)
    return view.session.transcript.session_id


def test_no_name_or_anonymous_lists_nothing(ctx: AppContext) -> None:
    play(ctx, "")  # stored as anonymous
    for name in (None, "", "   ", "anonymous"):
        view = history.history(ctx, name)
        assert view.message == history.NEED_NAME and view.rows == []


def test_history_shows_only_this_trainees_sessions_with_progress(ctx: AppContext) -> None:
    mine = [play(ctx, "Jo"), play(ctx, "Jo", "upset-colleague")]
    play(ctx, "Ann")
    view = history.history(ctx, "  Jo ")
    assert "2 conversation(s)" in view.message
    assert [sid for _, sid in view.choices] == mine[::-1]  # newest first
    assert view.headers[:5] == ["When (UTC)", "Situation", "Mode", "Replies", "Status"]
    assert view.headers[5:] == ["Attending", "Understanding", "Empathising", "Helping"]
    assert view.rows[1][1] == "Extra patients, again" and view.rows[1][3] == 1
    assert isinstance(view.figure, Figure)
    assert "No conversations saved under **Nobody**" in history.history(ctx, "Nobody").message


def test_download_only_for_the_owner(ctx: AppContext) -> None:
    jo = play(ctx, "Jo")
    ann = play(ctx, "Ann")
    json_path, md_path, note = history.download(ctx, "Jo", jo)
    assert json_path is not None and md_path is not None and "ready" in note
    assert json.loads(Path(json_path).read_text())["session_id"] == jo
    assert LINE in Path(md_path).read_text()
    assert history.download(ctx, "Jo", ann) == (None, None, "That conversation could not be found.")
    assert history.download(ctx, "Jo", "nope") == (
        None,
        None,
        "That conversation could not be found.",
    )
    assert history.download(ctx, "", jo)[2] == history.NEED_NAME


def test_the_progress_chart_names_sessions_by_title_like_the_table(ctx: AppContext) -> None:
    play(ctx, "Jo")
    play(ctx, "Jo", "upset-colleague")
    view = history.history(ctx, "Jo")
    assert isinstance(view.figure, Figure)
    ticks = [label.get_text() for label in view.figure.axes[0].get_xticklabels()]
    assert len(ticks) == 2
    assert ticks[0].endswith("\nExtra patients, again")
    assert all("workload-conflict" not in t and "upset-colleague" not in t for t in ticks)
    titles = {row[1] for row in view.rows}
    assert ticks[1].split("\n", 1)[1].replace("\n", " ") in titles  # wrapped, but the same title


def test_names_match_whatever_their_case(ctx: AppContext) -> None:
    mine = play(ctx, "Jo Smith")
    for typed in ("jo smith", "JO SMITH", " Jo Smith "):
        view = history.history(ctx, typed)
        assert [sid for _, sid in view.choices] == [mine], typed
        assert history.download(ctx, typed, mine)[0] is not None


def test_sessions_left_before_the_first_reply_are_not_listed(ctx: AppContext) -> None:
    kept = play(ctx, "Jo")
    practice.start(ctx, "upset-colleague", practice.COACHING, "Jo")  # started, nothing said
    view = history.history(ctx, "Jo")
    assert [sid for _, sid in view.choices] == [kept]
    assert "1 conversation(s)" in view.message
    only_empty = practice.start(ctx, "workload-conflict", practice.COACHING, "Ann")
    assert only_empty.session is not None
    assert "No conversations saved under **Ann**" in history.history(ctx, "Ann").message


def test_progress_ticks_differ_for_sessions_on_the_same_day(ctx: AppContext) -> None:
    for _ in range(3):
        play(ctx, "Jo")
    view = history.history(ctx, "Jo")
    ticks = [label.get_text() for label in view.figure.axes[0].get_xticklabels()]
    assert len(ticks) == 3 and len(set(ticks)) == 3
    assert [t.split(".")[0] for t in ticks] == ["1", "2", "3"]


def test_the_name_is_remembered_in_the_browser(tmp_path: Path) -> None:
    from simulator.ui import remember

    key = remember.browser_secret(tmp_path)
    assert len(key) >= 16 and remember.browser_secret(tmp_path) == key  # kept across restarts
    assert (tmp_path / remember.KEY_FILE).stat().st_mode & 0o077 == 0
