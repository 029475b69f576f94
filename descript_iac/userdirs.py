"""Where descript-iac keeps files outside the workspace, as each operating system expects
(platformdirs): the cache (`$XDG_CACHE_HOME/descript-iac`, else `~/.cache/descript-iac` on
Linux; `~/Library/Caches` on macOS; `%LOCALAPPDATA%` on Windows) and the state of one-off jobs
(`$XDG_STATE_HOME/descript-iac`, else `~/.local/state/descript-iac` on Linux). The token's
config file keeps its XDG place on every POSIX system (`api/credentials.py`)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "descript-iac"


def cache_root() -> Path:
    """The user's cache directory for descript-iac (read from the environment on each call)."""
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def state_root() -> Path:
    """The user's state directory for descript-iac (one-off jobs' records)."""
    return Path(platformdirs.user_state_dir(APP, appauthor=False))
