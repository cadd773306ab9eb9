"""The running app on loopback, probed as an anonymous visitor over raw HTTP (issue 13).

gradio_client respects ``api_visibility``; an attacker does not. These tests list every event
handler from the app's own config and API info and call each one through the queue
(``POST /gradio_api/queue/join`` with its ``fn_index``, then the SSE stream), the way a script
would, and check what comes back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.content.loading import available_scenarios
from simulator.services import Services
from simulator.store.trainees import hash_passphrase
from simulator.ui.app import build_app, launch_options
from simulator.ui.auth import AdminGate
from simulator.ui.authoring import NOT_SIGNED_IN
from simulator.ui.context import AppContext
from simulator.ui.throttle import AttemptLimiter

pytestmark = pytest.mark.slow  # every test here loads a real model

ROOT = Path(__file__).resolve().parents[2]
JO_PASSPHRASE = "jo's own passphrase"
SECRET_CONCERN = "The saved scenario hides this concern, a sister in hospital."
SECRET_NOTES = "Saved facilitator notes nobody else may read."
SAVED_ID = "secret-saved-case"
COHORT_CODE, COHORT_NAME = "QZX7K9", "Night team secret cohort"

# Handlers a trainee (anyone, no sign-in) may run; each of the rest must refuse an anonymous
# caller. A new handler is refused unless it is added here on purpose.
TRAINEE = {"on_pick", "start", "send", "on_send", "end", "try_again", "go_back", "refresh_choices"}
# These need the name's passphrase (joining a cohort shows the name's sessions to a facilitator).
TRAINEE_IDENTITY = {"history", "on_refresh", "history_download", "cohort_join", "on_join"}
SIGN_IN = {"on_sign_in", "on_sign_in_1", "on_sign_in_2"}  # one form per facilitator tab
KNOWN_FACILITATOR = {
    "validate",
    "on_load",
    "preview",
    "save",
    "on_upload",
    "on_card",
    "evaluate",
    "cohort",
    "cohort_create",
}


def saved_scenario_text() -> str:
    """A facilitator's own scenario, with a hidden concern and notes that must stay hidden."""
    text = (ROOT / "scenarios" / "workload-conflict.yaml").read_text(encoding="utf-8")
    text = text.replace("id: workload-conflict", f"id: {SAVED_ID}", 1)
    marker = "  hidden_concerns:\n"
    extra = f"    - text: {SECRET_CONCERN}\n      revealed_at: opening-up\n"
    text = text.replace(marker, marker + extra, 1)
    return text.replace("facilitator_notes: >", f"facilitator_notes: >\n  {SECRET_NOTES}", 1)


@pytest.fixture
def secured(ctx: AppContext, free_port: int, rapport_home: Path) -> Iterator[tuple[str, Any]]:
    """The app with a facilitator login, a saved scenario and Jo's passphrase-protected past."""
    folder = rapport_home / "scenarios"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SAVED_ID}.yaml").write_text(saved_scenario_text(), encoding="utf-8")
    assert SAVED_ID in available_scenarios(), "the saved scenario must load"
    ctx.gate = AdminGate("fac", hashlib.sha256(b"pw").hexdigest(), "test")
    ctx.max_upload_mb = 1
    ctx.limiter = AttemptLimiter(free_failures=1000, global_failures=1000)
    ctx.store.claim_trainee("Jo", hash_passphrase(JO_PASSPHRASE))
    session = Services(ctx.store, "scripted").start_session("workload-conflict", trainee="Jo")
    session.respond("What's been happening on your shifts?")
    ctx.store.create_cohort(COHORT_CODE, COHORT_NAME)
    demo = build_app(ctx)
    demo.launch(
        server_name="127.0.0.1",
        server_port=free_port,
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(ctx),
    )
    yield f"http://127.0.0.1:{free_port}", demo
    demo.close()


