"""Facilitator login: from the environment or a TOML file; open when not configured."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.ui.auth import AdminGate, ConfigError, load_admin_gate
from simulator.ui.context import SettingsError, clean_name, concurrency_from_env


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
