"""The secrets of a workspace, for a command that reads no workspace (`status`, `jobs`, the
one-off commands, `published`, `edit-link`): run in a workspace directory, it still prints and
caches what the API sends, and a reply may quote a prompt's `${env:NAME}` value. So the values
of the variables the workspace's files name are registered with the scrubber (redact.py) before
anything is printed or cached. The files are scanned as text, not loaded: a variable named in a
comment is registered too, which can only hide more."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from descript_iac.config.files import MAX_FILE_BYTES
from descript_iac.config.interpolate import env_names
from descript_iac.redact import register_secret


def register_env_secrets(root: Path, environ: Mapping[str, str] | None = None) -> int:
    """Register the values of the `${env:NAME}` variables `root`'s workspace files name (none
    when `root` holds no workspace file or one cannot be read); how many were set."""
    env = os.environ if environ is None else environ
    try:
        files = [
            p
            for p in root.iterdir()
            if p.suffix.lower() in (".yaml", ".yml") and p.is_file() and not p.name.startswith(".#")
        ]
    except OSError:
        return 0
    found = 0
    for path in files:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "${" not in text:
            continue
        for name in dict.fromkeys(env_names(text)):
            if name in env:
                register_secret(env[name])
                found += 1
    return found
