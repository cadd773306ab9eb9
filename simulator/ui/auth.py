"""Who may open the facilitator and course-designer tabs.

Decision: Gradio's own ``launch(auth=...)`` gates the whole app, and trainees must not need an
account, so those tabs (Scenarios, Evaluate, Cohort) carry their own small login form instead.
The credentials come from ``RAPPORT_ADMIN_USER`` / ``RAPPORT_ADMIN_PASSWORD`` or, failing that,
from a TOML file (``RAPPORT_CONFIG``, else ``<data folder>/config.toml``)::

    [admin]
    user = "facilitator"
    password = "a long passphrase"            # or: password_sha256 = "<hex digest>"

With no credentials configured the tabs are open when the server listens on loopback only (a
single-user laptop) and closed when it is reachable from the network (``locked``). Every
handler in those tabs re-checks the login held in the browser session's server-side state
(:meth:`simulator.ui.gate.Gate.on`), so calling the API directly does not bypass the form.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

NOT_SIGNED_IN = "Sign in as a facilitator first (the form at the top of this tab)."
"""What every facilitator handler answers a caller who has not signed in."""


class ConfigError(ValueError):
    """The admin configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class AdminGate:
    """The facilitator login, or none.

    Attributes:
        user: The user name, or None when the admin tabs are open to everyone.
        password_sha256: Hex SHA-256 of the password.
        source: Where the credentials came from (for the start-up message).
        locked: No login is configured but the server is reachable from the network: the
            admin tabs stay closed to everyone.
    """

    user: str | None = None
    password_sha256: str = ""
    source: str = "not configured"
    locked: bool = False

    @property
    def required(self) -> bool:
        """Whether the admin tabs ask for a login."""
        return self.user is not None or self.locked

    def check(self, user: str, password: str) -> bool:
        """True when the user name and password match (constant-time comparisons)."""
        if self.locked:
            return False
        if self.user is None:
            return True
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        same_user = hmac.compare_digest(user.strip().encode("utf-8"), self.user.encode("utf-8"))
        same_password = hmac.compare_digest(digest, self.password_sha256)
        return same_user and same_password


def is_loopback(host: str) -> bool:
    """Whether a server address is reachable from this computer only."""
    if host.strip().lower() in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def for_server(gate: AdminGate, host: str) -> AdminGate:
    """``gate``, or a locked one when no login is configured and ``host`` is not loopback."""
    if gate.required or is_loopback(host):
        return gate
    return AdminGate(source=f"no login configured and the server listens on {host}", locked=True)


def _config_path() -> Path:
    explicit = os.environ.get("RAPPORT_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    from simulator.files.paths import data_dir

    return data_dir() / "config.toml"


def load_admin_gate() -> AdminGate:
    """Read the admin credentials from the environment, else the config file.

    Raises:
        ConfigError: Only one of user/password is set, or the config file is unreadable.
    """
    user = os.environ.get("RAPPORT_ADMIN_USER")
    password = os.environ.get("RAPPORT_ADMIN_PASSWORD")
    if user or password:
        if not (user and password):
            raise ConfigError(
                "set both RAPPORT_ADMIN_USER and RAPPORT_ADMIN_PASSWORD, or neither "
                "(then the facilitator tabs are open to everyone)"
            )
        return AdminGate(user, hashlib.sha256(password.encode("utf-8")).hexdigest(), "environment")
    path = _config_path()
    if not path.is_file():
        if os.environ.get("RAPPORT_CONFIG"):
            raise ConfigError(f"RAPPORT_CONFIG names {path}, which is not a file")
        return AdminGate()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it as TOML: {exc}") from None
    admin = data.get("admin")
    if admin is None:
        return AdminGate()
    if not isinstance(admin, dict) or not isinstance(admin.get("user"), str):
        raise ConfigError(f'{path}: [admin] needs user = "..." and password = "..."')
    if isinstance(admin.get("password_sha256"), str):
        digest = admin["password_sha256"].strip().lower()
    elif isinstance(admin.get("password"), str) and admin["password"]:
        digest = hashlib.sha256(admin["password"].encode("utf-8")).hexdigest()
    else:
        raise ConfigError(f'{path}: [admin] needs password = "..." or password_sha256 = "..."')
    return AdminGate(admin["user"], digest, str(path))
