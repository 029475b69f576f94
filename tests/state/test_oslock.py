"""The process lock of the drive gates and the shared budget (state/oslock.py), with both of
py-filelock's implementations this machine can run: the OS lock (flock) and the marker file it
falls back to where the platform has no OS lock; and the plan/apply path without fcntl."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import filelock
import pytest

from descript_iac.state import oslock
from tests.builders import REPO

HOLD = """
import sys, time, filelock
from pathlib import Path
if sys.argv[2] == "soft":
    filelock.FileLock = filelock.SoftFileLock
from descript_iac.state.oslock import process_lock
lock = process_lock(Path(sys.argv[1]))
lock.acquire(timeout=0)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture(params=["os", "soft"])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "soft":
        monkeypatch.setattr(filelock, "FileLock", filelock.SoftFileLock)
    yield request.param


def _holder(path: Path, kind: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), kind],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_is_refused_then_free_once_released(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "gate.lock"
    holder = _holder(path, kind)
    try:
        with pytest.raises(filelock.Timeout):
            oslock.process_lock(path).acquire(timeout=0)
    finally:
        holder.terminate()  # SIGTERM: the interpreter exits, its lock goes with it
        holder.wait()
    if kind == "soft":  # a marker outlives a process that did not release it
        assert path.exists()
        path.unlink()
    mine = oslock.process_lock(path)
    mine.acquire(timeout=0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    mine.release()
    if kind == "os":  # kept: a lock file removed on release lets two processes lock two files
        assert path.exists()


def test_the_os_lock_of_a_killed_holder_is_released_by_the_kernel(tmp_path: Path) -> None:
    path = tmp_path / "gate.lock"
    holder = _holder(path, "os")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = oslock.process_lock(path)
    lock.acquire(timeout=0)  # no waiting, no marker to remove
    lock.release()


def test_two_locks_of_one_process_on_one_file_exclude_each_other(tmp_path: Path, kind: str) -> None:
    """Two gates of one name claimed by one process (two chains): the second waits."""
    first = oslock.process_lock(tmp_path / "gate.lock")
    first.acquire(timeout=0)
    with pytest.raises(filelock.Timeout):
        oslock.process_lock(tmp_path / "gate.lock").acquire(timeout=0)
    first.release()


def test_apply_runs_where_the_platform_has_no_fcntl(tmp_path: Path) -> None:
    """The plan and apply path imports no fcntl of its own (Windows has none)."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "from descript_iac.cli import main\n"
        "sys.argv = ['descript-iac', 'apply', 'examples/quickstart', '--emulator',"
        " '--auto-approve']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PYTHONPATH": str(REPO),
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Apply complete: 3 job(s) issued" in run.stdout