def call(base: str, fn_index: int, data: list[Any], session_hash: str) -> dict[str, Any]:
    """Run one event through the queue as a browser would; the final SSE message."""
    with httpx.Client(base_url=base, timeout=120) as http:
        joined = http.post(
            "/gradio_api/queue/join",
            json={
                "data": data,
                "event_data": None,
                "fn_index": fn_index,
                "trigger_id": None,
                "session_hash": session_hash,
            },
        )
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": session_hash}
        ) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message["msg"] == "process_completed":
                    return dict(message)
    raise AssertionError(f"no result for fn_index {fn_index}")


def upload(base: str, name: str, content: bytes) -> httpx.Response:
    return httpx.post(f"{base}/gradio_api/upload", files={"files": (name, content)}, timeout=60)


def payload(
    config: dict[str, Any], dependency: dict[str, Any], file_data: dict[str, Any]
) -> list[Any]:
    """Realistic input values: a real scenario, Jo's name with a wrong passphrase, a file."""
    components = {c["id"]: c for c in config["components"]}
    values = []
    for input_id in dependency["inputs"]:
        component = components[input_id]
        kind, props = component["type"], component.get("props", {})
        if kind == "state":
            values.append(True)  # ignored by the server: state is kept server-side
        elif props.get("elem_id") == "trainee":
            values.append("Jo")
        elif props.get("elem_id") == "passphrase":
            values.append("a wrong passphrase")
        elif kind == "code":
            values.append(saved_scenario_text())
        elif kind in {"dropdown", "radio"}:
            choices = props.get("choices") or []
            values.append(choices[0][1] if choices else None)
        elif kind in {"uploadbutton", "file"}:
            types = props.get("file_types") or [".yaml"]
            values.append(file_data[".yaml"] if ".yaml" in types else file_data[".json"])
        elif kind == "textbox":
            values.append("hello there")
        else:
            values.append(None)
    return values


def output_text(result: dict[str, Any]) -> str:
    return json.dumps(result.get("output", {}), ensure_ascii=False)


def test_every_handler_but_the_trainees_refuses_an_anonymous_caller(
    secured: tuple[str, Any], ctx: AppContext, rapport_home: Path
) -> None:
    base, _ = secured
    config = httpx.get(f"{base}/config", timeout=30).json()
    info = httpx.get(f"{base}/gradio_api/info", timeout=30).json()
    dependencies = [d for d in config["dependencies"] if d["backend_fn"]]
    names = {d["api_name"] for d in dependencies}
    # The API info lists the public endpoints; every one of them is among those probed here.
    assert {name.lstrip("/") for name in info["named_endpoints"]} <= names
    assert names >= KNOWN_FACILITATOR and names >= TRAINEE_IDENTITY and names >= SIGN_IN
    card = {"spec": "chara_card_v2", "data": {"name": "Robin", "first_mes": "Hi."}}
    file_data = {}
    for suffix, content in ((".yaml", saved_scenario_text()), (".json", json.dumps(card))):
        uploaded = upload(base, f"case{suffix}", content.encode())
        assert uploaded.status_code == 200  # anyone may upload (up to the limit)...
        path = uploaded.json()[0]
        file_data[suffix] = {
            "path": path,
            "orig_name": f"case{suffix}",
            "meta": {"_type": "gradio.FileData"},
        }

    refused = set()
    for dependency in dependencies:
        name = dependency["api_name"]
        result = call(
            base, dependency["id"], payload(config, dependency, file_data), uuid.uuid4().hex
        )
        text = output_text(result)
        if name in TRAINEE:
            assert result["success"], (name, text)
            if name == "start":  # Jo's name without Jo's passphrase starts nothing
                assert "does not match the one chosen for" in text
        elif name in TRAINEE_IDENTITY:
            assert result["success"] and "does not match the one chosen for" in text, name
            assert "conversation(s) saved" not in text and "ready" not in text
            assert "joined" not in text
        elif name in SIGN_IN:
            assert result["success"] and "do not match" in text, name
        else:
            assert not result["success"], (name, text)
            assert result["output"]["error"] == NOT_SIGNED_IN, name
            refused.add(name)
    assert refused >= KNOWN_FACILITATOR
    assert sorted(p.name for p in (rapport_home / "scenarios").iterdir()) == [f"{SAVED_ID}.yaml"]
    assert len(ctx.store.list_sessions("Jo")) == 1  # nothing was added under Jo's name


