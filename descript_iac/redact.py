"""Secrets: remember values that must never be shown or stored, and scrub them from anything.

Values interpolated from the environment (`${env:NAME}`) and API tokens are registered as
secrets, each with every spelling a server may echo it in (spellings.py). Anything shaped
like a secret is scrubbed too, whoever sent it: URL query strings (with any scheme, in any
case, and scheme-less ones such as `cdn.example.com/a.wav?sig=...`), the user:password part of
URLs (database URLs), and `Bearer`/`Basic` credentials.

`redact(text)` is for text that is printed or logged; `scrub(value)` walks a JSON-like value
(dicts, lists, strings) and is what every writer calls before a value reaches the disk: the
state document and its backup, the journal, saved plans, the job-history cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from descript_iac.spellings import spellings

_lock = threading.Lock()
_secrets: set[str] = set()
# Secrets whose case means nothing (hex signatures), in lower case: masked in any case.
_folded: set[str] = set()
_registered: set[str] = set()  # the values registered (each with all its spellings)
# What `redact` gave for short texts (a plan redacts the same prompts and URLs for every
# project), valid for the secrets known when it was computed: emptied whenever they change.
_memo: dict[str, str] = {}
_MEMO_TEXT = 512  # longer texts are not remembered
_MEMO_SIZE = 65536
_generation = 0  # how many times the set of secrets changed
_sorted: list[str] | None = None  # the secrets, longest first (None: to compute)
_folded_pattern: _Folded | None = None  # the case-insensitive ones, as one pattern
# Secrets shorter than this are not scrubbed by substring: a 2-letter value would mangle text.
_MIN_LEN = 4
MASK = "***"

# A run of characters that may hold a URL, starting right after a delimiter (so each run is
# tried once: the scan is linear in the text, whatever a hostile server sends), then `?query`.
_DELIMS = r"\s\"'<>()\[\]{},;`"
_QUERY = re.compile(rf"(?<![^{_DELIMS}])([^?#{_DELIMS}]+)\?([^#{_DELIMS}]*)")
_USERINFO = re.compile(r"://[^\s/?#@\"'<>]+@")
_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)(?=\S*\d)[A-Za-z0-9._~+/-]{8,}=*")
_SCHEME = re.compile(r"(?i)[a-z][a-z0-9+.-]*$")
# A host name at the end of the text before the path: labels, a top-level domain, a port.
_HOST = re.compile(r"(?i)(?:^|[^a-z0-9.-])(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}(?::\d{1,5})?$")
_MAX_HOST = 260

# Values of these keys are identifiers, digests, states, times and addresses, never secrets:
# scrubbing them could only corrupt them (a 4-character secret such as "2024" inside a digest or
# a timestamp). So are the values of keys ending in one of `IDENTIFIER_SUFFIXES`.
IDENTIFIER_KEYS = frozenset(
    {
        *("id", "lineage", "salt", "digest", "identity", "fingerprint", "before", "after"),
        *("job_state", "job_type", "status", "type", "action", "outcome", "created_by", "kind"),
        *("updates", "candidates", "base_serial", "journal", "serial", "format_version"),
        *("address", "where", "targets", "replace", "up_to_date", "untargeted"),
        *("workspace", "state", "facets", "folded_journal", "clock_error", "media_names"),
    }
)
# Strings shaped like digests or UUIDs are identifiers wherever they appear.
_IDENTIFIER = re.compile(
    r"sha256:[0-9a-f]{16,64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
IDENTIFIER_SUFFIXES = ("_id", "_ids", "_digest", "_at")


def register_secret(value: str) -> None:
    """Remember `value` as a secret for the rest of the process, with every spelling of it a
    server may echo (spellings.py: escaped, percent-decoded and -encoded, base64, a URL's query
    values; hex in any case)."""
    if not value or len(value) < _MIN_LEN or value in _registered:
        return  # (a value registered before has its spellings registered too)
    exact, folded = spellings(value)
    with _lock:
        _registered.add(value)
        _secrets.update(f for f in exact if len(f) >= _MIN_LEN)
        _folded.update(folded)
        _changed()


def _changed() -> None:
    """The secrets changed (the caller holds `_lock`): forget what was computed with them."""
    global _generation, _sorted, _folded_pattern
    _generation += 1
    _sorted = None
    _folded_pattern = None
    _memo.clear()


def _is_secret_query(prefix: str, query: str) -> bool:
    """Whether `prefix?query` is a URL whose query string must be hidden."""
    scheme_at = prefix.find("://")
    if scheme_at > 0 and _SCHEME.search(prefix[max(0, scheme_at - 32) : scheme_at]):
        return True
    # Scheme-less: a host name (then an optional path) and a key=value query.
    if "=" not in query:
        return False
    host = prefix.split("/", 1)[0][-_MAX_HOST:].lstrip(".-")
    return bool(_HOST.search(host))


def _mask_query(match: re.Match[str]) -> str:
    prefix, query = match.group(1), match.group(2)
    if _is_secret_query(prefix, query):
        return f"{prefix}?{MASK}"
    return match.group(0)


def _known_secrets() -> list[str]:
    return _known()[1]


class _Folded:
    """The case-insensitive secrets: lowered, and as one pattern ignoring case."""

    def __init__(self, secrets: set[str]) -> None:
        self.lowered = tuple(sorted(secrets, key=len, reverse=True))
        self.pattern = re.compile("|".join(map(re.escape, self.lowered)), re.IGNORECASE)

    def sub(self, text: str) -> str:
        """`text` with each of them masked. (Hex is ASCII letters and digits, so the lowered
        text holds a secret lowered: substring searches first, the pattern's scan only then.)"""
        lowered = text.lower()
        if any(secret in lowered for secret in self.lowered):
            return self.pattern.sub(MASK, text)
        return text


def _known() -> tuple[int, list[str], _Folded | None]:
    """The generation of the secrets, the secrets longest first (a shared list: read it), and
    the case-insensitive ones as one pattern (None when there is none)."""
    global _sorted, _folded_pattern
    with _lock:
        if _sorted is None:
            _sorted = sorted(_secrets, key=len, reverse=True)
            _folded_pattern = _Folded(_folded) if _folded else None
        return _generation, _sorted, _folded_pattern


def _redact(text: str, secrets: list[str], folded: _Folded | None = None) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if folded is not None:
        text = folded.sub(text)
    if "?" in text:
        text = _QUERY.sub(_mask_query, text)
    if "@" in text:
        text = _USERINFO.sub(f"://{MASK}@", text)
    if _may_hold_credential(text):
        text = _CREDENTIAL.sub(_mask_credential, text)
    return text


def _may_hold_credential(text: str) -> bool:
    """False only when `_CREDENTIAL` cannot match: ASCII text without either keyword in any
    case (a substring search of the lowered text is 20x faster than the regex's scan of a
    large document). Non-ASCII text always goes to the regex: its case-insensitive match also
    takes some non-ASCII letters for ASCII ones (U+017F, the long s, for `s`; U+0131, the
    dotless i, for `i`)."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return "bearer" in lowered or "basic" in lowered


def _mask_credential(match: re.Match[str]) -> str:
    return f"{match.group(1)}{match.group(2)}{MASK}"


def redact(text: str) -> str:
    """Replace every known secret and every secret-shaped thing in `text` with a mask."""
    found = _memo.get(text)
    if found is not None:
        return found
    generation, secrets, folded = _known()
    result = _redact(text, secrets, folded)
    if len(text) <= _MEMO_TEXT:
        with _lock:
            if generation == _generation:  # else a secret came meanwhile: keep nothing
                if len(_memo) >= _MEMO_SIZE:
                    _memo.clear()
                _memo[text] = result
    return result


def _identifier(key: Any) -> bool:
    return isinstance(key, str) and (key in IDENTIFIER_KEYS or key.endswith(IDENTIFIER_SUFFIXES))


def scrub(value: Any) -> Any:
    """`value` with every string redacted: dicts and lists are walked, keys are kept as they
    are, and so are the string values of identifier keys (ids, digests, states, times,
    addresses) and their lists of strings.

    The secrets are looked up once per call and each distinct string is redacted once (a state
    of 10,000 projects repeats most of its strings): the same result as `redact` on each."""
    _, secrets, folded = _known()
    done: dict[str, str] = {}
    keys = _Keys()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            result = done.get(item)
            if result is None:
                result = item if _IDENTIFIER.fullmatch(item) else _redact(item, secrets, folded)
                done[item] = result
            return result
        if isinstance(item, dict):
            return {k: (v if keys[k] and _plain(v) else walk(v)) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(x) for x in item]
        return item

    return walk(value)


def scrub_needed(serialized: bytes) -> bool:
    """Whether `scrub` could change a JSON value serialized as `serialized` (by `json` or
    msgspec, UTF-8). False only when no part of it holds a known secret or anything shaped
    like one: then the value is already what `scrub` would return, and a writer of a large
    document (the state) can skip walking it. JSON escapes characters one by one, so a string
    holding a secret holds the secret's escaped form."""
    # What `redact` acts on: a `?` (query strings), an `@` (user info) or a credential's
    # keyword; JSON never escapes any of them. (Substring searches: a regex is 10x slower.)
    if b"?" in serialized or b"@" in serialized:
        return True
    lowered = serialized.lower()
    if b"bearer" in lowered or b"basic" in lowered:
        return True
    folded = _known()[2]
    if folded is not None and any(s.encode() in lowered for s in folded.lowered):
        return True  # hex, in any case (JSON never escapes it)
    for secret in _known_secrets():
        forms = {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}
        if any(form.encode("utf-8", "surrogatepass") in serialized for form in forms):
            return True
    return False


def _plain(value: Any) -> bool:
    """Whether the value of an identifier key is one that can be kept as it is: a string or a
    list of strings. A mapping under such a key (the workspace's `state:` block with its
    database URL) is walked like any other."""
    if isinstance(value, str):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value)


class _Keys(dict[Any, bool]):
    """Whether a key is an identifier key, computed once per key."""

    def __missing__(self, key: Any) -> bool:
        self[key] = found = _identifier(key)
        return found


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
        _folded.clear()
        _registered.clear()
        _changed()


def register_url_secret(url: str) -> None:
    """A connection URL is a secret, and so is the password inside it, wherever it shows up."""
    register_secret(url)
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        register_secret(password)
        register_secret(unquote(password))
