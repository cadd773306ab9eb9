"""Facilitator login: from the environment or a TOML file; open when not configured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.ui.auth import AdminGate, ConfigError, load_admin_gate
from simulator.ui.context import AppContext, SettingsError, clean_name, concurrency_from_env


def test_open_when_nothing_is_configured() -> None:
    gate = load_admin_gate()
    assert not gate.required and gate.check("", "")


def test_environment_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_ADMIN_USER", "fac")
    monkeypatch.setenv("RAPPORT_ADMIN_PASSWORD", "s3cret pass")
    gate = load_admin_gate()
    assert gate.required and gate.source == "environment"
    assert gate.check("fac", "s3cret pass") and gate.check(" fac ", "s3cret pass")
    assert not gate.check("fac", "wrong") and not gate.check("other", "s3cret pass")


def test_half_configured_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_ADMIN_USER", "fac")
    with pytest.raises(ConfigError, match="set both"):
        load_admin_gate()


def test_config_file_with_password_or_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("RAPPORT_CONFIG", str(path))
    path.write_text('[admin]\nuser = "fac"\npassword = "pw"\n')
    assert load_admin_gate().check("fac", "pw")
    digest = hashlib.sha256(b"other").hexdigest()
    path.write_text(f'[admin]\nuser = "fac"\npassword_sha256 = "{digest}"\n')
    gate = load_admin_gate()
    assert gate.check("fac", "other") and not gate.check("fac", "pw")
    path.write_text("[admin\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_admin_gate()
    path.write_text('[admin]\nuser = "fac"\n')
    with pytest.raises(ConfigError, match="password"):
        load_admin_gate()


def test_default_config_file_in_the_data_folder(rapport_home: Path) -> None:
    rapport_home.mkdir(parents=True, exist_ok=True)
    (rapport_home / "config.toml").write_text('[admin]\nuser = "a"\npassword = "b"\n')
    assert load_admin_gate().required
    assert AdminGate().check("anything", "at all")


def test_concurrency_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert concurrency_from_env() == 4
    monkeypatch.setenv("RAPPORT_CONCURRENCY", "2")
    assert concurrency_from_env() == 2
    for bad in ("0", "two", "-1", "1000"):
        monkeypatch.setenv("RAPPORT_CONCURRENCY", bad)
        with pytest.raises(SettingsError, match="RAPPORT_CONCURRENCY"):
            concurrency_from_env()


def test_names_are_trimmed_and_bounded() -> None:
    assert clean_name("  Jo   Smith \n") == "Jo Smith"
    assert len(clean_name("x" * 500)) == 80
    assert clean_name(None) == ""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_back_off_doubling_then_are_forgotten() -> None:
    from simulator.ui.throttle import FORGET_AFTER_S, AttemptLimiter

    clock = FakeClock()
    limiter = AttemptLimiter(free_failures=2, base_delay_s=2, max_delay_s=30, clock=clock)
    keys = ["client:1.2.3.4", "trainee:jo"]
    for _ in range(2):
        assert limiter.wait_s(keys) == 0
        limiter.failed(keys)
    assert limiter.wait_s(keys) == 2  # the third try waits 2 s...
    clock.now += 2
    assert limiter.wait_s(keys) == 0
    limiter.failed(keys)
    assert limiter.wait_s(keys) == 4  # ...the fourth 4 s, doubling up to the cap
    for _ in range(10):
        limiter.failed(keys)
    assert limiter.wait_s(keys) == 30
    assert limiter.wait_s(["client:5.6.7.8"]) == 0  # others are not held up
    assert limiter.wait_s(["trainee:jo"]) == 30  # but the name is, from any address
    limiter.succeeded("trainee:jo")
    assert limiter.wait_s(["trainee:jo"]) == 0 and limiter.wait_s(keys) == 30
    clock.now += FORGET_AFTER_S
    assert limiter.wait_s(keys) == 0


def test_many_failures_across_the_server_pause_every_sign_in() -> None:
    from simulator.ui.throttle import AttemptLimiter, wait_message

    clock = FakeClock()
    limiter = AttemptLimiter(global_failures=5, global_window_s=60, clock=clock)
    for number in range(5):
        limiter.failed([f"client:10.0.0.{number}"])  # five addresses, one failure each
        clock.now += 1
    assert limiter.wait_s(["client:10.9.9.9"]) == 55  # until the oldest failure is a minute old
    clock.now += 55
    assert limiter.wait_s(["client:10.9.9.9"]) == 0
    assert wait_message(1.2) == "Too many wrong attempts. Wait 2 seconds, then try again."
    assert "15 minutes" in wait_message(900)


def test_open_tabs_only_on_loopback() -> None:
    from simulator.ui.auth import for_server, is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.1.1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "rapport.example"))
    open_gate = AdminGate()
    assert for_server(open_gate, "127.0.0.1") is open_gate
    locked = for_server(open_gate, "0.0.0.0")
    assert locked.required and locked.locked and not locked.check("", "")
    configured = AdminGate("fac", hashlib.sha256(b"pw").hexdigest())
    assert for_server(configured, "0.0.0.0") is configured


def test_trainee_names_and_passphrases() -> None:
    from simulator.store.trainees import (
        hash_passphrase,
        name_key,
        passphrase_problem,
        verify_passphrase,
    )

    assert name_key("  Jo   SMITH ") == name_key("jo smith") == name_key("Ｊｏ Smith")
    assert name_key("Straße") == name_key("STRASSE")
    stored = hash_passphrase("correct horse")
    assert stored != hash_passphrase("correct horse")  # salted
    assert verify_passphrase("correct horse", stored)
    assert not verify_passphrase("Correct horse", stored)
    assert not verify_passphrase("correct horse", "scrypt$1$2$3$zz$yy")  # damaged: no match
    assert not verify_passphrase("x" * 10_000, stored)
    assert passphrase_problem("short") is not None and passphrase_problem("long enough") is None


def test_an_admin_handler_wired_without_the_gate_stops_the_build(
    ctx: AppContext,
) -> None:
    import gradio as gr

    from simulator.ui.gate import Gate, check_gated, login_form

    with gr.Blocks() as demo:
        gate = Gate(allowed=gr.State(False))
        with login_form(ctx, gate, "Testing"):
            box = gr.Textbox()
            button = gr.Button()
        gate.on(button.click, lambda allowed, text: text, [box], box)
        check_gated(demo, gate)  # all wired through the gate: fine
        button.click(lambda text: text.upper(), box, box)  # forgot the gate
    with pytest.raises(RuntimeError, match="without the sign-in check"):
        check_gated(demo, gate)


def test_the_gate_refuses_before_the_handler_runs() -> None:
    import gradio as gr

    from simulator.ui.gate import guarded

    ran = []

    def handler(allowed: bool, text: str) -> str:
        ran.append(text)
        return text

    checked = guarded(handler)
    for state in (False, None, "true", 1):
        with pytest.raises(gr.Error, match="Sign in as a facilitator first"):
            checked(state, "x")
    assert ran == [] and checked(True, "y") == "y" and ran == ["y"]