def test_the_public_config_names_nothing_hidden(secured: tuple[str, Any]) -> None:
    base, _ = secured
    config_text = httpx.get(f"{base}/config", timeout=30).text
    assert SAVED_ID not in config_text and SECRET_CONCERN not in config_text
    assert SECRET_NOTES not in config_text
    assert COHORT_CODE not in config_text and COHORT_NAME not in config_text
    for scenario in available_scenarios().values():
        for concern in scenario.persona.hidden_concerns:
            assert json.dumps(concern.text)[1:-1] not in config_text, scenario.id
        assert json.dumps(scenario.facilitator_notes.strip())[1:-1] not in config_text
    # The page still offers the shipped situations to trainees.
    assert "workload-conflict" in config_text


def test_signing_in_fills_the_facilitator_lists_and_opens_the_handlers(
    secured: tuple[str, Any],
) -> None:
    base, _ = secured
    config = httpx.get(f"{base}/config", timeout=30).json()
    by_name = {d["api_name"]: d for d in config["dependencies"]}
    browser = uuid.uuid4().hex
    signed = call(base, by_name["on_sign_in"]["id"], ["fac", "pw"], browser)
    assert signed["success"] and SAVED_ID in output_text(signed)
    loaded = call(base, by_name["on_load"]["id"], [None, SAVED_ID], browser)
    assert loaded["success"] and SECRET_CONCERN in output_text(loaded)
    # Another browser (session) is still refused.
    other = call(base, by_name["validate"]["id"], [None, "id: x"], uuid.uuid4().hex)
    assert other["output"]["error"] == NOT_SIGNED_IN


def test_history_needs_the_trainees_passphrase(secured: tuple[str, Any]) -> None:
    base, _ = secured
    config = httpx.get(f"{base}/config", timeout=30).json()
    history = next(d for d in config["dependencies"] if d["api_name"] == "history")
    for passphrase in ("", "a wrong passphrase", JO_PASSPHRASE.upper()):
        result = call(base, history["id"], ["Jo", passphrase], uuid.uuid4().hex)
        assert "conversation(s) saved" not in output_text(result)
        assert "What's been happening" not in output_text(result)
    mine = call(base, history["id"], ["jo", JO_PASSPHRASE], uuid.uuid4().hex)  # any case
    assert "1 conversation(s) saved under" in output_text(mine)


def test_sign_in_attempts_are_rate_limited_and_logged(
    secured: tuple[str, Any], ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = secured
    ctx.limiter = AttemptLimiter()  # the defaults a real server runs with
    config = httpx.get(f"{base}/config", timeout=30).json()
    sign_in = next(d for d in config["dependencies"] if d["api_name"] == "on_sign_in")["id"]
    caplog.set_level(logging.WARNING, logger="simulator.ui.throttle")
    browser = uuid.uuid4().hex
    for _ in range(5):
        assert "do not match" in output_text(call(base, sign_in, ["fac", "guess"], browser))
    # Now even the right password waits: guessing is slowed, and the refusal says why.
    blocked = output_text(call(base, sign_in, ["fac", "pw"], uuid.uuid4().hex))
    assert "Too many wrong attempts" in blocked and SAVED_ID not in blocked
    refusals = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refusals) == 6 and all("127.0.0.1" in r.getMessage() for r in refusals)
    assert "guess" not in caplog.text  # the secret is never logged


def test_an_upload_over_the_limit_is_refused(secured: tuple[str, Any]) -> None:
    base, _ = secured
    too_big = upload(base, "big.csv", b"x" * (1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert upload(base, "small.csv", b"text\nhello\n").status_code == 200
