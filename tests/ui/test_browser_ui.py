"""The app in headless Chromium as trainees, facilitators and course designers meet it.

Runs ``tests/ui/slow_app.py`` (the app with the scripted persona model answering after a
pause, and the real scorer) so the tests can act while the colleague is "thinking…": a second
message, Enter and Shift+Enter, another situation picked mid-reply; then the Evaluate tab's
plots and tables, the cohort view, the remembered name, and a screenshot of every tab at
1366x900 and 390x844 into ``$RAPPORT_SCREENSHOTS`` (default /tmp/rapport-screenshots).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("RAPPORT_SCREENSHOTS", "/tmp/rapport-screenshots"))
WARM_MS = 240_000  # the first start waits for the scorer to load on a busy 2-core machine
REPLY_MS = 60_000
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
LABELLED = """\
conv_id,text,context,attending,understanding,empathising,helping
a,What's been happening for you this week?,I'm tired.,1,0,0,0
a,That sounds really hard.,Nobody asked me.,0,0,1,0
b,Just get on with it.,I'm swamped.,0,0,0,0
b,So you feel nobody noticed. Is that right?,They dumped it on me.,0,1,0,0
c,Shall I cover your bay for an hour so you can catch up?,I'm behind.,0,0,0,1
c,How are things going for you?,Fine.,1,0,0,0
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import socket

    home = tmp_path_factory.mktemp("browser-ui-home")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_ADMIN")}
    env.update(
        GRADIO_SERVER_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        RAPPORT_HOME=str(home),
        RAPPORT_MODEL="scripted",
        RAPPORT_TEST_REPLY_DELAY="4",
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONPATH=f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}",
    )
    log = home / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "ui" / "slow_app.py")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            raise AssertionError(f"slow_app.py exited: {log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("the app did not start within 180 s") from None
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


def open_page(browser: Any, url: str, viewport: dict[str, int] = DESKTOP) -> tuple[Any, Any]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(url)
    page.get_by_text("Extra patients, again").first.wait_for()
    return context, page


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    context, page = open_page(browser, app_url)
    yield page
    context.close()


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def open_tab(page: Any, name: str) -> None:
    """Click a tab; on a narrow screen the ones that do not fit sit in the "⋯" menu."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator(".overflow-menu button").first.click()
    page.locator(".overflow-dropdown").get_by_text(name, exact=True).first.click()


def reply_box(page: Any) -> Any:
    return page.locator("#reply textarea").first


def start(page: Any, name: str, situation: str = "Extra patients, again") -> None:
    from playwright.sync_api import expect

    page.locator("#trainee input, #trainee textarea").first.fill(name)
    # A name's first passphrase claims it; the same one is needed for its history and cohorts.
    page.locator("#passphrase input").first.fill(f"{name}'s passphrase")
    page.get_by_text(situation).first.click()
    page.get_by_role("button", name="Start conversation").click()
    expect(page.locator("#chat .bot-row").first).to_be_visible(timeout=WARM_MS)
    expect(reply_box(page)).to_be_enabled(timeout=WARM_MS)


def persona_count(page: Any) -> int:
    return int(page.locator("#chat .bot-row").count())


def wait_answered(page: Any, count: int) -> None:
    page.wait_for_function(
        """(n) => {
            const chat = document.querySelector('#chat');
            if (!chat || chat.innerText.includes('is thinking')) return false;
            return chat.querySelectorAll('.bot-row').length >= n;
        }""",
        arg=count,
        timeout=REPLY_MS,
    )


def test_while_thinking_the_box_is_locked_and_enter_sends_the_next_reply(page: Any) -> None:
    from playwright.sync_api import expect

    start(page, "Jo Browser")
    box = reply_box(page)
    assert "Enter sends" in (box.get_attribute("placeholder") or "")
    box.fill("What's been happening on your shifts this week?")
    box.press("Enter")  # Enter sends
    expect(page.locator("#chat")).to_contain_text("is thinking", timeout=10_000)
    # While Sam is thinking: nothing can be typed or sent, and the box says why.
    expect(box).to_be_disabled()
    expect(page.locator("#send")).to_be_disabled()
    assert "answering" in (box.get_attribute("placeholder") or "")
    shot(page, "practice-thinking-1366", full=False)
    wait_answered(page, 2)
    expect(box).to_be_enabled()
    expect(page.locator("#send")).to_be_enabled()
    # Shift+Enter adds a line; Enter then sends both lines as one reply.
    box.click()
    page.keyboard.type("That sounds like a lot.")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Tell me more?")
    assert box.input_value() == "That sounds like a lot.\nTell me more?"
    page.keyboard.press("Enter")
    expect(page.locator("#chat .user-row").nth(1)).to_contain_text("Tell me more?")
    wait_answered(page, 3)
    assert page.locator("#chat .user-row").count() == 2
    assert box.input_value() == ""
    shot(page, "practice-coaching-1366")

    page.get_by_role("button", name="End and see debrief").click()
    expect(page.locator("#debrief")).to_contain_text("Your debrief", timeout=60_000)
    # The debrief is scrolled into view: its heading is on screen at 1366x900.
    page.wait_for_function(
        """() => {
            const d = document.querySelector('#debrief');
            const r = d.getBoundingClientRect();
            return r.top >= 0 && r.top < window.innerHeight * 0.6;
        }""",
        timeout=10_000,
    )
    shot(page, "practice-debrief-1366", full=False)
    shot(page, "practice-debrief-full-1366")


def test_picking_another_situation_while_thinking_keeps_the_new_card(page: Any) -> None:
    from playwright.sync_api import expect

    start(page, "Jo Switch")
    reply_box(page).fill("What's been happening?")
    page.locator("#send").click()
    expect(page.locator("#chat")).to_contain_text("is thinking", timeout=10_000)
    page.get_by_text("Row on the shop floor").first.click()
    expect(page.locator("#status")).to_contain_text("talk to Bernie", timeout=10_000)
    time.sleep(6)  # past the scripted model's pause: the late answer has arrived and was dropped
    expect(page.locator("#status")).to_contain_text("talk to Bernie")
    expect(page.locator("#scenario-card")).to_contain_text("Bernie")
    assert page.locator("#chat .bot-row").count() == 0
    expect(reply_box(page)).to_be_enabled()


def test_evaluate_plots_read_at_their_size_and_disagreements_are_listed(
    page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED, encoding="utf-8")
    page.get_by_role("tab", name="Evaluate (course designers)").click()
    page.locator("#eval-file input[type=file]").set_input_files(str(path))
    page.get_by_text("Check agreement with human ratings").click()
    page.locator("#eval-run").click()
    expect(page.locator("#eval-message")).to_contain_text("rated replies", timeout=WARM_MS)
    plot = page.locator("#eval-plots img").first
    expect(plot).to_be_visible()
    size = plot.evaluate(
        "(img) => ({shown: img.clientWidth, tall: img.clientHeight, natural: img.naturalWidth})"
    )
    # Drawn at 7.5 in, saved at 200 dpi, shown at 750 px: sharp, wide, not a square thumbnail.
    assert size["natural"] >= 1400 and size["shown"] >= 700, size
    assert size["shown"] > 1.5 * size["tall"], size
    expect(page.locator("#eval-notes")).to_contain_text("need labels on the 0-3 scale")
    header = page.locator("#eval-table thead").first
    assert header.bounding_box()["height"] < 80
    expect(page.locator("#eval-table-2")).to_be_visible()
    expect(page.locator("#eval-table-2")).to_contain_text("human label")
    shot(page, "evaluate-agreement-1366")


def test_cohort_view_follows_a_trainee_who_joined_with_the_code(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Cohort (facilitators)").click()
    page.locator("#cohort-name input, #cohort-name textarea").first.fill("Ward managers, March")
    page.locator("#cohort-create").click()
    expect(page.locator("#cohort-message")).to_contain_text("Give your trainees the code")
    code = page.locator("#cohort-message strong").nth(1).inner_text().strip()
    assert len(code) == 6, code

    page.get_by_role("tab", name="Practice").click()
    start(page, "Cohort Trainee")
    reply_box(page).fill("I'm listening. What's been going on?")
    reply_box(page).press("Enter")
    wait_answered(page, 2)
    page.get_by_role("tab", name="My history").click()
    page.locator("#cohort-join").get_by_text("Join a cohort").click()
    page.locator("#cohort-code input, #cohort-code textarea").first.fill(code.lower())
    page.locator("#cohort-join-button").click()
    expect(page.locator("#cohort-join-message")).to_contain_text("joined")
    expect(page.locator("#history-table")).to_contain_text("Extra patients, again")
    # Headers wrap between words only: a narrow "Replies" column never shows "Re/ply".
    breaks = page.locator("#history-table th").evaluate_all(
        "(cells) => cells.flatMap(c => [c, ...c.querySelectorAll('*')])"
        ".map(c => getComputedStyle(c).wordBreak + '/' + getComputedStyle(c).overflowWrap)"
    )
    assert breaks and set(breaks) == {"normal/normal"}, breaks
    shot(page, "history-1366")

    page.get_by_role("tab", name="Cohort (facilitators)").click()
    page.locator("#cohort-show").click()
    expect(page.locator("#cohort-message")).to_contain_text("1 trainee", timeout=30_000)
    expect(page.locator("#cohort-trainees")).to_contain_text("Cohort Trainee")
    expect(page.locator("#cohort-behaviours")).to_contain_text("Attending")
    expect(page.locator("#cohort-scenarios")).to_contain_text("Extra patients, again")
    expect(page.locator("#cohort-csv")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#cohort-csv").click()
    assert "Cohort Trainee" in Path(download.value.path()).read_text(encoding="utf-8")
    shot(page, "cohort-1366")


def test_a_name_typed_while_the_page_loads_is_not_replaced(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(app_url)
        box = page.locator("#trainee input, #trainee textarea").first
        box.fill("Quick Typist")  # as soon as the box exists, before the load events ran
        page.get_by_text("Extra patients, again").first.wait_for()
        time.sleep(2)
        expect(box).to_have_value("Quick Typist")
    finally:
        context.close()


def test_the_name_is_kept_across_a_reload(page: Any) -> None:
    from playwright.sync_api import expect

    name = page.locator("#trainee input, #trainee textarea").first
    name.fill("Remembered Name")
    name.blur()
    time.sleep(1.5)  # the change reaches local storage
    page.reload()
    expect(page.locator("#trainee input, #trainee textarea").first).to_have_value(
        "Remembered Name", timeout=15_000
    )


@pytest.mark.parametrize(("label", "viewport"), [("1366", DESKTOP), ("390", PHONE)])
def test_every_tab_screenshot(browser: Any, app_url: str, label: str, viewport: Any) -> None:
    context, page = open_page(browser, app_url, viewport)
    try:
        shot(page, f"tab-practice-{label}")
        tabs = ["My history", "Scenarios (facilitators)", "Evaluate (course designers)"]
        for tab in [*tabs, "Cohort (facilitators)"]:
            open_tab(page, tab)
            time.sleep(0.5)
            shot(page, f"tab-{tab.replace('My ', '').split()[0].lower()}-{label}")
    finally:
        context.close()


def test_the_practice_tab_works_at_phone_width(browser: Any, app_url: str) -> None:
    from playwright.sync_api import expect

    context, page = open_page(browser, app_url, PHONE)
    try:
        start(page, "Phone User")
        box = reply_box(page)
        box.fill("What's been happening?")
        box.press("Enter")
        wait_answered(page, 2)
        expect(page.locator("#feedback")).to_contain_text("How reply 1 landed", timeout=30_000)
        # Nothing wider than the screen: no sideways scrolling on a phone.
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, width
        for selector in ("#reply", "#send", "#end", "#chat"):
            box_ = page.locator(selector).first.bounding_box()
            assert box_ is not None and box_["x"] >= 0
            assert box_["x"] + box_["width"] <= PHONE["width"] + 1, selector
        shot(page, "practice-phone-390")
    finally:
        context.close()


def test_the_editor_does_not_colour_text_after_an_apostrophe(page: Any) -> None:
    open_tab(page, "Scenarios (facilitators)")
    page.locator("#editor .cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.insert_text("note: Sam's been off sick\n")
    colours = page.evaluate(
        """() => {
            const line = document.querySelector('#editor .cm-line');
            const plain = getComputedStyle(line).color;
            return [...line.querySelectorAll('span')]
                .filter(s => s.textContent.includes("s been"))
                .map(s => getComputedStyle(s).color === plain);
        }"""
    )
    assert all(colours), colours  # no span of its own colour over "s been off sick"
