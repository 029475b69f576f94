"""Checks of request bodies and query parameters, raising the API's 400 `invalid_input`.

A field of the wrong type and a field the API does not declare are both refused, as the
published OpenAPI document (`additionalProperties: false`) says.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from descript_iac.emulator.clock import parse_iso
from descript_iac.emulator.exceptions import InvalidInput

TEAM_ACCESS = ("edit", "comment", "view", "none")


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return body


def only_keys(body: dict[str, Any], allowed: tuple[str, ...], what: str = "request body") -> None:
    for key in body:
        if key not in allowed:
            raise InvalidInput(f"{what}: unknown field {key!r}; allowed: {', '.join(allowed)}")


def optional_str(body: dict[str, Any], key: str) -> str | None:
    """An optional string field: absent is None; null or another type is refused."""
    if key not in body:
        return None
    value = body[key]
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    return value


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def optional_uuid(body: dict[str, Any], key: str) -> str | None:
    value = optional_str(body, key)
    if value is not None and not is_uuid(value):
        raise InvalidInput(f"Invalid {key} format: expected a UUID")
    return value


def http_url(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{what} must be an http(s) URL")
    return value


def callback_url(body: dict[str, Any]) -> str | None:
    return http_url(body["callback_url"], "callback_url") if "callback_url" in body else None


def choice(body: dict[str, Any], key: str, options: tuple[str, ...]) -> str | None:
    if key not in body:
        return None
    value = body[key]
    if value not in options:
        raise InvalidInput(f'"{key}" must be one of [{", ".join(options)}]')
    return str(value)


def team_access(body: dict[str, Any]) -> str | None:
    return choice(body, "team_access", TEAM_ACCESS)


def folder_path(body: dict[str, Any]) -> str | None:
    """`Clients/Acme/` -> `Clients/Acme`; an empty path is the drive's root (None)."""
    value = optional_str(body, "folder_name")
    if value is None:
        return None
    parts = [part.strip() for part in value.split("/") if part.strip()]
    return "/".join(parts) or None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _display_name(name: str) -> None:
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise InvalidInput(f"add_media: invalid display name {name!r}")


def add_media(body: dict[str, Any], existing: set[str], uploads: bool) -> dict[str, dict[str, Any]]:
    """Media items by display name: {"url"...}, {"tracks"...} or (2026) {"content_type"...}."""
    media = body.get("add_media", {})
    if not isinstance(media, dict):
        raise InvalidInput("add_media must be an object of display name -> media item")
    out: dict[str, dict[str, Any]] = {}
    for name, item in media.items():
        _display_name(name)
        what = f"add_media.{name}"
        item = require_object(item, what)
        language = optional_str(item, "language")
        if "url" in item:
            only_keys(item, ("url", "language"), what)
            out[name] = {"url": http_url(item["url"], f"{what}.url"), "language": language}
        elif "tracks" in item:
            only_keys(item, ("tracks",), what)
            out[name] = {"tracks": _tracks(what, item["tracks"], set(media) | existing)}
        elif uploads and ("content_type" in item or "file_size" in item):
            only_keys(item, ("content_type", "file_size", "language"), what)
            kind, size = item.get("content_type"), item.get("file_size")
            if not isinstance(kind, str) or isinstance(size, bool) or not isinstance(size, int):
                raise InvalidInput(f"{what}: content_type (string) and file_size (integer) needed")
            out[name] = {"content_type": kind, "file_size": size, "language": language}
        else:
            shapes = "url, tracks or content_type and file_size" if uploads else "url or tracks"
            raise InvalidInput(f"{what} needs {shapes}")
    return out


def _tracks(what: str, tracks: Any, names: set[str]) -> list[dict[str, Any]]:
    if not isinstance(tracks, list) or not tracks:
        raise InvalidInput(f"{what}.tracks must be a non-empty array")
    parsed = []
    for track in tracks:
        track = require_object(track, f"{what}.tracks[]")
        only_keys(track, ("media", "offset"), f"{what}.tracks[]")
        ref = track.get("media")
        if not isinstance(ref, str):
            raise InvalidInput(f"{what}.tracks[] items need a media name")
        if ref not in names:
            raise InvalidInput(f"{what}: track media {ref!r} is not defined")
        offset = track.get("offset", 0)
        if not is_number(offset):
            raise InvalidInput(f"{what}: track offset must be a number")
        parsed.append({"media": ref, "offset": float(offset)})
    return parsed


def add_compositions(body: dict[str, Any], media: set[str]) -> list[dict[str, Any]]:
    comps = body.get("add_compositions", [])
    if not isinstance(comps, list):
        raise InvalidInput("add_compositions must be an array")
    out = []
    for i, comp in enumerate(comps):
        what = f"add_compositions[{i}]"
        comp = require_object(comp, what)
        only_keys(comp, ("name", "width", "height", "fps", "clips"), what)
        name = optional_str(comp, "name")
        clips = comp.get("clips")
        if not isinstance(clips, list):
            raise InvalidInput(f"{what}.clips must be an array")
        parsed = []
        for clip in clips:
            clip = require_object(clip, f"{what}.clips[]")
            only_keys(clip, ("media",), f"{what}.clips[]")
            ref = clip.get("media")
            if not isinstance(ref, str):
                raise InvalidInput(f"{what}.clips[] items need a media name")
            if ref not in media:
                raise InvalidInput(f"{what}: clip media {ref!r} is not defined")
            parsed.append({"media": ref})
        for key in ("width", "height"):
            value = comp.get(key, 1)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(f"{what}.{key} must be an integer")
            if value <= 0:
                raise InvalidInput(f"{what}.{key} must be a positive number of pixels")
        if not is_number(comp.get("fps", 30)):
            raise InvalidInput(f"{what}.fps must be a number")
        out.append({"name": name or f"Composition {i + 1}", "clips": parsed})
    return out


def list_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("limit must be an integer between 1 and 100") from None
    if not 1 <= value <= 100:
        raise InvalidInput("limit must be an integer between 1 and 100")
    return value


def query_choice(params: dict[str, str], key: str, options: tuple[str, ...]) -> str | None:
    raw = params.get(key)
    if raw is not None and raw not in options:
        raise InvalidInput(f"{key} must be one of {', '.join(options)}")
    return raw


def query_time(params: dict[str, str], key: str) -> float | None:
    raw = params.get(key)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise InvalidInput(f"{key} must be an ISO 8601 date-time") from None
