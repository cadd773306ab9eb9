"""Trainee names and personal passphrases: how a name is compared, how a passphrase is kept.

A trainee chooses a passphrase the first time they use a name; from then on that passphrase is
needed to read the name's history or to add sessions under it (see docs/security.md). Only a
salted scrypt hash is stored, never the passphrase itself. Names are compared case-insensitively
and with Unicode compatibility forms folded, so "jo smith", "Jo  Smith" and "JO SMITH" are one
trainee.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

MIN_PASSPHRASE_CHARS = 8
MAX_PASSPHRASE_CHARS = 200
"""Longer input is refused before hashing: scrypt's cost grows with the input it reads."""

# scrypt with n=2**14, r=8, p=1 (the figures RFC 7914 and Python's docs use for interactive
# log-ins): about 16 MiB and a few tens of milliseconds a check, so guessing offline is slow and
# a server under attack is not (attempts are rate-limited on top, see simulator.ui.throttle).
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def name_key(name: str) -> str:
    """The form two names are compared in: NFKC, case-folded, whitespace single-spaced."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())


def passphrase_problem(passphrase: str) -> str | None:
    """Why a passphrase cannot be chosen (None when it can)."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        return f"choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters"
    if len(passphrase) > MAX_PASSPHRASE_CHARS:
        return f"choose a passphrase of at most {MAX_PASSPHRASE_CHARS} characters"
    return None


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n, dklen=32
    )


def hash_passphrase(passphrase: str) -> str:
    """A salted scrypt hash, as one string that records its own parameters."""
    salt = os.urandom(16)
    digest = _derive(passphrase, salt, _N, _R, _P)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """Whether ``passphrase`` matches a hash from :func:`hash_passphrase` (constant time)."""
    if len(passphrase) > MAX_PASSPHRASE_CHARS:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        candidate = _derive(passphrase, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(candidate, bytes.fromhex(digest))
    except ValueError:  # a damaged hash never matches
        return False
