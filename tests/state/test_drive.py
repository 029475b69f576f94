"""The drive-wide rules across processes on one machine: gates held while a POST is in doubt,
kept by a dead run's window, and jobs recorded by any workspace."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from descript_iac.state.drive import Blocked, Claim, LocalDriveRegistry, gate_key

NOW = 1_800_000_000.0
IMPORT = gate_key("import/project_media", None)


def _holder(directory: Path, key: str, window_end: float) -> subprocess.Popen[str]:
    """Another process that takes a gate and then waits to be killed."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from descript_iac.state.drive import LocalDriveRegistry
        registry = LocalDriveRegistry(Path({str(directory)!r}))
        claim = registry.claim({key!r}, "theirs", {window_end!r}, {NOW!r})
        print(type(claim).__name__, flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "Claim"
    return process


def test_a_live_holder_blocks_the_same_key_only(tmp_path: Path) -> None:
    holder = _holder(tmp_path, IMPORT, NOW + 300)
    try:
        registry = LocalDriveRegistry(tmp_path)
        blocked = registry.claim(IMPORT, "ours", NOW + 300, NOW)
        assert isinstance(blocked, Blocked) and blocked.until is None
        assert f"pid {holder.pid}" in blocked.holder
        # Other job types, and jobs on other projects, are not held up.
        assert isinstance(registry.claim(gate_key("agent", None), "a", NOW + 300, NOW), Claim)
        assert isinstance(registry.claim(gate_key("agent", "p1"), "b", NOW + 300, NOW), Claim)
    finally:
        holder.kill()
        holder.wait()


def test_a_dead_holders_window_keeps_the_gate_until_it_has_passed(tmp_path: Path) -> None:
    holder = _holder(tmp_path, IMPORT, NOW + 300)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    registry = LocalDriveRegistry(tmp_path)
    # The kernel released its lock, but its job may still appear until the window ends.
    blocked = registry.claim(IMPORT, "ours", NOW + 600, NOW + 10)
    assert isinstance(blocked, Blocked) and blocked.until == NOW + 300
    assert isinstance(registry.claim(IMPORT, "ours", NOW + 600, NOW + 301), Claim)


def test_a_settled_intent_frees_its_gate_at_once(tmp_path: Path) -> None:
    holder = _holder(tmp_path, IMPORT, NOW + 300)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    registry = LocalDriveRegistry(tmp_path)
    registry.settle(IMPORT, "theirs")  # its own workspace resolved it on its next run
    assert isinstance(registry.claim(IMPORT, "ours", NOW + 600, NOW + 10), Claim)


def test_a_released_gate_leaves_no_window_behind(tmp_path: Path) -> None:
    first = LocalDriveRegistry(tmp_path)
    claim = first.claim(IMPORT, "one", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    first.release(claim)
    second = LocalDriveRegistry(tmp_path)
    assert isinstance(second.claim(IMPORT, "two", NOW + 300, NOW), Claim)


def test_an_extended_window_is_what_others_wait_for(tmp_path: Path) -> None:
    """A POST throttled for minutes went out late: its window ends later."""
    first = LocalDriveRegistry(tmp_path)
    claim = first.claim(IMPORT, "one", NOW + 300, NOW)
    assert isinstance(claim, Claim)
    first.extend(claim, NOW + 900)
    first.close()  # as if the process died: the lock goes, the record stays
    blocked = LocalDriveRegistry(tmp_path).claim(IMPORT, "two", NOW + 1200, NOW + 500)
    assert isinstance(blocked, Blocked) and blocked.until == NOW + 900


def test_jobs_recorded_by_any_process_are_seen_by_all(tmp_path: Path) -> None:
    code = (
        "from pathlib import Path; from descript_iac.state.drive import LocalDriveRegistry;"
        f"LocalDriveRegistry(Path({str(tmp_path)!r})).record_jobs({{'j-theirs'}})"
    )
    reader = LocalDriveRegistry(tmp_path)
    reader.record_jobs({"j-ours"})
    assert reader.recorded_jobs() == {"j-ours"}
    subprocess.run([sys.executable, "-c", code], check=True)
    assert reader.recorded_jobs() == {"j-ours", "j-theirs"}
    reader.record_jobs({"j-ours"})  # already there: nothing appended
    assert (tmp_path / "jobs.txt").read_text().split() == ["j-ours", "j-theirs"]
