"""Open a connection to the Descript API, or to the embedded emulator (`--emulator`).

The embedded emulator runs in-process on a loopback socket for the duration of one command and
keeps its projects and jobs in `emulator/` beside the local state file, so a second run sees
what the first made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from descript_iac.userdirs import cache_root

if TYPE_CHECKING:
    from descript_iac.api import DescriptClient
    from descript_iac.state.drive import DriveRegistry
    from descript_iac.state.store import StateStore

# httpx (through the client) and diskcache are imported when a client is opened: a command that
# makes no API call starts without them.

EMBEDDED_TOKEN = "descript-iac-embedded-emulator"
EMBEDDED_JOB_SECONDS = 1.5


def default_cache_dir() -> Path:
    return cache_root() / "jobs"


def default_drives_dir() -> Path:
    return cache_root() / "drives"


@dataclass(frozen=True)
class ApiTarget:
    api_url: str | None = None
    emulator: bool = False
    emulator_dir: Path = Path("state") / "emulator"
    capabilities: frozenset[str] = frozenset()  # passed to the embedded emulator
    api_level: str = "seed"  # the embedded emulator's API level (`--emulator --api-level`)
    # Job-history cache (finished jobs, recent list pages); None turns it off.
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())
    # Where this machine's runs share their gates and recorded jobs, per drive (state/drive.py).
    drives_dir: Path = field(default_factory=lambda: default_drives_dir())


def _share_budget(target: ApiTarget, client: DescriptClient) -> DescriptClient:
    """Count published-project reads with every other run on this machine (1,000 an hour)."""
    from descript_iac.api.budget import HOUR, PUBLISHED_PER_HOUR
    from descript_iac.state.budget import SharedBudget

    path = target.drives_dir / client.account_key / "published-budget.json"
    client.published_budget = SharedBudget(path, PUBLISHED_PER_HOUR, HOUR)
    return client


@contextlib.contextmanager
def open_client(target: ApiTarget) -> Iterator[DescriptClient]:
    from descript_iac.api import DescriptClient, Token, resolve
    from descript_iac.state.jobcache import JobCache

    if not target.emulator:
        credentials = resolve(target.api_url)
        cache = JobCache(target.cache_dir, credentials.base_url) if target.cache_dir else None
        try:
            with DescriptClient(credentials.base_url, credentials.token, cache=cache) as client:
                yield _share_budget(target, client)
        finally:
            if cache is not None:
                cache.close()
        return
    from descript_iac.emulator import EmulatorConfig
    from descript_iac.emulator.faults import Faults
    from descript_iac.emulator.server import make_backend, start_background

    config = EmulatorConfig(
        tokens=(EMBEDDED_TOKEN,),
        job_seconds=EMBEDDED_JOB_SECONDS,
        capabilities=target.capabilities,
        faults=Faults(api_level=target.api_level),
    )
    running = start_background(make_backend(config, target.emulator_dir))
    # The embedded emulator listens on a new port each run; its drive is its data directory.
    account = f"embedded:{target.emulator_dir.resolve()}"
    # Its job cache is scoped the same way (the learnt run times of its jobs, for the polls).
    cache = JobCache(target.cache_dir, account) if target.cache_dir else None
    try:
        with DescriptClient(
            running.base_url, Token(EMBEDDED_TOKEN), account=account, cache=cache
        ) as client:
            yield _share_budget(target, client)
    finally:
        running.stop()
        if cache is not None:
            cache.close()


def open_registry(
    target: ApiTarget, client: DescriptClient, store: StateStore | None = None
) -> DriveRegistry:
    """The drive-wide gates and recorded jobs this run shares with others: under this
    machine's cache directory, and also in the state's PostgreSQL database (every machine of the
    team) when the state is there."""
    from descript_iac.state.drive import LocalDriveRegistry  # (a plan without --refresh: none)

    local = LocalDriveRegistry(target.drives_dir / client.account_key)
    if store is not None and store.backend == "postgresql":
        from descript_iac.state.combined_drive import CombinedDriveRegistry
        from descript_iac.state.pgdrive import PostgresDriveRegistry
        from descript_iac.state.postgres import PostgresStateStore

        assert isinstance(store, PostgresStateStore)
        shared = PostgresDriveRegistry(store.database, client.account_key)
        return CombinedDriveRegistry(local, shared)
    return local


def own_drive_id(target: ApiTarget, client: DescriptClient) -> str | None:
    """The token's own drive id: remembered per account once the API showed it (on a job or a
    project), since it never changes. None when the drive has no job or project to show it."""
    path = target.drives_dir / client.account_key / "drive_id"
    with contextlib.suppress(OSError):
        known = path.read_text().strip()
        if known:
            return known
    found = client.find_drive_id()
    if found:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(found + "\n")
    return found


def describe(target: ApiTarget) -> str:
    if target.emulator:
        return f"the embedded emulator (data in {target.emulator_dir})"
    from descript_iac.api.credentials import resolve_base_url

    return resolve_base_url(target.api_url)
