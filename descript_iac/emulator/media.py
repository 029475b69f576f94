"""Emulated media: deterministic durations from the URL, no network fetch."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "m4v", "webm", "mkv", "avi"})
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "m4a", "aac", "flac", "ogg", "opus", "aif", "aiff"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
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
    if _extension(parts.path) not in MEDIA_EXTENSIONS:
        return None, "Unsupported file type: the URL does not point to an audio or video file"
    if parts.path in DEMO_URL_DURATIONS:
        return DEMO_URL_DURATIONS[parts.path], None
    digest = hashlib.sha256(public_part(url).encode()).digest()
    # 10 s to 30 min, to the millisecond
    millis = 10_000 + int.from_bytes(digest[:4], "big") % (1_790_000)
    return millis / 1000, None


def _extension(path: str) -> str:
    return path.rsplit(".", 1)[-1].lower() if "." in path else ""


def probe_upload(name: str, content_type: str, size: int) -> tuple[float | None, str | None]:
    """A direct upload, taken as arrived: its duration follows from its name and size."""
    if content_type.split("/")[0] not in ("audio", "video"):
        return None, "Unsupported file type: the upload is not an audio or video file"
    digest = hashlib.sha256(f"{name}:{size}".encode()).digest()
    return (10_000 + int.from_bytes(digest[:4], "big") % 1_790_000) / 1000, None


def media_kind(entry: dict[str, Any]) -> str:
    """The projects API's media type: audio, video, image, sequence or other."""
    if "tracks" in entry:
        return "sequence"
    if "content_type" in entry:
        kind = str(entry["content_type"]).split("/")[0]
        return kind if kind in ("audio", "video", "image") else "other"
    ext = _extension(urlsplit(str(entry.get("source", ""))).path)
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return "audio" if ext in AUDIO_EXTENSIONS else "other"
