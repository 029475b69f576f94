"""An exclusive lock on a file, held by this process, released by the operating system when the
process dies: py-filelock's `flock` on POSIX and `LockFileEx` on Windows (issue #22: no fcntl of
our own, so the plan and apply path runs where fcntl does not exist).

Where the platform has neither, filelock falls back to a marker file (`SoftFileLock`): it works
while processes end normally, but a process that dies leaves its marker, and the lock must then
be removed by hand. The drive gates (drive.py) and the shared request budget (budget.py) use it.
"""

from __future__ import annotations

from pathlib import Path

import filelock


def process_lock(path: Path) -> filelock.BaseFileLock:
    """A lock on `path` held by this process alone (not per thread: the engine may release it
    from another thread than the one that took it), private to the user, its file kept after
    release (a lock file removed on release lets two processes lock two files of one name)."""
    if filelock.FileLock is filelock.SoftFileLock:  # no OS lock on this platform
        return filelock.SoftFileLock(path, mode=0o600, thread_local=False)
    return filelock.FileLock(path, mode=0o600, thread_local=False, preserve_lock_file=True)
