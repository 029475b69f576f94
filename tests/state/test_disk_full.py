"""A full or read-only disk never leaves a zero-byte or partial state, backup or temp file, and
is reported as what it is (on a real tiny tmpfs where the tests may mount one, and by failing
the writes where they may not)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from descript_iac.errors import FileSystemError
from descript_iac.state import atomic
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.state.events import ProjectForgotten
from descript_iac.state.store import LocalStateStore
from tests.builders import fill_disk, remount_read_only, tmpfs


def _doc(projects: int) -> StateDocument:
    doc = StateDocument()
    for i in range(projects):
        doc.projects[f"ep-{i:04d}"] = ProjectState(project_id=f"p{i:04d}", tainted="x" * 40)
    return doc


def _files(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in directory.iterdir() if p.is_file() and p.name != ".filler"
    }


def test_full_disk_fails_cleanly_and_keeps_the_last_good_state(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size_kb=96) as disk:
        store = LocalStateStore(disk / "ws.json")
        doc = _doc(60)  # ~26 KB of canonical JSON
        store.commit(doc)
        store.commit(doc)  # now there is a backup too
        before = _files(disk)
        fill_disk(disk, leave_bytes=1024)
        doc.projects["ep-0000"].tainted = "y" * 40
        with pytest.raises(FileSystemError, match=r"cannot write the state: .*the disk is full"):
            store.commit(doc)
        assert _files(disk) == before  # document and backup intact, no temp file left


def test_backup_takes_no_space_so_a_nearly_full_disk_still_commits(tmp_path: Path) -> None:
    """Room for the new document but not for a copy of the old one: the backup is a hard link,
    never a zero-byte or partial copy."""
    with tmpfs(tmp_path / "disk", size_kb=96) as disk:
        store = LocalStateStore(disk / "ws.json")
        doc = _doc(30)  # ~13 KB
        store.commit(doc)
        old = (disk / "ws.json").read_bytes()
        fill_disk(disk, leave_bytes=len(old) + 10 * 1024)
        doc.projects["ep-0000"].tainted = "changed"
        store.commit(doc)
        assert (disk / "ws.json.backup").read_bytes() == old
        assert json.loads((disk / "ws.json").read_text())["serial"] == 2


def test_no_hard_links_and_a_full_disk_keeps_the_old_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where hard links are refused the backup is copied through a temp file: a copy cut short
    by a full disk leaves the previous backup as it was."""
    store = LocalStateStore(tmp_path / "ws.json")
    doc = _doc(5)
    store.commit(doc)
    store.commit(doc)
    before = _files(tmp_path)

    def no_link(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "hard links not supported")

    real_copy = atomic.shutil.copyfileobj

    def copy_until_full(source, target) -> None:  # type: ignore[no-untyped-def]
        target.write(source.read(10))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "link", no_link)
    monkeypatch.setattr(atomic.shutil, "copyfileobj", copy_until_full)
    doc.projects["ep-0000"].tainted = "changed"
    with pytest.raises(FileSystemError, match="the disk is full"):
        store.commit(doc)
    assert _files(tmp_path) == before
    monkeypatch.setattr(atomic.shutil, "copyfileobj", real_copy)
    store.commit(doc)  # with room again, the copy is whole
    assert (tmp_path / "ws.json.backup").read_bytes() == before["ws.json"]


def test_read_only_file_system_names_the_state(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size_kb=64) as disk:
        store = LocalStateStore(disk / "ws.json")
        store.commit(_doc(2))
        remount_read_only(disk)
        locked = r"ws\.json\.lock: the file system is read-only"
        with pytest.raises(FileSystemError, match=locked), store.lock("apply"):
            pass
        with pytest.raises(FileSystemError, match=r"ws\.json: the file system is read-only"):
            store.commit(_doc(3))


def test_full_disk_while_taking_the_lock_leaves_no_empty_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from descript_iac.state import lock

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lock.json, "dump", full)
    store = LocalStateStore(tmp_path / "ws.json")
    full_lock = r"cannot take the state lock: .*the disk is full"
    with pytest.raises(FileSystemError, match=full_lock), store.lock("apply"):
        pass
    assert not (tmp_path / "ws.json.lock").exists()


def test_journal_write_on_a_full_disk_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStateStore(tmp_path / "ws.json")
    doc = StateDocument()
    with store.lock("apply"):
        store.begin(doc)

        def full(fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", full)
        with pytest.raises(FileSystemError, match=r"cannot write the journal: .*disk is full"):
            store.append(ProjectForgotten(address="x"))
