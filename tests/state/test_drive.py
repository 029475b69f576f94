"""The drive-wide rules, one suite for both registries: across processes on one machine (flock
and files) and across machines (PostgreSQL). Gates held while a POST is in doubt, kept by a dead
run's window, and jobs recorded by any workspace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from descript_iac.state.drive import Blocked, Claim, DriveRegistry, LocalDriveRegistry, gate_key
from descript_iac.state.pgdatabase import Database
from descript_iac.state.pgdrive import PostgresDriveRegistry

NOW = 1_800_000_000.0
IMPORT = gate_key("import/project_media", None)
DRIVE = "drive-1"

# Python that builds the registry of another run on the same drive, from `WHERE`.
OPEN = {
    "local": "from descript_iac.state.drive import LocalDriveRegistry as R\n"
    "registry = R(Path(WHERE))\n",
    "postgresql": "from descript_iac.state.pgdatabase import Database\n"
    "from descript_iac.state.pgdrive import PostgresDriveRegistry as R\n"
    f"registry = R(Database(WHERE), {DRIVE!r})\n",
}


class Drive:
    """Where one drive's rules are kept, and how a run (this process or another) opens them."""

    def __init__(self, backend: str, where: str) -> None:
        self.backend = backend
        self.where = where
        self.opened: list[DriveRegistry] = []

    def run(self, drive: str = DRIVE) -> DriveRegistry:
        """The registry of one more run in this process (its own flocks or connection)."""
        registry: DriveRegistry
        if self.backend == "local":
            registry = LocalDriveRegistry(Path(self.where) / drive)
        else:
            registry = PostgresDriveRegistry(Database(self.where), drive)
        self.opened.append(registry)
        return registry

    def code(self, body: str) -> str:
        where = str(Path(self.where) / DRIVE) if self.backend == "local" else self.where
        head = "import sys, time\nfrom pathlib import Path\n" + OPEN[self.backend]
        return head.replace("WHERE", repr(where)) + textwrap.dedent(body)


@pytest.fixture(params=["local", "postgresql"])
def drive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Drive]:
    if request.param == "local":
        found = Drive("local", str(tmp_path))
    else:
        found = Drive("postgresql", request.getfixturevalue("pg_url"))
    yield found
    for registry in found.opened:
        die(registry)


def die(registry: DriveRegistry) -> None:
    """The run's process ends without releasing anything: its flocks or its session go."""
    if isinstance(registry, PostgresDriveRegistry):
        registry.database.close()
    else:
        registry.close()  # closes the flocks, as the kernel does for a dead process


