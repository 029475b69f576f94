"""Checks of request bodies and query parameters, raising the API's 400 `invalid_input`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from descript_iac.emulator.exceptions import InvalidInput

TEAM_ACCESS = ("edit", "comment", "view", "none")
JOB_TYPES = ("import/project_media", "agent")


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return body


def optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    return value


def http_url(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{what} must be an http(s) URL")
    return value


def team_access(body: dict[str, Any]) -> str | None:
    value = body.get("team_access")
    if value is None:
        return None
    if value not in TEAM_ACCESS:
        raise InvalidInput(f"team_access must be one of {', '.join(TEAM_ACCESS)}")
    return str(value)


def add_media(body: dict[str, Any], existing: set[str]) -> dict[str, dict[str, Any]]:
    media = body.get("add_media", {})
    if media is None:
        return {}
    if not isinstance(media, dict):
        raise InvalidInput("add_media must be an object of display name -> media item")
    out: dict[str, dict[str, Any]] = {}
    for name, item in media.items():
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise InvalidInput(f"add_media: invalid display name {name!r}")
        if not isinstance(item, dict):
            raise InvalidInput(f"add_media.{name} must be an object")
        if "url" in item:
            http_url(item["url"], f"add_media.{name}.url")
            language = item.get("language")
            if language is not None and not isinstance(language, str):
                raise InvalidInput(f"add_media.{name}.language must be a string")
            out[name] = {"url": item["url"], "language": language}
        elif "tracks" in item:
            tracks = item["tracks"]
            if not isinstance(tracks, list) or not tracks:
                raise InvalidInput(f"add_media.{name}.tracks must be a non-empty array")
            parsed = []
            for track in tracks:
                if not isinstance(track, dict) or not isinstance(track.get("media"), str):
                    raise InvalidInput(f"add_media.{name}.tracks[] items need a media name")
                ref = track["media"]
                if ref not in media and ref not in existing:
                    raise InvalidInput(f"add_media.{name}: track media {ref!r} is not defined")
                offset = track.get("offset", 0)
                if not isinstance(offset, (int, float)) or isinstance(offset, bool) or offset < 0:
                    raise InvalidInput(f"add_media.{name}: track offset must be a number >= 0")
                parsed.append({"media": ref, "offset": float(offset)})
            out[name] = {"tracks": parsed}
        else:
            raise InvalidInput(f"add_media.{name} needs either url or tracks")
    return out


def add_compositions(body: dict[str, Any], media: set[str]) -> list[dict[str, Any]]:
    comps = body.get("add_compositions", [])
    if comps is None:
        return []
    if not isinstance(comps, list):
        raise InvalidInput("add_compositions must be an array")
    out = []
    for i, comp in enumerate(comps):
        if not isinstance(comp, dict):
            raise InvalidInput(f"add_compositions[{i}] must be an object")
        name = comp.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidInput(f"add_compositions[{i}].name must be a string")
        clips = comp.get("clips", [])
        if not isinstance(clips, list):
            raise InvalidInput(f"add_compositions[{i}].clips must be an array")
        parsed = []
        for clip in clips:
            ref = clip.get("media") if isinstance(clip, dict) else None
            if not isinstance(ref, str):
                raise InvalidInput(f"add_compositions[{i}].clips[] items need a media name")
            if ref not in media:
                raise InvalidInput(f"add_compositions[{i}]: clip media {ref!r} is not defined")
            parsed.append({"media": ref})
        for key in ("width", "height", "fps"):
            value = comp.get(key)
            if value is not None and (
                not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0
            ):
                raise InvalidInput(f"add_compositions[{i}].{key} must be a positive number")
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


def job_type(raw: str | None) -> str | None:
    if raw is not None and raw not in JOB_TYPES:
        raise InvalidInput(f"type must be one of {', '.join(JOB_TYPES)}")
    return raw
