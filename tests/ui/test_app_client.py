"""The running app through gradio_client: per-browser state, the queue, the login, app.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from simulator.ui.app import build_app
from simulator.ui.auth import AdminGate
from simulator.ui.context import AppContext
from tests.ui.helpers import plain

ROOT = Path(__file__).resolve().parents[2]
COACHING = "Coaching: feedback after every reply"
# Output positions of the practice endpoints (gr.State and layout columns are not returned).
CHAT, REPLY, FEEDBACK, STATUS, DEBRIEF = 0, 1, 2, 3, 4


def launch(ctx: AppContext, port: int) -> Any:
    demo = build_app(ctx)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return demo


@pytest.fixture
def app_url(ctx: AppContext, free_port: int) -> Iterator[str]:
    demo = launch(ctx, free_port)
    yield f"http://127.0.0.1:{free_port}/"
    demo.close()


def texts(chat: list[dict[str, Any]]) -> list[str]:
    shown = []
    for message in chat:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"text": content}]
        shown.append(plain("".join(p.get("text", "") for p in parts)))
    return shown


@pytest.mark.slow
def test_two_browsers_keep_their_own_conversations(app_url: str) -> None:
    jo, ann = Client(app_url, verbose=False), Client(app_url, verbose=False)
    jo.predict("workload-conflict", COACHING, "Jo", "jo's passphrase", api_name="/start")
    ann.predict("upset-colleague", COACHING, "Ann", "ann's passphrase", api_name="/start")
    jo_out = jo.predict("Jo's first reply: what's been happening?", api_name="/send")
    ann_out = ann.predict("Ann here. How are you doing?", api_name="/send")
    jo_chat, ann_chat = texts(jo_out[CHAT]), texts(ann_out[CHAT])
    assert jo_chat[1] == "Jo's first reply: what's been happening?" and len(jo_chat) == 3
    assert ann_chat[1] == "Ann here. How are you doing?" and len(ann_chat) == 3
    assert jo_chat[0] != ann_chat[0]  # different scenarios, different openings
    assert "Ann" not in " ".join(jo_chat)


@pytest.mark.slow
def test_four_sessions_at_once_all_complete(app_url: str) -> None:
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def trainee(number: int) -> None:
        try:
            client = Client(app_url, verbose=False)
            client.predict(
                "workload-conflict",
                COACHING,
                f"T{number}",
                f"passphrase {number}",
                api_name="/start",
            )
            client.predict(f"Trainee {number}: what's been happening for you?", api_name="/send")
            client.predict(f"Trainee {number}: that sounds exhausting.", api_name="/send")
            results[number] = client.predict(api_name="/end")
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=trainee, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]
    for number, out in results.items():
        chat = texts(out[CHAT])
        assert chat[1] == f"Trainee {number}: what's been happening for you?"
        assert chat[3] == f"Trainee {number}: that sounds exhausting."
        assert "Your debrief" in out[DEBRIEF]


@pytest.mark.slow
def test_empty_and_long_messages_are_notices_not_errors(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    out = client.predict("", api_name="/send")
    assert out[STATUS] == "⚠ Press Start conversation first."
    client.predict("workload-conflict", COACHING, "", "", api_name="/start")  # no name
    out = client.predict("   ", api_name="/send")
    assert out[STATUS].startswith("⚠ Type what you would say to Sam")
    out = client.predict("word " * 500, api_name="/send")
    # The reply box comes back as an update (its value, and unlocked: nothing is generating).
    assert "keep it under 2000" in out[STATUS] and out[REPLY]["value"] == "word " * 500
    assert out[REPLY]["interactive"] is True
    assert len(out[CHAT]) == 1


def test_scenario_validation_endpoint(app_url: str) -> None:
    # No login configured and served on loopback: the facilitator tabs are open.
    client = Client(app_url, verbose=False)
    shown = client.predict("id: x\npersonna: {}\n", api_name="/validate")
    assert shown.startswith("✖") and "did you mean persona?" in plain(shown)
    assert "<editor>" not in plain(shown)


@pytest.mark.slow
def test_admin_endpoints_refuse_without_login(
    ctx: AppContext, free_port: int, rapport_home: Path, tmp_path: Path
) -> None:
    import hashlib

    ctx.gate = AdminGate("fac", hashlib.sha256(b"pw").hexdigest(), "test")
    demo = launch(ctx, free_port)
    try:
        client = Client(f"http://127.0.0.1:{free_port}/", verbose=False)
        text = (ROOT / "scenarios" / "workload-conflict.yaml").read_text()
        own = text.replace("id: workload-conflict", "id: sneaky", 1)
        for args, endpoint in (
            ((own,), "/save"),
            ((own, "hello"), "/preview"),
            ((own,), "/validate"),
        ):
            with pytest.raises(AppError, match="Sign in as a facilitator first"):
                client.predict(*args, api_name=endpoint)
        assert not (rapport_home / "scenarios" / "sneaky.yaml").exists()
        # Trainees still practise without any facilitator login.
        out = client.predict(
            "workload-conflict", COACHING, "Jo", "jo's passphrase", api_name="/start"
        )
        assert len(out[CHAT]) == 1
    finally:
        demo.close()


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bytes(response.read())
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"app.py did not answer on {url} within {seconds} s")


@pytest.mark.slow
def test_python_app_py_honours_the_server_settings(free_port: int, rapport_home: Path) -> None:
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(free_port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "RAPPORT_MODEL": "scripted",
    }
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        page = wait_for(f"http://127.0.0.1:{free_port}/", process)
        assert b"<html" in page
        config = json.loads(wait_for(f"http://127.0.0.1:{free_port}/config", process))
        assert config["analytics_enabled"] is False
        assert config["title"] == "Rapport: practise a hard conversation"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert f"127.0.0.1:{free_port}" in output


@pytest.mark.slow
def test_a_bad_setting_stops_app_py_with_a_message() -> None:
    env = {**os.environ, "RAPPORT_CONCURRENCY": "lots", "RAPPORT_MODEL": "scripted"}
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "error: RAPPORT_CONCURRENCY='lots'" in done.stderr
    assert "Traceback" not in done.stderr
