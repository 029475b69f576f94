"""Rules of the format that a JSON Schema cannot say: names, references, URLs, uniqueness; stage 4
of the validation pipeline (validation/__init__.py) within one file.

Each check reads the raw (interpolated) data defensively, so it can run even when the typed
validation found problems elsewhere, and every problem is reported in one pass.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from descript_iac.config.source import Path_, Source
from descript_iac.errors import Problem

# What Descript imports: audio and video files, recognised by the URL path's extension.
MEDIA_EXTENSIONS = frozenset(
    {
        *("mp4", "mov", "m4v", "webm", "mkv", "avi", "wmv", "mpg", "mpeg", "3gp", "flv", "mts"),
        *("wav", "mp3", "m4a", "aac", "flac", "ogg", "oga", "opus", "aif", "aiff", "wma", "caf"),
    }
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters that change how the rest of a name is shown without being seen: C1 controls, and
# the invisible and bidirectional formatting characters (a right-to-left override makes
# "clip\u202evaw.mp4" show as "clip4pm.wav"). Names are shown on terminals and in plans.
_HIDDEN = re.compile("[\x80-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# An http(s) URL with a plain host (and port): valid without asking urlsplit.
_PLAIN_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.-]*[A-Za-z0-9](?::([0-9]{1,5}))?(?:[/?#]|$)")


def did_you_mean(word: str, choices: list[str]) -> str:
    import difflib  # only when there is a problem to report

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def media_name_problem(name: str) -> str | None:
    """Why `name` cannot be a media display name, or None when it can."""
    if not name:
        return "media name must not be empty"
    if _CONTROL.search(name):
        return "media name must not contain control characters"
    hidden = _HIDDEN.search(name)
    if hidden:
        return f"media name {_hidden_problem(hidden.group())}"
    if name.startswith("/") or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        return "media name must be a relative path, not an absolute one"
    segments = name.replace("\\", "/").split("/")
    if any(seg == ".." for seg in segments):
        return "media name must not contain '..'"
    if any(seg == "" for seg in segments):
        return "media name has an empty folder segment (a doubled or trailing '/')"
    if len(name) > 255:
        return "media name is longer than 255 characters"
    return None


def _hidden_problem(char: str) -> str:
    return (
        f"must not contain U+{ord(char):04X}, an invisible or direction-changing character "
        "(it makes the name show as something it is not); remove it"
    )


def name_problem(name: str) -> str | None:
    """Why `name` (a project's or a composition's name, a folder) cannot be shown as it is."""
    control = _CONTROL.search(name)
    if control:
        return (
            f"must not contain control characters (U+{ord(control.group()):04X}); they would be "
            "sent to every terminal that shows the name: remove it"
        )
    hidden = _HIDDEN.search(name)
    return _hidden_problem(hidden.group()) if hidden else None


_NOT_IN_HOST = frozenset('<>"{}|\\^`%/?#@')


def url_problem(url: str) -> str | None:
    # Checked before parsing: urlsplit silently drops tabs and line breaks.
    if _CONTROL.search(url):
        return "contains a control character (a tab or a line break); remove it"
    if url != url.strip():
        return "has spaces before or after it; remove them"
    plain = _PLAIN_HTTP_URL.match(url)
    if plain and (plain.group(1) is None or int(plain.group(1)) <= 65535):
        return None  # what parsed_url_problem would accept too, at a tenth of the cost
    return parsed_url_problem(url)


def parsed_url_problem(url: str) -> str | None:
    """The check of a URL free of control characters, through urlsplit (no fast path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    # Never quote the host: the URL may come from the environment (a secret).
    if any(c.isspace() or ord(c) < 32 or c in _NOT_IN_HOST for c in parts.hostname):
        return "has a host with a space or a character not allowed in host names; fix the host"
    try:
        parts.port  # noqa: B018 (parsing the port is the check)
    except ValueError:
        return "has an invalid port; give a number from 1 to 65535 after the host"
    return None


def check_project(source: Source, address: str, project: Any) -> list[Problem]:
    if not isinstance(project, dict):
        return []
    base: Path_ = ("projects", address)
    problems: list[Problem] = []
    media = project.get("media")
    media = media if isinstance(media, dict) else {}
    names = [str(n) for n in media]

    for name, item in media.items():
        why = media_name_problem(str(name))
        if why:
            problems.append(source.problem((*base, "media", name), why, key=True))
        if not isinstance(item, dict):
            continue
        url_path = (*base, "media", name, "url")
        if isinstance(item.get("url"), str) and url_path not in source.unchecked:
            why = url_problem(item["url"])
            if why:
                problems.append(source.problem(url_path, f"media URL {why}"))
        tracks = item.get("tracks")
        if isinstance(tracks, list):
            for i, track in enumerate(tracks):
                ref = track.get("media") if isinstance(track, dict) else None
                if not isinstance(ref, str):
                    continue
                path = (*base, "media", name, "tracks", i, "media")
                target = media.get(ref)
                if ref == name:
                    problems.append(source.problem(path, "a track cannot name its own sequence"))
                elif ref not in media:
                    hint = did_you_mean(ref, names)
                    problems.append(
                        source.problem(path, f"track names unknown media item '{ref}'{hint}")
                    )
                elif isinstance(target, dict) and "tracks" in target:
                    problems.append(
                        source.problem(path, f"track '{ref}' is a sequence; tracks name URL media")
                    )

    compositions = project.get("compositions")
    seen_compositions: dict[str, int] = {}
    for i, comp in enumerate(compositions if isinstance(compositions, list) else []):
        if not isinstance(comp, dict):
            continue
        comp_name = comp.get("name")
        if isinstance(comp_name, str):
            if comp_name in seen_compositions:
                problems.append(
                    source.problem(
                        (*base, "compositions", i, "name"),
                        f"duplicate composition name '{comp_name}' (also composition "
                        f"{seen_compositions[comp_name] + 1}); composition names must be unique",
                    )
                )
            seen_compositions.setdefault(comp_name, i)
        clips = comp.get("clips")
        for j, clip in enumerate(clips if isinstance(clips, list) else []):
            ref = clip.get("media") if isinstance(clip, dict) else None
            if isinstance(ref, str) and ref not in media:
                hint = did_you_mean(ref, names)
                problems.append(
                    source.problem(
                        (*base, "compositions", i, "clips", j, "media"),
                        f"clip names unknown media item '{ref}'{hint}",
                    )
                )

    problems.extend(_check_names(source, base, project))
    steps = project.get("steps")
    step_list = steps if isinstance(steps, list) else []
    seen_steps: dict[str, int] = {}
    for i, step in enumerate(step_list):
        problems.extend(_check_step_text(source, (*base, "steps", i), step))
        step_id = step.get("id") if isinstance(step, dict) else None
        if not isinstance(step_id, str):
            continue
        if step_id in seen_steps:
            problems.append(
                source.problem(
                    (*base, "steps", i, "id"),
                    f"duplicate step id '{step_id}' (also step {seen_steps[step_id] + 1}); "
                    "step ids must be unique in a project",
                )
            )
        seen_steps.setdefault(step_id, i)

    callback = project.get("callback_url")
    if isinstance(callback, str) and (*base, "callback_url") not in source.unchecked:
        why = url_problem(callback)
        if why:
            problems.append(source.problem((*base, "callback_url"), f"callback_url {why}"))

    if not media and not step_list:
        problems.append(
            source.problem(
                base,
                f"project '{address}' has no media and no steps; add media to import or a "
                "step whose prompt creates the project",
                key=True,
            )
        )
    return problems


def _check_names(source: Source, base: Path_, project: dict[str, Any]) -> list[Problem]:
    """Names shown to people: the project's, its compositions', its folder."""
    found: list[tuple[Path_, Any]] = [((*base, "name"), project.get("name"))]
    found.append(((*base, "folder"), project.get("folder")))
    compositions = project.get("compositions")
    for i, comp in enumerate(compositions if isinstance(compositions, list) else []):
        if isinstance(comp, dict):
            found.append(((*base, "compositions", i, "name"), comp.get("name")))
    problems = []
    for path, name in found:
        why = name_problem(name) if isinstance(name, str) else None
        if why and path not in source.unchecked:
            problems.append(source.problem(path, f"'{path[-1]}' {why}"))
    return problems


def _check_step_text(source: Source, path: Path_, step: Any) -> list[Problem]:
    """A prompt or a model of only spaces (an empty one is the schema's)."""
    if not isinstance(step, dict):
        return []
    problems = []
    prompt = step.get("prompt")
    if isinstance(prompt, str) and prompt and not prompt.strip():
        problems.append(
            source.problem(
                (*path, "prompt"),
                "'prompt' is only whitespace; write the instruction for the agent",
            )
        )
    problems.extend(_blank_model(source, (*path, "model"), step.get("model")))
    return problems


def _blank_model(source: Source, path: Path_, model: Any) -> list[Problem]:
    if isinstance(model, str) and model and not model.strip() and path not in source.unchecked:
        return [
            source.problem(
                path, "'model' is only whitespace; remove the key to use the default model"
            )
        ]
    return []


def check_defaults(source: Source, defaults: Any) -> list[Problem]:
    if not isinstance(defaults, dict):
        return []
    problems = _blank_model(source, ("defaults", "model"), defaults.get("model"))
    path = ("defaults", "callback_url")
    if path in source.unchecked:
        return problems
    if isinstance(defaults.get("callback_url"), str):
        why = url_problem(defaults["callback_url"])
        if why:
            problems.append(source.problem(("defaults", "callback_url"), f"callback_url {why}"))
    return problems


def media_url_warnings(source: Source, data: dict[str, Any], secret: set[Path_]) -> list[Problem]:
    """Media URLs whose path does not end in an audio or video extension: valid, but the import
    will most likely fail ("Unsupported file type"). A URL from the environment is not quoted.
    `data` is a valid file's (where a media item with a `url` is a URL media item)."""
    warnings: list[Problem] = []
    for address, project in (data.get("projects") or {}).items():
        for name, item in (project.get("media") or {}).items():
            if "url" not in item:
                continue
            path: Path_ = ("projects", address, "media", name, "url")
            try:
                url_path = urlsplit(item["url"]).path
            except ValueError:
                continue
            last = url_path.rsplit("/", 1)[-1]
            extension = last.rsplit(".", 1)[-1].lower() if "." in last else ""
            if extension in MEDIA_EXTENSIONS:
                continue
            ends = "has no file extension" if not extension else f"ends in '.{extension}'"
            if path in secret:
                ends = "does not end in an audio or video extension"
            warnings.append(
                source.problem(
                    path,
                    f"warning: the URL of media '{name}' {ends}; Descript imports audio and "
                    "video files (.mp4, .mov, .wav, .mp3, ...), so this import will likely fail. "
                    "Check that it points at the file itself, not a web page",
                )
            )
    return warnings
