"""End to end in headless Chromium, with the REAL embedded persona model.

``python app.py`` runs in a subprocess on a free port with an empty RAPPORT_HOME. The tests play
workload-conflict (two replies, coaching feedback, the debrief chart), check that HTML in a
message is shown as text, author a broken scenario, and take a screenshot of every tab into
``$RAPPORT_SCREENSHOTS`` (default /tmp/rapport-screenshots). Every request the page makes must
go to the app itself: nothing is fetched from the internet.
"""

from __future__ import annotations

import os
import re
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
REPLY_TIMEOUT_MS = 300_000  # the embedded model on a 2-core CPU can take a minute per reply
SHOTS = Path(os.environ.get("RAPPORT_SCREENSHOTS", "/tmp/rapport-screenshots"))


def serve(home: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python app.py`` on a free port; return the process and its URL once it answers."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_ADMIN")}
    env.pop("RAPPORT_MODEL", None)  # the real embedded model unless a test names another
    env.update(
        GRADIO_SERVER_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        RAPPORT_HOME=str(home),
        HF_HUB_OFFLINE="1",
        **settings,
    )
    log = home / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited: {log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return process, url
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("app.py did not start within 120 s") from None
            time.sleep(0.5)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = serve(tmp_path_factory.mktemp("browser-home"))
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.requests = []
    page.dialogs = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url)
    page.get_by_text("Extra patients, again").first.wait_for()
    yield page
    outside = [u for u in page.requests if not u.startswith((app_url, "data:", "blob:", "about:"))]
    context.close()
    assert outside == [], f"the page reached outside the app: {outside}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def bot_messages(page: Any) -> Any:
    return page.locator("#chat .message-row.bot-row, #chat .bot-row")


def send(page: Any, text: str) -> None:
    page.locator("#reply").locator("textarea, input").first.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def wait_for_persona_replies(page: Any, count: int) -> None:
    """Wait until the chat holds ``count`` persona messages after the opening and none pending."""
    page.wait_for_function(
        """(n) => {
            const chat = document.querySelector('#chat');
            if (!chat || chat.innerText.includes('is thinking')) return false;
            return chat.querySelectorAll('.bot-row').length >= n + 1;
        }""",
        arg=count,
        timeout=REPLY_TIMEOUT_MS,
    )


