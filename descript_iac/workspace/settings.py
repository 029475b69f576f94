"""What one run works on: the workspace, where its state lives, which API, how long to wait."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from descript_iac.session import ApiTarget
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.timing import Timing


def default_state_path(root: Path) -> Path:
    """`state/<workspace directory name>.json` under the working directory."""
    name = root.resolve().name if root.is_dir() else "default"
    return Path("state") / f"{name}.json"


@dataclass(frozen=True)
class RunSettings:
    root: Path
    state_path: Path
    api: ApiTarget = field(default_factory=ApiTarget)
    lock_timeout: float = 0.0
    timing: Timing = field(default_factory=Timing)

    @classmethod
    def for_workspace(
        cls,
        root: Path,
        *,
        state_path: Path | None = None,
        api_url: str | None = None,
        emulator: bool = False,
        capabilities: frozenset[str] = frozenset(),
        lock_timeout: float = 0.0,
        timing: Timing | None = None,
    ) -> RunSettings:
        """Settings as the CLI makes them: the state in `state/<workspace>.json` unless given;
        the real API (`api_url`, DESCRIPT_API_URL, or Descript's), or the embedded emulator
        keeping its data beside the state."""
        state = state_path or default_state_path(root)
        target = ApiTarget(
            api_url=api_url,
            emulator=emulator,
            emulator_dir=state.parent / "emulator",
            capabilities=capabilities,
        )
        return cls(
            root=root,
            state_path=state,
            api=target,
            lock_timeout=lock_timeout,
            timing=timing or Timing.from_env(),
        )

    def store(self) -> StateStore:
        """The state store of this run: the one place a store is chosen."""
        return LocalStateStore(self.state_path)


def read_state(settings: RunSettings) -> StateDocument:
    """The recorded state (with a journal a run left behind folded in, in memory only)."""
    return settings.store().read()
