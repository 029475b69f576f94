"""Write a file so that readers see the old content or the new, never a part of either.

The new content goes to a temp file beside the target (fsynced), then replaces the target in
one rename. The previous version, when asked for, is kept as a backup by a hard link to the old
file (no byte is copied, so a full disk cannot leave a zero-byte or partial backup); where hard
links are not supported it is copied through its own temp file. Any failure leaves the target
and the backup as they were and is raised as a `FileSystemError` saying what and where.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from descript_iac.errors import file_error


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _keep_backup(path: Path, backup: Path) -> None:
    tmp = _tmp_beside(backup)
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(path, tmp)
        except OSError:
            # No hard links here (some network and FAT file systems): copy, through a temp file.
            with open(path, "rb") as source, open(tmp, "wb") as target:
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
        os.replace(tmp, backup)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomically(
    path: Path,
    text: str | bytes,
    *,
    what: str,
    backup: Path | None = None,
    make_parents: bool = False,
) -> None:
    """Replace `path` with `text`; keep the previous version at `backup` if given.

    `what` names the file for messages ("the state", "the plan"). A missing directory is an
    error unless `make_parents`.
    """
    tmp = _tmp_beside(path)
    try:
        if make_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        _write_synced(tmp, text.encode("utf-8") if isinstance(text, str) else text)
        if backup is not None and path.exists():
            _keep_backup(path, backup)
        os.replace(tmp, path)
    except OSError as exc:
        failed = exc.filename if isinstance(exc.filename, str) else path
        raise file_error(exc, f"write {what}", _shown(failed, path)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)


def _shown(failed: str | Path, path: Path) -> Path:
    """Name the file the user knows rather than our temp file (same directory)."""
    failed = Path(failed)
    if failed.name.startswith(".") and failed.name.endswith(".tmp"):
        return path
    return failed


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