def _holder(drive: Drive, key: str, window_end: float) -> subprocess.Popen[str]:
    """Another process that takes a gate and then waits to be killed."""
    code = drive.code(
        f"""
        claim = registry.claim({key!r}, "theirs", {window_end!r}, {NOW!r})
        print(type(claim).__name__, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "Claim"
    return process


def _killed(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_a_live_holder_blocks_the_same_key_only(drive: Drive) -> None:
    holder = _holder(drive, IMPORT, NOW + 300)
    try:
        registry = drive.run()
        blocked = registry.claim(IMPORT, "ours", NOW + 300, NOW)
        assert isinstance(blocked, Blocked) and blocked.until is None
        assert f"pid {holder.pid}" in blocked.holder
        # Other job types, jobs on other projects, and other drives are not held up.
        assert isinstance(registry.claim(gate_key("agent", None), "a", NOW + 300, NOW), Claim)
        assert isinstance(registry.claim(gate_key("agent", "p1"), "b", NOW + 300, NOW), Claim)
        assert isinstance(drive.run("drive-2").claim(IMPORT, "c", NOW + 300, NOW), Claim)
    finally:
        _killed(holder)


def test_one_run_never_holds_one_gate_for_two_intents(drive: Drive) -> None:
    registry = drive.run()
    assert isinstance(registry.claim(IMPORT, "one", NOW + 300, NOW), Claim)
    blocked = registry.claim(IMPORT, "two", NOW + 300, NOW)
    assert isinstance(blocked, Blocked) and blocked.holder == "this process"


def test_a_dead_holders_window_keeps_the_gate_until_it_has_passed(drive: Drive) -> None:
    _killed(_holder(drive, IMPORT, NOW + 300))
    registry = drive.run()
    # Its lock (flock or session) is gone, but its job may still appear until the window ends.
    blocked = registry.claim(IMPORT, "ours", NOW + 600, NOW + 10)
    assert isinstance(blocked, Blocked) and blocked.until == NOW + 300
    assert isinstance(registry.claim(IMPORT, "ours", NOW + 600, NOW + 301), Claim)


def test_a_settled_intent_frees_its_gate_at_once(drive: Drive) -> None:
    _killed(_holder(drive, IMPORT, NOW + 300))
    registry = drive.run()
    registry.settle(IMPORT, "not-that-one")
    assert isinstance(registry.claim(IMPORT, "ours", NOW + 600, NOW + 10), Blocked)
    registry.settle(IMPORT, "theirs")  # its own workspace resolved it on its next run
    assert isinstance(registry.claim(IMPORT, "ours", NOW + 600, NOW + 10), Claim)


def test_a_released_gate_leaves_no_window_behind(drive: Drive) -> None:
    first = drive.run()
    claim = first.claim(IMPORT, "one", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    first.release(claim)
    assert isinstance(drive.run().claim(IMPORT, "two", NOW + 300, NOW), Claim)


def test_an_extended_window_is_what_others_wait_for(drive: Drive) -> None:
    """A POST throttled for minutes went out late: its window ends later."""
    first = drive.run()
    claim = first.claim(IMPORT, "one", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    first.extend(claim, NOW + 900)
    first.close()  # the run ends with the POST still in doubt: the record stays
    blocked = drive.run().claim(IMPORT, "two", NOW + 1200, NOW + 500)
    assert isinstance(blocked, Blocked) and blocked.until == NOW + 900


def test_jobs_recorded_by_any_process_are_seen_by_all(drive: Drive) -> None:
    reader = drive.run()
    reader.record_jobs({"j-ours"})
    assert reader.recorded_jobs() == {"j-ours"}
    subprocess.run(
        [sys.executable, "-c", drive.code("registry.record_jobs({'j-theirs'})")], check=True
    )
    assert reader.recorded_jobs() == {"j-ours", "j-theirs"}
    reader.record_jobs({"j-ours"})  # already there: nothing added
    assert drive.run().recorded_jobs() == {"j-ours", "j-theirs"}
    assert drive.run("drive-2").recorded_jobs() == frozenset()
    if drive.backend == "local":
        assert (Path(drive.where) / DRIVE / "jobs.txt").read_text().split() == [
            "j-ours",
            "j-theirs",
        ]


def test_a_job_committed_late_is_not_missed_by_incremental_reads(pg_url: str) -> None:
    """PostgreSQL: a transaction that started before a read and commits after it is read the
    next time (the read remembers the oldest transaction still running at its snapshot)."""
    reader = PostgresDriveRegistry(Database(pg_url), DRIVE)
    PostgresDriveRegistry(Database(pg_url), DRIVE).record_jobs({"j0"})  # creates the tables
    with psycopg.connect(pg_url) as slow:
        slow.execute(
            "INSERT INTO descript_iac.drive_jobs (drive, job_id) VALUES (%s, 'j1')", [DRIVE]
        )
        PostgresDriveRegistry(Database(pg_url), DRIVE).record_jobs({"j2"})
        assert reader.recorded_jobs() == {"j0", "j2"}
        slow.commit()
    assert reader.recorded_jobs() == {"j0", "j1", "j2"}


def test_a_postgresql_run_and_a_local_run_on_one_machine_share_their_gates(
    tmp_path: Path, pg_url: str
) -> None:
    """A run with its state in PostgreSQL takes this machine's gates too: a run with a local
    state (or a one-off command) on the same machine and token never has a POST of the same gate
    in doubt at the same time, and each excludes the jobs the other recorded."""
    from descript_iac.state.combined_drive import CombinedDriveRegistry

    def local() -> LocalDriveRegistry:
        return LocalDriveRegistry(tmp_path / DRIVE)

    def shared() -> PostgresDriveRegistry:
        return PostgresDriveRegistry(Database(pg_url), DRIVE)

    team = CombinedDriveRegistry(local(), shared())
    claim = team.claim(IMPORT, "team", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    assert isinstance(local().claim(IMPORT, "solo", NOW + 300, NOW), Blocked)
    assert isinstance(shared().claim(IMPORT, "other-machine", NOW + 300, NOW), Blocked)
    team.release(claim)
    # Held on this machine by a local run: the team run is blocked, and holds nothing in
    # PostgreSQL meanwhile (another machine may go on).
    solo = local()
    held = solo.claim(IMPORT, "solo", NOW + 300, NOW)
    assert isinstance(held, Claim)
    assert isinstance(team.claim(IMPORT, "team-2", NOW + 300, NOW), Blocked)
    elsewhere = shared()
    assert isinstance(elsewhere.claim(IMPORT, "other-machine", NOW + 300, NOW), Claim)
    solo.record_jobs({"job-solo"})
    elsewhere.record_jobs({"job-elsewhere"})
    assert {"job-solo", "job-elsewhere"} <= team.recorded_jobs()
    solo.release(held)
    # Held on another machine only: the team run is blocked and keeps nothing on this one.
    assert isinstance(team.claim(IMPORT, "team-3", NOW + 300, NOW), Blocked)
    assert isinstance(solo.claim(IMPORT, "solo-2", NOW + 300, NOW), Claim)
    team.close()
    die(solo)
    die(elsewhere)


def test_a_gate_left_in_doubt_blocks_others_until_its_window_ends(drive: Drive) -> None:
    """`leave`: the run stops waiting, its window stays (on either backend)."""
    ours = drive.run()
    claim = ours.claim(IMPORT, "ours", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    ours.leave(claim)
    other = drive.run()
    blocked = other.claim(IMPORT, "theirs", NOW + 600, NOW + 10)
    assert isinstance(blocked, Blocked) and blocked.until == NOW + 300
    assert isinstance(other.claim(IMPORT, "theirs", NOW + 600, NOW + 301), Claim)
