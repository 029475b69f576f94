"""What one run works on: the workspace, where its state lives, which API, how long to wait."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from descript_iac.session import ApiTarget, cache_root
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.timing import Timing


@dataclass(frozen=True)
class RunSettings:
    root: Path
    state_path: Path
    api: ApiTarget = field(default_factory=ApiTarget)
    lock_timeout: float = 0.0
    timing: Timing = field(default_factory=Timing)
    # Parsed, validated workspace files by content digest (config/cache.py); None turns it off.
    workspace_cache: Path | None = field(default_factory=lambda: cache_root() / "workspaces")

    def store(self) -> StateStore:
        """The state store of this run: the one place a store is chosen."""
        return LocalStateStore(self.state_path)
