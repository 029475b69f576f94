"""Rules for what a project declares beyond its import and steps: the folder it is made in, the
composition a step works on, publishing, and the files exported from published pages: stage 5
of the validation pipeline (validation/__init__.py).

Like references.py, each rule reads the raw (interpolated) data defensively and reports every
problem at its file:line.
"""

from __future__ import annotations

from typing import Any

from descript_iac.config.source import Path_, Source
from descript_iac.config.validation.references import did_you_mean, media_name_problem
from descript_iac.errors import Problem


def folder_problem(folder: str) -> str | None:
    """Why `folder` cannot be a drive folder path ("Clients/Acme"), or None when it can."""
    why = media_name_problem(folder)  # the same path rules as media display names
    return why.replace("media name", "folder") if why else None


def check_lifecycle(source: Source, address: str, project: Any) -> list[Problem]:
    if not isinstance(project, dict):
        return []
    base: Path_ = ("projects", address)
    problems: list[Problem] = []
    compositions = project.get("compositions")
    listed = compositions if isinstance(compositions, list) else []
    declared = [c for c in listed if isinstance(c, dict)]
    names = [str(c.get("name")) for c in declared if isinstance(c.get("name"), str)]
    published = {str(c.get("name")) for c in declared if isinstance(c.get("publish"), dict)}
    media = project.get("media")

    folder = project.get("folder")
    if isinstance(folder, str) and (*base, "folder") not in source.unchecked:
        why = folder_problem(folder)
        if why:
            problems.append(source.problem((*base, "folder"), why))
        elif not media:
            problems.append(
                source.problem(
                    (*base, "folder"),
                    "folder applies to a project made by an import; the API places a "
                    "prompt-only project in the drive's root (add media, or remove folder)",
                )
            )

    steps = project.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        target = step.get("composition") if isinstance(step, dict) else None
        if not isinstance(target, str) or target in names:
            continue
        hint = did_you_mean(target, names)
        known = f" (the project declares {', '.join(names)})" if names else ""
        problems.append(
            source.problem(
                (*base, "steps", i, "composition"),
                f"step targets composition '{target}', which the project does not "
                f"declare{known}{hint}",
            )
        )

    exports = project.get("exports")
    seen: dict[str, int] = {}
    for i, export in enumerate(exports if isinstance(exports, list) else []):
        if not isinstance(export, dict):
            continue
        path: Path_ = (*base, "exports", i)
        has_slug, composition = "published" in export, export.get("composition")
        if has_slug == ("composition" in export):
            problems.append(
                source.problem(
                    path,
                    "an export names either 'published' (a slug) or "
                    "'composition' (one of this project's published compositions), not both",
                )
            )
        if isinstance(composition, str) and composition not in published:
            hint = did_you_mean(composition, sorted(published))
            problems.append(
                source.problem(
                    (*path, "composition"),
                    f"composition '{composition}' has no 'publish:' in this project, so it has "
                    f"no share page to export from{hint}",
                )
            )
        if not any(isinstance(export.get(k), str) for k in ("subtitles", "metadata")):
            problems.append(
                source.problem(path, "an export writes 'subtitles', 'metadata' or both")
            )
        for key in ("subtitles", "metadata"):
            target = export.get(key)
            if not isinstance(target, str):
                continue
            why = media_name_problem(target)
            if why:
                problems.append(source.problem((*path, key), why.replace("media name", key)))
            elif target.lower().endswith((".yaml", ".yml")):
                problems.append(
                    source.problem((*path, key), f"{target} would be read as a workspace file")
                )
            elif target in seen:
                problems.append(
                    source.problem(
                        (*path, key), f"{target} is written by export {seen[target] + 1} too"
                    )
                )
            seen.setdefault(target, i)
    return problems
