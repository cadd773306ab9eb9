"""History tab: only the named trainee's sessions, progress chart, downloads checked by owner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from simulator.ui import history, practice
from simulator.ui.context import AppContext

LINE = "What's been happening on your shifts this week?"
SECRET = "jo's passphrase"


def play(ctx: AppContext, name: str, scenario: str = "workload-conflict") -> str:
    view = practice.start(ctx, scenario, practice.COACHING, name)
    assert view.session is not None
    list(practice.send(ctx, view.session, LINE))
    practice.finish(ctx, view.session)
    return view.session.transcript.session_id


@pytest.mark.slow
def test_no_name_or_anonymous_lists_nothing(ctx: AppContext) -> None:
    play(ctx, "")  # stored as anonymous
    for name in (None, "", "   ", "anonymous", "ANONYMOUS"):
        view = history.history(ctx, name, "any passphrase")
        assert view.message == history.NEED_NAME and view.rows == []


@pytest.mark.slow
def test_history_shows_only_this_trainees_sessions_with_progress(ctx: AppContext) -> None:
    mine = [play(ctx, "Jo"), play(ctx, "Jo", "upset-colleague")]
    play(ctx, "Ann")
    view = history.history(ctx, "  Jo ", SECRET)  # the first passphrase claims the name
    assert "2 conversation(s)" in view.message
    assert [sid for _, sid in view.choices] == mine[::-1]  # newest first
    assert view.headers[:5] == ["When (UTC)", "Situation", "Mode", "Replies", "Status"]
    assert view.headers[5:] == ["Attending", "Understanding", "Empathising", "Helping"]
    assert view.rows[1][1] == "Extra patients, again" and view.rows[1][3] == 1
    assert isinstance(view.figure, Figure)
    nobody = history.history(ctx, "Nobody", "nobody's passphrase").message
    assert "No conversations saved under **Nobody**" in nobody


@pytest.mark.slow
def test_download_only_for_the_owner(ctx: AppContext) -> None:
    jo = play(ctx, "Jo")
    ann = play(ctx, "Ann")
    json_path, md_path, note = history.download(ctx, "Jo", jo, SECRET)
    assert json_path is not None and md_path is not None and "ready" in note
    assert json.loads(Path(json_path).read_text())["session_id"] == jo
    assert LINE in Path(md_path).read_text()
    not_found = (None, None, "That conversation could not be found.")
    assert history.download(ctx, "Jo", ann, SECRET) == not_found
    assert history.download(ctx, "Jo", "nope", SECRET) == (
        None,
        None,
        "That conversation could not be found.",
    )
    assert history.download(ctx, "", jo)[2] == history.NEED_NAME
    assert "does not match" in history.download(ctx, "Jo", jo, "not jo's passphrase")[2]


@pytest.mark.slow
def test_the_progress_chart_names_sessions_by_title_like_the_table(ctx: AppContext) -> None:
    play(ctx, "Jo")
    play(ctx, "Jo", "upset-colleague")
    view = history.history(ctx, "Jo", SECRET)
    assert isinstance(view.figure, Figure)
    ticks = [label.get_text() for label in view.figure.axes[0].get_xticklabels()]
    assert len(ticks) == 2
    assert ticks[0].endswith("\nExtra patients, again")
    assert all("workload-conflict" not in t and "upset-colleague" not in t for t in ticks)
    titles = {row[1] for row in view.rows}
    assert ticks[1].split("\n", 1)[1].replace("\n", " ") in titles  # wrapped, but the same title


@pytest.mark.slow
def test_a_name_is_kept_by_its_first_passphrase(ctx: AppContext) -> None:
    play(ctx, "Jo")  # a session from before Jo chose a passphrase
    first = history.history(ctx, "Jo", "")
    assert "has no passphrase yet" in first.message and first.rows == []
    assert "at least 8 characters" in history.history(ctx, "Jo", "short").message
    assert "1 conversation(s)" in history.history(ctx, "Jo", SECRET).message  # claimed now
    for wrong in ("", "someone else's", SECRET.upper()):
        refused = history.history(ctx, "Jo", wrong)
        assert "does not match" in refused.message and refused.rows == [] and refused.figure is None
    # Names are one trainee whatever the case or spacing.
    assert "1 conversation(s)" in history.history(ctx, "  jO ", SECRET).message


@pytest.mark.slow
def test_a_trusted_proxy_header_names_the_trainee(ctx: AppContext) -> None:
    ctx.trusted_header = "x-forwarded-user"
    play(ctx, "Jo")
    typed = history.history(ctx, "Jo", SECRET)  # what is typed no longer counts
    assert "organisation's sign-in" in typed.message and typed.rows == []
    view = history.history(ctx, "", headers={"x-forwarded-user": "jo"})
    assert "1 conversation(s)" in view.message


def test_the_name_is_shown_as_text_not_markdown(ctx: AppContext) -> None:
    view = history.history(ctx, "**Jo** <b>[x](javascript:1)</b>", SECRET)
    assert "No conversations saved under **\\*\\*Jo\\*\\* &lt;b&gt;" in view.message
    assert "<b>" not in view.message and "](" not in view.message


def test_guessing_a_passphrase_is_slowed_down(ctx: AppContext) -> None:
    history.history(ctx, "Jo", SECRET)
    for _ in range(5):
        assert (
            "does not match"
            in history.history(ctx, "Jo", "a wrong guess", client="1.2.3.4").message
        )
    # Even the right passphrase waits now, from that address and for that name.
    assert "Too many wrong attempts" in history.history(ctx, "Jo", SECRET, client="1.2.3.4").message
    assert "Too many wrong attempts" in history.history(ctx, "Jo", SECRET, client="5.6.7.8").message


@pytest.mark.slow
def test_names_match_whatever_their_case(ctx: AppContext) -> None:
    mine = play(ctx, "Jo Smith")
    for typed in ("jo smith", "JO SMITH", " Jo Smith "):
        view = history.history(ctx, typed, SECRET)
        assert [sid for _, sid in view.choices] == [mine], typed
        assert history.download(ctx, typed, mine, SECRET)[0] is not None


@pytest.mark.slow
def test_sessions_left_before_the_first_reply_are_not_listed(ctx: AppContext) -> None:
    kept = play(ctx, "Jo")
    practice.start(ctx, "upset-colleague", practice.COACHING, "Jo")  # started, nothing said
    view = history.history(ctx, "Jo", SECRET)
    assert [sid for _, sid in view.choices] == [kept]
    assert "1 conversation(s)" in view.message
    only_empty = practice.start(ctx, "workload-conflict", practice.COACHING, "Ann")
    assert only_empty.session is not None
    assert (
        "No conversations saved under **Ann**"
        in history.history(ctx, "Ann", "passphrase of Ann").message
    )


@pytest.mark.slow
def test_progress_ticks_differ_for_sessions_on_the_same_day(ctx: AppContext) -> None:
    for _ in range(3):
        play(ctx, "Jo")
    view = history.history(ctx, "Jo", SECRET)
    ticks = [label.get_text() for label in view.figure.axes[0].get_xticklabels()]
    assert len(ticks) == 3 and len(set(ticks)) == 3
    assert [t.split(".")[0] for t in ticks] == ["1", "2", "3"]


def test_the_name_is_remembered_in_the_browser(tmp_path: Path) -> None:
    from simulator.ui import remember

    key = remember.browser_secret(tmp_path)
    assert len(key) >= 16 and remember.browser_secret(tmp_path) == key  # kept across restarts
    assert (tmp_path / remember.KEY_FILE).stat().st_mode & 0o077 == 0
