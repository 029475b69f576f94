"""Every spelling of a secret that a server (or a log) may send back.

A secret is registered once (redact.py) and masked wherever it appears; but a server that echoes
what it was sent may echo it in another spelling: a pre-signed URL's signature percent-decoded
(`AZSENT+q/w=` for `AZSENT%2Bq%2Fw%3D`) or re-encoded (with `%2b` for `%2B`), the token in
base64 (an `Authorization: Basic` header, a debug dump), a hex signature in upper case. This
module derives those spellings; redact.py masks them all.

`spellings(value)` gives the exact spellings (matched as they are) and the case-insensitive ones
(hex values, whose case means nothing: matched in any case, kept in lower case).
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qsl, quote, quote_plus, unquote, unquote_plus, urlsplit

# Derived spellings shorter than this are not kept: a short one would mask ordinary text.
MIN_DERIVED = 8
_HEX = re.compile(r"[0-9A-Fa-f]{16,}")
_ESCAPE = re.compile(r"%[0-9A-F]{2}")
# Query parameters of pre-signed URLs (S3, GCS, Azure SAS) that say how, not who: public.
_PUBLIC_PARAMS = frozenset(
    {
        *("x-amz-algorithm", "x-amz-date", "x-amz-expires", "x-amz-signedheaders"),
        *("x-goog-algorithm", "x-goog-date", "x-goog-expires", "x-goog-signedheaders"),
        *("sv", "se", "st", "sr", "sp", "spr"),
    }
)


def _escaped(value: str) -> set[str]:
    """`value` as it may stand in text: itself, decoded, encoded (path or form style), and in a
    JSON string."""
    forms = {value, unquote(value), unquote_plus(value)}
    for form in list(forms):
        forms |= {quote(form, safe=""), quote(form), quote_plus(form, safe="")}
    # Percent escapes are case-insensitive: `%2b` is `%2B`.
    forms |= {_ESCAPE.sub(lambda m: m.group().lower(), f) for f in forms}
    forms |= {json.dumps(f)[1:-1] for f in forms}
    return forms


def _base64(value: str) -> set[str]:
    """`value`'s bytes in base64 (standard and URL-safe), as far as they stay the same wherever
    the value sits, alone or in a longer encoded text (as in `Basic base64(user:token)`): for
    each of the three alignments, the characters that only the value's own bytes decide; and
    its plain encoding whole."""
    raw = value.encode("utf-8")
    forms: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        if shift == 0:
            forms |= {encoded, encoded.rstrip("=")}  # alone: masked whole, padding and all
        start = -(-8 * shift // 6)  # the first character past the filler's bits
        end = (8 * (shift + len(raw))) // 6  # the last character of only the value's bits
        forms.add(encoded[start:end])
    return forms | {f.replace("+", "-").replace("/", "_") for f in forms}


def _public(key: str) -> bool:
    key = key.lower()
    return key in _PUBLIC_PARAMS or key.startswith("response-")  # S3's response overrides


def _query_values(value: str) -> set[str]:
    """The values of a URL's query string (a pre-signed URL's signature, credential, token):
    each is a secret in its own right. Numbers alone (an expiry, a date) are not."""
    if "?" not in value or "://" not in value:
        return set()
    try:
        query = urlsplit(value).query
    except ValueError:
        return set()
    found = set()
    for pair in query.split("&"):
        key, _, raw = pair.partition("=")
        if not _public(unquote(key)):
            found.add(raw)
    found |= {v for k, v in parse_qsl(query) if not _public(k)}
    return {v for v in found if len(v) >= MIN_DERIVED and not v.isdigit()}


def spellings(value: str) -> tuple[set[str], set[str]]:
    """(exact, case-insensitive) spellings of the secret `value`, the value itself included."""
    exact = {f for f in _escaped(value) if len(f) >= min(len(value), MIN_DERIVED)}
    # A URL's own base64 is not looked for (a server quotes a URL, not its encoding); its query
    # values are spelt out like the value.
    query = _query_values(value)
    derived = set() if query else _base64(value)
    for part in query:
        derived |= _escaped(part)
    exact |= {f for f in derived if len(f) >= MIN_DERIVED}
    folded = {f.lower() for f in exact if _HEX.fullmatch(f)}
    return exact, folded
