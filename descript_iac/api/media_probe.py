"""How long a media file runs, read from the file itself with a few HTTP range requests, for
the cost forecast (issue #23): an import costs media seconds.

The file is read through `RangeFile`, a file object that fetches only the blocks the parser
asks for (`Range: bytes=...`), and parsed by mutagen (WAV, MP3, MP4/M4A/MOV with its `moov` box
at either end, FLAC, OGG...), so a 2-hour file costs a few requests of 64 KiB. Every probe is
bounded in bytes, requests and time; a redirect is followed only to the same origin (the query
string of a pre-signed URL is a credential: it never goes to another host); anything else
gives an unknown duration with its reason, never zero.

This module is the API layer's second HTTP client on purpose: it talks to media hosts, not to
Descript, and carries no Descript token.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import mutagen

BLOCK = 64 * 1024
MAX_BYTES = 1024 * 1024  # read from one file, at most
MAX_REQUESTS = 12
DEADLINE = 10.0  # seconds for one probe, everything included
MAX_REDIRECTS = 3
LONGEST = 7 * 24 * 3600.0  # a duration past a week is not believed


class ProbeCache(Protocol):
    """Where probed durations are kept (state/mediacache.py), keyed by what identifies a file:
    its URL without the query string, its ETag and its length."""

    def duration(self, key: str) -> float | None: ...

    def keep(self, key: str, seconds: float) -> None: ...


@dataclass(frozen=True)
class Probe:
    """A media file's duration, or why it is unknown."""

    seconds: float | None
    reason: str = ""  # why unknown
    cached: bool = False


class _Stop(Exception):
    """A bound was reached, or the server answered something unusable."""


def unsigned(url: str) -> str:
    """`url` without its query string and fragment (what may be shown, and the cache key)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class RangeFile(io.RawIOBase):
    """A read-only, seekable view of the file at `url`, fetched in blocks on demand."""

    def __init__(self, client: httpx.Client, url: str, clock: Callable[[], float]) -> None:
        self._client = client
        self.url = url
        self._clock = clock
        self._deadline = clock() + DEADLINE
        self._blocks: dict[int, bytes] = {}
        self._pos = 0
        self.size: int | None = None
        self.etag = ""
        self.requests = 0
        self.fetched = 0
        self._ranges = True  # False: the server sends the whole file from its start

    # --- io.RawIOBase ------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            if self.size is None:
                raise OSError("the file's length is unknown")
            offset += self.size
        elif whence == io.SEEK_CUR:
            offset += self._pos
        if offset < 0:
            raise OSError("seek before the start")
        self._pos = offset
        return offset

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = len(view)
        if self.size is not None:
            wanted = max(0, min(wanted, self.size - self._pos))
        done = 0
        while done < wanted:
            index, offset = divmod(self._pos, BLOCK)
            block = self._block(index)
            chunk = block[offset : offset + wanted - done]
            if not chunk:
                break
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done

    # --- fetching ------------------------------------------------------------------------

    def open(self) -> None:
        """The first block, which also tells the length and the ETag."""
        self._block(0)

    def _block(self, index: int) -> bytes:
        if index in self._blocks:
            return self._blocks[index]
        if not self._ranges:
            return b""  # the server sent what it sends: nothing more can be had
        start = index * BLOCK
        if self.fetched + BLOCK > MAX_BYTES:
            raise _Stop(f"more than {MAX_BYTES // 1024} KiB would be read")
        if self.requests >= MAX_REQUESTS:
            raise _Stop(f"more than {MAX_REQUESTS} requests would be made")
        self._fetch(start)
        return self._blocks.get(index, b"")

    def _fetch(self, start: int) -> None:
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            self.requests += 1
            headers = {"Range": f"bytes={start}-{start + BLOCK - 1}"}
            with self._client.stream("GET", url, headers=headers) as reply:
                if reply.status_code in (301, 302, 303, 307, 308):
                    url = self._same_origin(url, reply.headers.get("location", ""))
                    continue
                if reply.status_code == 416:  # past the end
                    self._blocks[start // BLOCK] = b""
                    return
                if reply.status_code not in (200, 206):
                    raise _Stop(f"the media host answered {reply.status_code}")
                self.etag = reply.headers.get("etag", self.etag)
                if reply.status_code == 206:
                    self.size = _total(reply.headers.get("content-range", "")) or self.size
                    data = self._read(reply, BLOCK)
                    self._blocks[start // BLOCK] = data
                    return
                # 200: no ranges here; the file from its start, as much as the bounds allow
                self._ranges = False
                length = reply.headers.get("content-length", "")
                self.size = int(length) if length.isdigit() else None
                data = self._read(reply, MAX_BYTES)
                for i in range(0, len(data), BLOCK):
                    self._blocks[i // BLOCK] = data[i : i + BLOCK]
                if self.size is None and len(data) < MAX_BYTES:
                    self.size = len(data)  # the whole file
                return
        raise _Stop(f"more than {MAX_REDIRECTS} redirects")

    def _read(self, reply: httpx.Response, limit: int) -> bytes:
        parts: list[bytes] = []
        got = 0
        for chunk in reply.iter_bytes():
            if self._clock() > self._deadline:
                raise _Stop(f"no answer within {DEADLINE:.0f} s")
            parts.append(chunk)
            got += len(chunk)
            if got >= limit:
                break
        self.fetched += got
        return b"".join(parts)[:limit]

    def _same_origin(self, url: str, location: str) -> str:
        target = urljoin(url, location)
        here, there = urlsplit(url), urlsplit(target)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            raise _Stop(
                f"redirected to another host ({there.netloc or 'unknown'}); not followed: the "
                "URL's query string may hold credentials"
            )
        return target


def _total(content_range: str) -> int | None:
    """The full length in `bytes 0-65535/123456`."""
    _, _, total = content_range.rpartition("/")
    return int(total) if total.isdigit() else None


def probe_duration(
    client: httpx.Client,
    url: str,
    cache: ProbeCache | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Probe:
    """The duration of the media at `url`, or the reason it is unknown (never an exception)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Probe(None, "not an http(s) URL")
    view = RangeFile(client, url, clock)
    try:
        view.open()
        key = f"{unsigned(url)} etag={view.etag} length={view.size}"
        if cache is not None and (view.etag or view.size):
            known = cache.duration(key)
            if known is not None:
                return Probe(known, cached=True)
        parsed = mutagen.File(io.BufferedReader(view, buffer_size=BLOCK))
    except _Stop as exc:
        return Probe(None, str(exc))
    except httpx.HTTPError as exc:
        return Probe(None, f"the media host could not be read ({type(exc).__name__})")
    except Exception as exc:  # mutagen's errors on a file it cannot make out, any format
        return Probe(None, f"not a media file it can read ({type(exc).__name__})")
    seconds = getattr(getattr(parsed, "info", None), "length", None)
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return Probe(None, "not a media file it can read")
    if not 0 <= seconds <= LONGEST:
        return Probe(None, f"an implausible duration ({seconds} s)")
    if cache is not None and (view.etag or view.size):
        cache.keep(key, float(seconds))
    return Probe(float(seconds))


def probe_client(timeout: float = 5.0) -> httpx.Client:
    """A client for media hosts: no redirects followed by itself, no Descript credentials."""
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": "descript-iac (media duration probe)"},
    )
