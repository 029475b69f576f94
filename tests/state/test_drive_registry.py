"""The drive-wide rules, one suite for both registries: on this machine (flock and files) and
on PostgreSQL (every machine). Two registries stand for two runs, possibly on two machines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from descript_iac.state.drive import Blocked, Claim, DriveRegistry, LocalDriveRegistry
from descript_iac.state.pgdatabase import Database
from descript_iac.state.pgdrive import PostgresDriveRegistry

NEW_IMPORT = "import/project_media@new"

Opener = Callable[[str], DriveRegistry]


@pytest.fixture(params=["local", "postgresql"])
def open_run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the registry of one more run on drive DRIVE."""
    opened: list[DriveRegistry] = []

    def local(drive: str) -> DriveRegistry:
        opened.append(LocalDriveRegistry(tmp_path / "drives" / drive))
        return opened[-1]

    def postgres(drive: str) -> DriveRegistry:
        url = request.getfixturevalue("pg_url")
        opened.append(PostgresDriveRegistry(Database(url), drive))
        return opened[-1]

    yield local if request.param == "local" else postgres
    for registry in opened:
        die(registry)


def die(registry: DriveRegistry) -> None:
    """The run's process ends without releasing anything: its flocks or its connection go."""
    if isinstance(registry, PostgresDriveRegistry):
        registry.database.close()
    else:
        registry.close()  # closes the flocks, as the kernel does for a dead process


def test_one_in_doubt_post_per_gate_per_drive(open_run: Opener) -> None:
    first, second, elsewhere = open_run("drive-1"), open_run("drive-1"), open_run("drive-2")
    mine = first.claim(NEW_IMPORT, "i1", window_end=100.0, now=10.0)
    assert isinstance(mine, Claim)
    taken = second.claim(NEW_IMPORT, "i2", window_end=100.0, now=10.0)
    assert isinstance(taken, Blocked) and taken.until is None  # a live holder: no end known
    assert "pid" in taken.holder
    assert isinstance(first.claim(NEW_IMPORT, "i3", 100.0, 10.0), Blocked)  # not twice here
    assert isinstance(second.claim("agent@p1", "i4", 100.0, 10.0), Claim)  # another gate
    assert isinstance(elsewhere.claim(NEW_IMPORT, "i5", 100.0, 10.0), Claim)  # another drive
    first.release(mine)
    assert isinstance(second.claim(NEW_IMPORT, "i2", 100.0, 11.0), Claim)


def test_a_dead_holders_gate_stays_until_its_window_has_passed(open_run: Opener) -> None:
    dead = open_run("drive")
    claim = dead.claim(NEW_IMPORT, "i1", window_end=100.0, now=10.0)
    assert isinstance(claim, Claim)
    dead.extend(claim, 130.0)  # the POST went out again later
    die(dead)
    nxt = open_run("drive")
    blocked = nxt.claim(NEW_IMPORT, "i2", window_end=200.0, now=120.0)
    assert isinstance(blocked, Blocked) and blocked.until == 130.0
    assert isinstance(nxt.claim(NEW_IMPORT, "i2", window_end=200.0, now=130.0), Claim)


def test_settling_an_earlier_runs_intent_frees_its_gate(open_run: Opener) -> None:
    dead = open_run("drive")
    assert isinstance(dead.claim(NEW_IMPORT, "i1", 100.0, 10.0), Claim)
    die(dead)
    nxt = open_run("drive")
    nxt.settle(NEW_IMPORT, "not-that-one")
    assert isinstance(nxt.claim(NEW_IMPORT, "i2", 200.0, 20.0), Blocked)
    nxt.settle(NEW_IMPORT, "i1")  # its job was found in the history
    assert isinstance(nxt.claim(NEW_IMPORT, "i2", 200.0, 20.0), Claim)


def test_jobs_recorded_by_one_run_are_seen_by_every_other(open_run: Opener) -> None:
    one, two = open_run("drive"), open_run("drive")
    assert one.recorded_jobs() == frozenset()
    one.record_jobs({"j1", "j2"})
    assert two.recorded_jobs() == {"j1", "j2"}
    two.record_jobs({"j2", "j3"})
    one.record_jobs({"j4"})
    assert one.recorded_jobs() == two.recorded_jobs() == {"j1", "j2", "j3", "j4"}
    assert open_run("other-drive").recorded_jobs() == frozenset()


def test_a_job_committed_late_is_not_missed_by_incremental_reads(pg_url: str) -> None:
    """A transaction that started before a read and commits after it is read the next time."""
    reader = PostgresDriveRegistry(Database(pg_url), "drive")
    PostgresDriveRegistry(Database(pg_url), "drive").record_jobs({"j0"})  # creates the tables
    with psycopg.connect(pg_url) as slow:
        slow.execute("INSERT INTO descript_iac.drive_jobs (drive, job_id) VALUES ('drive', 'j1')")
        PostgresDriveRegistry(Database(pg_url), "drive").record_jobs({"j2"})
        assert reader.recorded_jobs() == {"j0", "j2"}
        slow.commit()
    assert reader.recorded_jobs() == {"j0", "j1", "j2"}
