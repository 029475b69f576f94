"""Emulated media: deterministic durations from the URL, no network fetch; or, with the
`read_media` setting, the durations the files hold, downloaded (at most `READ_LIMIT` bytes) and
read with mutagen, as the service reads them. (An independent reading of the files: the
emulator shares nothing with the client's range-request probe, api/media_probe.py.)"""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import mutagen

VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "m4v", "webm", "mkv", "avi"})
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "m4a", "aac", "flac", "ogg", "opus", "aif", "aiff"})
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
DEMO_URL_DURATIONS = {"/demo_video.mp4": 69.477006, "/demo-video.mp4": 69.477006}


def public_part(url: str) -> str:
    """scheme://host/path: what the emulator keeps (never the query string, which is secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


READ_LIMIT = 64 * 1024 * 1024


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


def read_duration(url: str) -> tuple[float | None, str | None]:
    """The duration the file at `url` holds, downloaded whole (up to `READ_LIMIT`)."""
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30) as reply:
            if reply.status_code != 200:
                return None, f"Failed to download media: the server returned {reply.status_code}"
            data = bytearray()
            for chunk in reply.iter_bytes():
                data += chunk
                if len(data) > READ_LIMIT:
                    return None, "Failed to import media: the file is too large"
    except httpx.HTTPError:
        return None, "Failed to download media: the server could not be reached"
    try:
        parsed = mutagen.File(io.BytesIO(bytes(data)))
    except Exception:
        parsed = None
    if parsed is None or not getattr(parsed.info, "length", None):
        return None, "Unsupported file type: the file is not audio or video"
    return round(float(parsed.info.length), 6), None


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
