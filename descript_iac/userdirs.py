"""Where descript-iac keeps files outside the workspace: the user's cache directory."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/descript-iac`, else `~/.cache/descript-iac`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "descript-iac"
