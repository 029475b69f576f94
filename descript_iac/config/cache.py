"""A cache of parsed, validated workspace files (diskcache, under the user's cache directory).

A second plan of unchanged files skips parsing and checking: each file is looked up by the
SHA-256 of its bytes (and of the code that reads it), so any change to a file is a miss, and a
file added or removed is simply one more or one less lookup. Only files without problems are
kept, so a hit never needs a position beyond the ones stored with it.

Values from the environment are secrets: the cache stores the text as written
(`${env:HOST_URL}`) where they stood, and a salted digest of the variables' values. A hit
needs the same values (else it is a miss) and substitutes them again, registering each as a
secret, exactly as a first load does. A file with secret-shaped text of its own (a literal URL
with a query string) is not cached at all.

A cache needs no durability: every value is kept under a digest of all it depends on, so a
value lost is a miss, never a wrong answer. So its writes do not wait for the disk (SQLite's
`synchronous=OFF`: a plan's two checkpoints cost it ~8 ms of fsync). What an operating system
crash can then leave, a damaged database, is moved aside (to `DIR.corrupt-N`) when it is found,
and a new cache is made; a cache that cannot be opened at all (a read-only or full disk) is an
empty one for the run. Either way the plan is the same, only slower.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from descript_iac import __version__
from descript_iac.config.interpolate import env_names, expand
from descript_iac.redact import salted_digest, scrub, scrub_needed

Path_ = tuple[str | int, ...]

CACHE_FORMAT = 3
SIZE_LIMIT = 512 * 1024 * 1024
_MISSING = "\x00unset"


def _code_fingerprint() -> str:
    """Changes when the code that reads files does: a release, an upgrade of pydantic or
    PyYAML, or an edit in a checkout (found without importing them)."""
    here = Path(__file__).parent
    parts = [str(CACHE_FORMAT), __version__]
    modules = sorted([*here.rglob("*.py"), *here.glob("*.json")])  # validation/ too; the schema
    for name in ("pydantic", "pydantic_core", "yaml"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            modules.append(Path(spec.origin))
    for module in modules:
        stat = module.stat()
        parts.append(f"{module}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class CachedFile(msgspec.Struct, frozen=True):
    data: Any  # the validated data, with values from the environment substituted again
    secret: set[Path_]
    keys: dict[Path_, tuple[int, int]]  # (line, column) of the top levels' keys
    values: dict[Path_, tuple[int, int]]  # and of their values


class WorkspaceCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: Any = None
        self._code = ""
        self._salt = ""
        self._damaged = False  # a read found the database damaged: moved aside on close

    def _open(self) -> Any:
        if self._cache is None:
            self._code = _code_fingerprint()
            self._cache = _open_cache(self.directory)
            try:
                salt = self._cache.get("salt")
            except sqlite3.Error as exc:  # damaged past its first page, or locked too long
                self._damaged = self._damaged or _is_damage(exc)
                with contextlib.suppress(Exception):
                    self._cache.close()
                self._cache, salt = _NoCache(), None
            if not isinstance(salt, str):
                import secrets  # (a new cache only)

                salt = secrets.token_hex(16)
                with contextlib.suppress(sqlite3.Error):  # (a read-only cache keeps nothing)
                    self._cache.set("salt", salt)
            self._salt = salt
        return self._cache

    def key(self, raw: bytes) -> str:
        self._open()
        return "file:" + hashlib.sha256(self._code.encode() + b"\x00" + raw).hexdigest()

    @property
    def code(self) -> str:
        """The fingerprint of the code that reads files (part of every key kept here)."""
        self._open()
        return self._code

    def env_digest(self, names: list[str], environ: Mapping[str, str]) -> str:
        """A salted digest of the values of `names` (never the values themselves)."""
        self._open()
        return self._env_digest(names, environ)

    def lookup(self, key: str) -> Any:
        """A value kept with `keep` (an incremental plan's per-file results), or None."""
        try:
            return self._open().get(key)
        except Exception as exc:  # an unreadable cache is an empty one
            self._damaged = self._damaged or _is_damage(exc)
            return None

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Keep many values in one transaction (one commit, not one per value)."""
        try:
            cache = self._open()
            transaction = cache.transact()
            transaction.__enter__()
        except Exception:  # an unusable cache: each `keep` fails quietly on its own
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                transaction.__exit__(None, None, None)

    def keep(self, key: str, value: Any) -> None:
        try:
            self._open().set(key, value)
        except Exception:  # a full disk or a read-only cache must not fail a plan
            return

    def _env_digest(self, names: list[str], environ: Mapping[str, str]) -> str:
        values = [f"{n}={environ.get(n, _MISSING)}" for n in sorted(set(names))]
        return salted_digest(self._salt, *values)

    def get(self, key: str, environ: Mapping[str, str]) -> CachedFile | None:
        try:
            entry = self._open().get(key)
        except Exception as exc:  # an unreadable cache is an empty one
            self._damaged = self._damaged or _is_damage(exc)
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
            return None
        templates: dict[Path_, str] = entry["templates"]
        names = [n for t in templates.values() for n in env_names(t)]
        if entry["env"] != self._env_digest(names, environ):
            return None  # a variable it uses changed (or was unset)
        data = entry["data"]
        for path, template in templates.items():
            value = expand(template, environ)
            if value is None:
                return None
            _put(data, path, value)
        return CachedFile(data, set(templates), dict(entry["keys"]), dict(entry["values"]))

    def put(
        self,
        key: str,
        data: Any,
        templates: dict[Path_, str],
        keys: dict[Path_, tuple[int, int]],
        values: dict[Path_, tuple[int, int]],
        environ: Mapping[str, str],
    ) -> None:
        """Keep a file that loaded without problems (its values from the environment are stored
        as their templates; `data` is given back unchanged).

        A file holding secret-shaped text of its own (a URL with a query string, a password
        in a URL: what `redact.scrub` masks) is not kept: the cache would hold it in clear,
        and it cannot be left out, as the plan needs it. Give such values with `${env:}`."""
        values_from_env = {path: _get(data, path) for path in templates}
        try:
            for path in templates:
                _put(data, path, "")  # the values from the environment are not the question
            if _holds_secrets(data):
                return
            for path, template in templates.items():
                _put(data, path, template)
            names = [n for t in templates.values() for n in env_names(t)]
            entry = {
                "format": CACHE_FORMAT,
                "data": data,
                "templates": templates,
                "env": self._env_digest(names, environ),
                "keys": keys,
                "values": values,
            }
            try:
                self._open().set(key, entry)
            except Exception:  # a full disk or a read-only cache must not fail a plan
                return
        finally:
            for path, value in values_from_env.items():
                _put(data, path, value)

    def close(self) -> None:
        if self._cache is not None:
            with contextlib.suppress(Exception):
                self._cache.close()
            self._cache = None
        if self._damaged:
            _move_aside(self.directory)
            self._damaged = False


class _NoCache:
    """An empty cache that keeps nothing: a cache that cannot be opened, for one run."""

    def get(self, key: str) -> None:
        return None

    def set(self, key: str, value: Any) -> None:
        return None

    def transact(self) -> contextlib.nullcontext[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        return None


def _is_damage(exc: BaseException) -> bool:
    """SQLite's "file is not a database" and "database disk image is malformed" (exactly
    `DatabaseError`: a locked or read-only database is an `OperationalError`)."""
    return type(exc) is sqlite3.DatabaseError


def _move_aside(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rename(directory.with_name(f"{directory.name}.corrupt-{time.time_ns()}"))


def _open_cache(directory: Path) -> Any:
    """The diskcache at `directory`, its writes not waiting for the disk (see the module's
    docstring); a damaged one is moved aside and a new one made; one that cannot be opened is
    a `_NoCache`."""
    import diskcache

    for attempt in range(2):
        try:
            return diskcache.Cache(str(directory), size_limit=SIZE_LIMIT, sqlite_synchronous=0)
        except Exception as exc:
            if attempt or not _is_damage(exc):
                return _NoCache()
            _move_aside(directory)
    return _NoCache()


def _holds_secrets(data: Any) -> bool:
    try:
        serialized = msgspec.json.encode(data)
    except (TypeError, OverflowError):
        return True
    return scrub_needed(serialized) and scrub(data) != data


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def _put(data: Any, path: Path_, value: Any) -> None:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
