"""Who a trainee is: a name with a personal passphrase, or a reverse proxy's signed-in user.

Decision (docs/security.md): trainees need no account, so the first time a name is used its
trainee chooses a passphrase; from then on that passphrase is needed to see the name's history,
download its transcripts or add sessions under it. Only a salted scrypt hash is stored
(:mod:`simulator.store.trainees`). An organisation with single sign-on instead sets
``RAPPORT_TRUSTED_USER_HEADER`` and puts the app behind a proxy that signs users in and sets
that header; then the header is the trainee's name and no passphrase is asked.

Wrong passphrases are rate-limited per client, per name and server-wide
(:mod:`simulator.ui.throttle`). A conversation started without a name needs no passphrase and is
listed in nobody's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simulator.store.database import StoreError
from simulator.store.trainees import (
    hash_passphrase,
    name_key,
    passphrase_problem,
    verify_passphrase,
)
from simulator.ui.context import ANONYMOUS, AppContext, clean_name
from simulator.ui.text import as_text
from simulator.ui.throttle import refused, wait_message

NEED_HEADER = (
    "You are not signed in: open Rapport through your organisation's sign-in page "
    "(this server takes your name from it)."
)


class Refused(Exception):
    """The trainee could not be identified; ``str()`` is the message to show (Markdown)."""


@dataclass(frozen=True)
class Trainee:
    """A verified trainee.

    Attributes:
        name: The name to store sessions under, as typed (cleaned).
        claimed_now: True when this call set the name's passphrase.
    """

    name: str
    claimed_now: bool = False


def is_anonymous(name: str | None) -> bool:
    """Whether a typed name means "no name" (then nothing is listed under it)."""
    cleaned = clean_name(name)
    return not cleaned or name_key(cleaned) == ANONYMOUS


def header_name(ctx: AppContext, headers: Mapping[str, str] | None) -> str:
    """The trainee named by the trusted proxy header.

    Raises:
        Refused: The header is missing or empty.
    """
    value = (headers or {}).get(ctx.trusted_header or "", "")
    name = clean_name(value)
    if not name:
        raise Refused(NEED_HEADER)
    return name


def verify(
    ctx: AppContext,
    name: str | None,
    passphrase: str | None,
    *,
    client: str = "local",
    headers: Mapping[str, str] | None = None,
) -> Trainee:
    """Check a trainee's name and passphrase; the first passphrase given for a name claims it.

    Args:
        ctx: The app context (store, limiter, trusted header).
        name: The name typed at the top of the page (ignored with a trusted header).
        passphrase: The passphrase typed next to it.
        client: The client's address, for the rate limit.
        headers: The request's headers (lower-case names), for the trusted header.

    Raises:
        Refused: No name, a wrong passphrase, too many attempts, or no passphrase chosen yet.
    """
    if ctx.trusted_header:
        return Trainee(header_name(ctx, headers))
    cleaned = clean_name(name)
    if is_anonymous(cleaned):
        raise Refused("Type your name in **Your name** at the top of the page.")
    shown = as_text(cleaned)
    secret = passphrase or ""
    keys = [f"client:{client}", f"trainee:{name_key(cleaned)}"]
    wait = ctx.limiter.wait_s(keys)
    if wait > 0:
        refused("trainee", cleaned, client, f"too many failures, {wait:.0f} s to wait")
        raise Refused(wait_message(wait))
    try:
        stored = ctx.store.trainee_credential(cleaned)
        if stored is None:
            if problem := passphrase_problem(secret):
                raise Refused(
                    f"**{shown}** has no passphrase yet: {problem} in **Your passphrase** at "
                    "the top of the page. It keeps your history yours; you will need it each "
                    "time you come back."
                )
            if ctx.store.claim_trainee(cleaned, hash_passphrase(secret)):
                return Trainee(cleaned, claimed_now=True)
            stored = ctx.store.trainee_credential(cleaned)  # claimed a moment ago by another tab
    except StoreError as exc:
        raise Refused(f"Your name cannot be checked just now: {as_text(str(exc))}") from None
    if stored is not None and verify_passphrase(secret, stored):
        ctx.limiter.succeeded(keys[1])
        return Trainee(cleaned)
    ctx.limiter.failed(keys)
    refused("trainee", cleaned, client, "wrong passphrase")
    raise Refused(
        f"That passphrase does not match the one chosen for **{shown}**. Check it, or type "
        "another name if this is not you (whoever runs Rapport can reset a forgotten passphrase)."
    )
