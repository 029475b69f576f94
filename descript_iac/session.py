"""Open a connection to the Descript API, or to the embedded emulator (`--emulator`).

The embedded emulator runs in-process on a loopback socket for the duration of one command and
keeps its projects and jobs in `emulator/` beside the local state file, so a second run sees
what the first made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from descript_iac.userdirs import cache_root

if TYPE_CHECKING:
    from descript_iac.api import DescriptClient
    from descript_iac.state.clock_figures import ClockFigures
    from descript_iac.state.drive import DriveRegistry
    from descript_iac.state.drive_identity import DriveIds
    from descript_iac.state.store import StateStore

# httpx (through the client) and diskcache are imported when a client is opened: a command that
# makes no API call starts without them.

EMBEDDED_TOKEN = "descript-iac-embedded-emulator"
EMBEDDED_JOB_SECONDS = 1.5


def default_cache_dir() -> Path:
    return cache_root() / "jobs"


def default_drives_dir() -> Path:
    return cache_root() / "drives"


class ApiTarget(msgspec.Struct, frozen=True):
    api_url: str | None = None
    emulator: bool = False
    emulator_dir: Path = Path("state") / "emulator"
    capabilities: frozenset[str] = frozenset()  # passed to the embedded emulator
    api_level: str = "seed"  # the embedded emulator's API level (`--emulator --api-level`)
    # Job-history cache (finished jobs, recent list pages); None turns it off.
    cache_dir: Path | None = msgspec.field(default_factory=lambda: default_cache_dir())
    # Where this machine's runs share their gates and recorded jobs, per drive (state/drive.py).
    drives_dir: Path = msgspec.field(default_factory=lambda: default_drives_dir())


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
    """The drive-wide gates and recorded jobs this run shares with others: those of the drive
    the API names (state/drive_identity.py), under this machine's cache directory, and also in
    the state's PostgreSQL database (every machine of the team) when the state is there."""
    from descript_iac.state.drive import LocalDriveRegistry  # (a plan without --refresh: none)
    from descript_iac.state.drive_identity import TokenDriveRegistry, combine, drive_key, token_key

    database = None
    if store is not None and store.backend == "postgresql":
        from descript_iac.state.postgres import PostgresStateStore

        assert isinstance(store, PostgresStateStore)
        database = store.database

    def registries(name: str) -> list[DriveRegistry]:
        found: list[DriveRegistry] = [LocalDriveRegistry(target.drives_dir / name)]
        if database is not None:
            from descript_iac.state.pgdrive import PostgresDriveRegistry

            found.append(PostgresDriveRegistry(database, name))
        return found

    def learnt() -> DriveRegistry | None:
        if client.drive_id is None:
            return None
        _drive_ids(target).put(client.spelling_key, client.drive_id)
        return combine(registries(drive_key(client.drive_id, client.scope)))

    token_side = registries(token_key(client.token_key)) + _legacy(target, client, database)
    known = own_drive_id(target, client, projects=False)  # one request, once per token
    drive = combine(registries(drive_key(known, client.scope))) if known else None
    return TokenDriveRegistry(combine(token_side), drive, learnt)


def clock_figures(target: ApiTarget, client: DescriptClient) -> ClockFigures:
    """The figures recent runs measured of the API's clocks and history lag, for this account."""
    from descript_iac.state.clock_figures import ClockFigures

    return ClockFigures(target.drives_dir / client.account_key / "clock-figures.json")


def _legacy(target: ApiTarget, client: DescriptClient, database: object) -> list[DriveRegistry]:
    """Gates and jobs kept under the key of earlier versions (the URL as spelt, and the token),
    while they hold anything: windows of runs that stopped, and runs of an earlier version."""
    from descript_iac.state.drive import LocalDriveRegistry

    found: list[DriveRegistry] = []
    old = target.drives_dir / client.account_key
    if LocalDriveRegistry.holds_anything(old):
        found.append(LocalDriveRegistry(old))
    if database is not None:
        from descript_iac.state.pgdatabase import Database
        from descript_iac.state.pgdrive import PostgresDriveRegistry

        assert isinstance(database, Database)
        shared = PostgresDriveRegistry(database, client.account_key)
        if shared.holds_anything():
            found.append(shared)
    return found


def _drive_ids(target: ApiTarget) -> DriveIds:
    from descript_iac.state.drive_identity import DriveIds

    return DriveIds(target.drives_dir / "drive-ids.json")


def own_drive_id(target: ApiTarget, client: DescriptClient, projects: bool = True) -> str | None:
    """The token's own drive id: remembered per URL spelling and token once the API showed it
    (on a job, or with `projects` on a project), since it never changes. None when the drive
    has no job (in the last 30 days) or project to show it."""
    ids = _drive_ids(target)
    known = ids.get(client.spelling_key)
    if known:
        return known
    found = client.find_drive_id(projects)
    if found:
        ids.put(client.spelling_key, found)
    return found


def describe(target: ApiTarget) -> str:
    if target.emulator:
        return f"the embedded emulator (data in {target.emulator_dir})"
    from descript_iac.api.credentials import resolve_base_url

    return resolve_base_url(target.api_url)
