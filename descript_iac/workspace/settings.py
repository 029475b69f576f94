"""What one run works on: the workspace, where its state lives, which API, how long to wait."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from descript_iac.config.loader import read_state_setting
from descript_iac.config.statesetting import StateSetting, workspace_name
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, cache_root
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.timing import Timing


class _Unread:
    """The workspace's `state:` block was not read yet (store() reads it)."""


UNREAD: Final = _Unread()


def default_state_path(root: Path) -> Path:
    """Without a `state:` block or an override: state/<workspace>.json under the working dir."""
    name = root.resolve().name if root.is_dir() else "default"
    return Path("state") / f"{name}.json"


@dataclass(frozen=True)
class RunSettings:
    root: Path
    state_path: Path | None = None  # --state PATH: this local file, whatever the workspace says
    api: ApiTarget = field(default_factory=ApiTarget)
    lock_timeout: float = 0.0
    timing: Timing = field(default_factory=Timing)
    backend_url: str | None = field(default=None, repr=False)  # --backend-url (a secret)
    # Parsed, validated workspace files by content digest (config/cache.py); None turns it off.
    workspace_cache: Path | None = field(default_factory=lambda: cache_root() / "workspaces")

    @classmethod
    def for_workspace(
        cls,
        root: Path,
        *,
        state_path: Path | None = None,
        backend_url: str | None = None,
        api_url: str | None = None,
        emulator: bool = False,
        capabilities: frozenset[str] = frozenset(),
        api_level: str = "seed",
        lock_timeout: float = 0.0,
        timing: Timing | None = None,
    ) -> RunSettings:
        """Settings as the CLI makes them. The state: `state_path` or `backend_url` if given,
        else the workspace's `state:` block, else `state/<workspace>.json`. The API: `api_url`
        (or DESCRIPT_API_URL, or Descript's), or the embedded emulator (`emulator`), which keeps
        its data beside the local state file."""
        local = state_path or default_state_path(root)
        if emulator and state_path is None:
            # Beside the state the workspace's `state:` block names, wherever the command runs
            # from: run from inside the workspace, a second, empty emulator said "up to date".
            declared = read_state_setting(root)
            if declared is not None and declared.path is not None:
                local = declared.path
        target = ApiTarget(
            api_url=api_url,
            emulator=emulator,
            emulator_dir=local.parent / "emulator",
            capabilities=capabilities,
            api_level=api_level,
        )
        return cls(
            root=root,
            state_path=state_path,
            api=target,
            lock_timeout=lock_timeout,
            timing=timing or Timing.from_env(),
            backend_url=backend_url,
        )

    def store(self, declared: StateSetting | _Unread | None = UNREAD) -> StateStore:
        """The state store of this run: the one place a store is chosen.

        `--state PATH` or `--backend-url URL` first, then the workspace's `state:` block
        (`declared`, read from the workspace when not given), then the default file."""
        if self.state_path is not None and self.backend_url is not None:
            raise DescriptIacError(
                "--state and --backend-url both say where the state is; give one of them"
            )
        found_by = self.found_by()
        if self.state_path is not None:
            return LocalStateStore(self.state_path, found_by)
        if isinstance(declared, _Unread):
            declared = read_state_setting(self.root)
        if self.backend_url is not None:
            from_block = declared if declared and declared.backend == "postgresql" else None
            name = from_block.name if from_block else None
            schema = from_block.schema if from_block else None
            name = name or workspace_name(self.root)
            return _postgres(self.backend_url, name, schema, found_by)
        if declared is None:
            return LocalStateStore(default_state_path(self.root), found_by)
        if declared.backend == "local":
            assert declared.path is not None
            return LocalStateStore(declared.path, found_by, declared.path_at)
        assert declared.url is not None and declared.name is not None
        return _postgres(declared.url, declared.name, declared.schema, found_by)

    def found_by(self) -> str:
        """The options that find this run's state again, for the commands a message suggests
        (` --workspace DIR`, ` --state PATH`). Never a database URL: a `--backend-url` is
        named by its environment variable."""
        if self.state_path is not None:
            return f" --state {shlex.quote(str(self.state_path))}"
        found = f" --workspace {shlex.quote(str(self.root))}"
        if self.backend_url is not None:
            found += ' --backend-url "$DESCRIPT_IAC_BACKEND_URL"'
        return found


def _postgres(url: str, name: str, schema: str | None, found_by: str) -> StateStore:
    # Imported here: psycopg is loaded only by runs whose state is on PostgreSQL.
    from descript_iac.state.pgdatabase import DEFAULT_SCHEMA, Database
    from descript_iac.state.postgres import PostgresStateStore

    return PostgresStateStore(Database(url, schema or DEFAULT_SCHEMA), name, found_by)


def read_state(settings: RunSettings) -> StateDocument:
    """The recorded state (with a journal a run left behind folded in, in memory only)."""
    return settings.store().read()
