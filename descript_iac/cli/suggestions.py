"""Messages suggest commands (`descript-iac import ADDRESS PROJECT_ID`, `descript-iac apply
--refresh`); printed as they were written, they fail when pasted from a directory that is not
the workspace, or without the `--state` the run was given. Here, in one place, every suggested
command is completed with what this run used, so that it can be pasted as it is: the workspace
(`--workspace DIR`, which every workspace command accepts) and `--state PATH`. A database URL
is never added (it is a secret: it stays in DESCRIPT_IAC_BACKEND_URL or the `state:` block)."""

from __future__ import annotations

import re
from pathlib import Path

import click

SUGGESTED = re.compile(r"`descript-iac ([a-z][^`]*)`")
# Verbs that read no workspace: nothing to add to them.
NO_WORKSPACE = frozenset(
    {
        "config", "status", "jobs", "schema", "emulator", "agent", "import-media", "edit-link",
        "published", "init", "force-unlock",
    }
)  # fmt: skip
REPEATED = ("--mark-applied STEP_ID ...", "--mark-applied STEP_ID [--mark-applied STEP_ID ...]")


def complete(text: str, ctx: click.Context | None = None) -> str:
    """`text` with each suggested command completed for this run (see the module's doc)."""
    if "`descript-iac " not in text:
        return text
    ctx = ctx or click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    workspace: Path | None = getattr(obj, "workspace_dir", None)
    state: Path | None = getattr(obj, "state_path", None)

    def fill(found: re.Match[str]) -> str:
        command = found.group(1)
        words = command.split()
        if not words or words[0] in NO_WORKSPACE or words[0].endswith(":"):
            return found.group(0)
        import shlex  # (only for a message that suggests a command)

        extra: list[str] = []
        place = str(workspace) if workspace is not None else "."
        named = {"--workspace", "-w", place, place.rstrip("/")}
        if place not in (".", "") and not named & set(words):
            extra += ["--workspace", shlex.quote(place)]
        if state is not None and "--state" not in words:
            extra += ["--state", shlex.quote(str(state))]
        return f"`descript-iac {' '.join([command, *extra])}`"

    return SUGGESTED.sub(fill, text).replace(*REPEATED)
