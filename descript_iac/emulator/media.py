"""Emulated media: deterministic durations from the URL, no network fetch."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

MEDIA_EXTENSIONS = frozenset(
    {
        *("mp4", "mov", "m4v", "webm", "mkv", "avi"),
        *("wav", "mp3", "m4a", "aac", "flac", "ogg", "opus", "aif", "aiff"),
    }
)
DEMO_URL_DURATIONS = {"/demo_video.mp4": 69.477006, "/demo-video.mp4": 69.477006}


def public_part(url: str) -> str:
    """scheme://host/path: what the emulator keeps (never the query string, which is secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


def probe(url: str, failure_pattern: str | None) -> tuple[float | None, str | None]:
    """(duration_seconds, None) for a media file, (None, error message) when it cannot import."""
    parts = urlsplit(url)
    if failure_pattern and re.search(failure_pattern, url):
        return None, "Failed to download media: the server returned 403 Forbidden"
    ext = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path else ""
    if ext not in MEDIA_EXTENSIONS:
        return None, "Unsupported file type: the URL does not point to an audio or video file"
    if parts.path in DEMO_URL_DURATIONS:
        return DEMO_URL_DURATIONS[parts.path], None
    digest = hashlib.sha256(public_part(url).encode()).digest()
    # 10 s to 30 min, to the millisecond
    millis = 10_000 + int.from_bytes(digest[:4], "big") % (1_790_000)
    return millis / 1000, None
