"""Secrets: remember values that must never be shown, and scrub them from any text.

Values interpolated from the environment (`${env:NAME}`), API tokens and the query strings of
media URLs are secrets. Everything that prints, logs or saves text passes it through `redact`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

_lock = threading.Lock()
_secrets: set[str] = set()
# Secrets shorter than this are not scrubbed by substring: a 2-letter value would mangle text.
_MIN_LEN = 4
MASK = "***"
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s#\"'<>]*")


def register_secret(value: str) -> None:
    """Remember `value` as a secret for the rest of the process."""
    if value and len(value) >= _MIN_LEN:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace every known secret and every URL query string in `text` with a mask."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _URL_QUERY.sub(lambda m: f"{m.group(1)}?{MASK}", text)


_salted: dict[str, Any] = {}  # salt -> sha256 state after the salt, copied for each digest


def salted_digest(salt: str, *values: str) -> str:
    """A digest that identifies values without revealing them (salted, so not guessable)."""
    base = _salted.get(salt)
    if base is None:
        base = hashlib.sha256(salt.encode())
        if len(_salted) < 64:
            _salted[salt] = base
    h = base.copy()
    if values:  # the same bytes as one update per value, each after a NUL
        h.update(("\x00" + "\x00".join(values)).encode())
    return "sha256:" + h.hexdigest()[:32]


def forget_secrets() -> None:
    """Forget every registered secret (tests use this between cases)."""
    with _lock:
        _secrets.clear()
