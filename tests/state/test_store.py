"""The state store: atomic writes, journal folding, refusing bad files, the lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from descript_iac.errors import LockError, StateError
from descript_iac.state import codec
from descript_iac.state.document import StateDocument
from descript_iac.state.lock import FileLock
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

BASE = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
    "steps": [{"id": "s1", "prompt": "Add captions"}],
}


def populated() -> StateDocument:
    return record_apply(StateDocument(), desired_project("ep", **BASE))


def test_commit_writes_canonical_json_and_keeps_a_backup(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "ws.json")
    doc = populated()
    store.commit(doc)
    first = (tmp_path / "ws.json").read_text()
    assert first.endswith("}}\n") and first.startswith('{"format_version":2,')
    assert first.splitlines()[-2].startswith('"ep":{')  # one project per line
    assert codec.encode(store.read()).decode() == first  # canonical
    assert doc.serial == 1
    store.commit(doc)
    assert json.loads((tmp_path / "ws.json.backup").read_text())["serial"] == 1
    assert json.loads((tmp_path / "ws.json").read_text())["serial"] == 2


def test_crash_between_temp_write_and_replace_keeps_the_old_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = populated()
    store.commit(doc)
    before = path.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    doc.projects["ep"].tainted = "changed"
    with pytest.raises(OSError, match="simulated crash"):
        store.commit(doc)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert LocalStateStore(path).read().projects["ep"].tainted is None


def test_journal_of_a_died_run_is_folded_and_torn_last_line_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    with store.lock("apply"):
        store.begin(doc)
        store.append({"type": "project_forgotten", "address": "nothing-here"})
        intent = {
            "intent_id": "i1",
            "action": "create",
            "fingerprint": "sha256:x",
            "sent_at": 5.0,
            "job_type": "import/project_media",
        }
        store.append({"type": "intent_opened", "address": "ep", "intent": intent})
        # The process dies in the middle of the next write:
        store._journal_file.write(b'{"type": "job_submitted", "addr')
    reread = LocalStateStore(path).read()
    assert [i.intent_id for i in reread.projects["ep"].intents] == ["i1"]
    with store.lock("apply"):
        recovered = store.recover()
    assert recovered.serial == 2 and not store.journal.exists()
    assert json.loads(path.read_text())["projects"]["ep"]["intents"][0]["intent_id"] == "i1"


def test_journal_already_folded_is_not_applied_twice(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    with store.lock("apply"):
        store.begin(doc)
        intent = {
            "intent_id": "i1",
            "action": "create",
            "fingerprint": "f",
            "sent_at": 5.0,
            "job_type": "agent",
        }
        store.append({"type": "intent_opened", "address": "ep", "intent": intent})
        journal = store.journal.read_bytes()
        store.commit(doc)  # folded; now pretend the run died before deleting the journal
    store.journal.write_bytes(journal)
    assert LocalStateStore(path).read().serial == doc.serial


def test_corrupt_journal_in_the_middle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    header = json.dumps({"journal": 1, "lineage": doc.lineage, "base_serial": doc.serial})
    store.journal.write_text(
        header + "\n{broken\n" + json.dumps({"type": "project_forgotten", "address": "x"}) + "\n"
    )
    with pytest.raises(StateError, match=r"ws\.json\.journal:2: the journal is corrupt"):
        store.read()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format_version": 1, "serial": 3', "corrupt or truncated"),
        ("not json at all", "corrupt or truncated"),
        ('{"format_version": 99, "serial": 1}', "state format 99 is newer"),
        ('{"format_version": 1, "serial": "many"}', r"the state is not valid \(serial"),
    ],
)
def test_bad_state_is_refused_and_never_overwritten(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "ws.json"
    path.write_text(content)
    store = LocalStateStore(path)
    with pytest.raises(StateError, match=message):
        store.read()
    with pytest.raises(StateError), store.lock("apply"):
        store.recover()
    assert path.read_text() == content


def _hold_lock(
    path: str, ready: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event
) -> None:  # type: ignore[name-defined]
    store = LocalStateStore(Path(path))
    with store.lock("apply examples/podcast"):
        ready.set()
        release.wait(20)


def test_lock_contention_between_two_processes(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(path), ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        store = LocalStateStore(path)
        start = time.monotonic()
        with pytest.raises(LockError) as info, store.lock("plan"):
            pass
        assert time.monotonic() - start < 1.0  # fails at once
        text = str(info.value)
        assert f"pid {holder.pid}" in text and "apply examples/podcast" in text
        assert "descript-iac force-unlock" in text
        with pytest.raises(LockError), store.lock("plan", timeout=0.5):
            pass
        release.set()
        with store.lock("plan", timeout=10) as info2:
            assert info2.pid == os.getpid()
    finally:
        release.set()
        holder.join(10)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    lock = FileLock(path.with_name("ws.json.lock"))
    info = lock.acquire("apply")
    data = json.loads(lock.path.read_text())
    data["pid"] = pid
    lock.path.write_text(json.dumps(data))
    with LocalStateStore(path).lock("apply") as taken:
        assert taken.lock_id != info.lock_id
    assert not lock.path.exists()


def test_force_unlock_needs_the_right_id(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "ws.json.lock")
    info = lock.acquire("apply")
    with pytest.raises(LockError, match="nothing removed"):
        lock.force_unlock("wrong-id")
    assert lock.force_unlock(info.lock_id) == info
    assert not lock.path.exists()