def test_practice_with_the_real_model_coaching_and_debrief(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#trainee").locator("input, textarea").first.fill("Jo Browser")
    page.locator("#passphrase").locator("input").first.fill("jo browser's passphrase")
    shot(page, "1-practice-first-visit")
    page.get_by_text("Extra patients, again").first.click()
    expect(page.locator("#scenario-card")).to_contain_text("Ward manager")
    page.get_by_role("button", name="Start conversation").click()
    # The first start after launch waits for the model to finish loading.
    expect(page.locator("#chat")).to_contain_text(
        "Do you actually need me for something?", timeout=REPLY_TIMEOUT_MS
    )

    page.get_by_role("button", name="Send", exact=True).click()  # empty: a clear warning
    expect(page.get_by_text("Type what you would say to Sam").first).to_be_visible()
    # The pop-up shows while the event still runs, and a click on Send before it has finished
    # is dropped; the status line is written when it has.
    expect(page.locator("#status")).to_contain_text("Type what you would say to Sam")

    send(page, "I've got ten minutes and I'm not going anywhere. What's been happening today?")
    expect(page.locator("#chat")).to_contain_text("What's been happening today?")
    wait_for_persona_replies(page, 1)
    expect(page.locator("#feedback")).to_contain_text("How reply 1 landed", timeout=30_000)
    for name in ("Attending", "Understanding", "Empathising", "Helping"):
        expect(page.locator("#feedback")).to_contain_text(name)
    send(page, "So they gave you two extra patients without asking. That sounds exhausting.")
    wait_for_persona_replies(page, 2)
    expect(page.locator("#feedback")).to_contain_text("How reply 2 landed", timeout=30_000)
    replies = bot_messages(page).all_inner_texts()
    assert len(replies) == 3 and all(r.strip() for r in replies), replies
    shot(page, "2-practice-coaching")

    page.get_by_role("button", name="End and see debrief").click()
    expect(page.locator("#debrief")).to_contain_text("Your debrief", timeout=60_000)
    expect(page.locator("#debrief")).to_contain_text("What to try next time")
    expect(page.locator("#behaviours-plot img").first).to_be_visible(timeout=30_000)
    expect(page.locator("#trust-plot img").first).to_be_visible()
    expect(page.locator("#download-json")).to_be_visible()
    expect(page.locator("#debrief")).not_to_contain_text("started guarded")
    expect(page.locator("#debrief")).to_contain_text(
        re.compile("At first Sam was guarded|Sam was guarded at first")
    )
    shot(page, "3-debrief")

    # Another situation picked now: nothing of Sam's conversation stays under Bernie's brief.
    page.get_by_text("Row on the shop floor").first.click()
    expect(page.locator("#status")).to_contain_text(
        "Your conversation with Sam has ended. It is kept in My history under Jo Browser"
    )
    expect(page.locator("#status")).to_contain_text("talk to Bernie")
    expect(page.locator("#debrief-area")).to_be_hidden()
    assert bot_messages(page).count() == 0
    shot(page, "3b-practice-switched")

    page.get_by_role("tab", name="My history").click()
    page.get_by_role("button", name="Show my history").click()
    expect(page.locator("#history-message")).to_contain_text("1 conversation(s)")
    expect(page.locator("#history-table")).to_contain_text("Extra patients, again")
    shot(page, "4-history")


def test_html_in_a_message_is_shown_as_text(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Extra patients, again").first.click()
    page.get_by_role("button", name="Start conversation").click()
    # The first start after launch waits for the model to finish loading.
    expect(page.locator("#chat")).to_contain_text(
        "Do you actually need me for something?", timeout=REPLY_TIMEOUT_MS
    )
    attack = (
        '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
        "<b id=bold>bold</b> <a href=javascript:alert(3)>link</a>"
    )
    send(page, attack)
    user = page.locator("#chat .user-row").first
    expect(user).to_contain_text("<script>window.__xss=2</script>")
    expect(user).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert page.locator("#chat #bold, #chat script, #chat img[src='x'], #chat a").count() == 0
    wait_for_persona_replies(page, 1)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_authoring_a_broken_scenario_shows_the_validation_message(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Scenarios (facilitators)").click()
    expect(page.locator("#validation")).to_contain_text("Valid")
    page.get_by_role("button", name="Save scenario").click()  # the untouched template
    expect(page.locator("#save-out")).to_contain_text("template's example text: id, title")
    shot(page, "5-scenarios")
    editor = page.locator("#editor .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text("id: my-ward\nversion: 1\ntitle: Broken\npersonna:\n  name: Sam\n")
    expect(page.locator("#validation")).to_contain_text("did you mean persona?", timeout=20_000)
    expect(page.locator("#validation")).to_contain_text("problem")
    shot(page, "6-scenarios-broken")
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator("#save-out")).to_contain_text("Not saved")

    page.get_by_role("tab", name="Evaluate (course designers)").click()
    expect(page.get_by_role("button", name="Run")).to_be_visible()
    shot(page, "7-evaluate")


def test_facilitator_tabs_need_the_login_when_one_is_set(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    home = tmp_path_factory.mktemp("login-home")
    process, url = serve(
        home, RAPPORT_MODEL="scripted", RAPPORT_ADMIN_USER="fac", RAPPORT_ADMIN_PASSWORD="pw"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Scenarios (facilitators)").click()
        expect(page.get_by_text("Writing scenarios is for facilitators.")).to_be_visible()
        assert not page.locator("#editor").is_visible()
        shot(page, "8-login")
        page.get_by_label("User name").first.fill("fac")
        page.get_by_label("Password").first.fill("wrong")
        page.get_by_role("button", name="Sign in").first.click()
        expect(page.get_by_text("do not match").first).to_be_visible()
        assert not page.locator("#editor").is_visible()
        page.get_by_label("Password").first.fill("pw")
        page.get_by_role("button", name="Sign in").first.click()
        expect(page.locator("#editor")).to_be_visible()
        page.get_by_role("tab", name="Evaluate (course designers)").click()
        expect(page.locator("#eval-run")).to_be_visible()  # one sign-in opens both tabs
    finally:
        context.close()
        process.terminate()
        process.wait(timeout=30)
