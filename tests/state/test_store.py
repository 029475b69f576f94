"""The state store: one suite for both stores (local file, PostgreSQL), then what is particular
to the local file (atomic writes, torn lines, fsync, lock files)."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from descript_iac.errors import FileSystemError, LockError, StateError
from descript_iac.redact import scrub
from descript_iac.state import codec
from descript_iac.state import store as store_module
from descript_iac.state.document import Intent, StateDocument
from descript_iac.state.events import (
    Event,
    IntentOpened,
    JobSubmitted,
    JobUpdated,
    ProjectForgotten,
    apply_event,
)
from descript_iac.state.journal import JournalMismatch
from descript_iac.state.lock import FileLock
from descript_iac.state.store import LocalStateStore, StateStore
from descript_iac.workspace import recover_state
from tests.builders import desired_project, record_apply
from tests.state.kits import Kit, store_from_spec

BASE = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
    "steps": [{"id": "s1", "prompt": "Add captions"}],
}


def populated() -> StateDocument:
    return record_apply(StateDocument(), desired_project("ep", **BASE))


def commit(store: StateStore, doc: StateDocument) -> None:
    with store.lock("test"):
        store.commit(doc)


def _intent(intent_id: str = "i1", job_type: str = "import/project_media", **kw: Any) -> Intent:
    base: dict[str, Any] = {"action": "create", "fingerprint": "sha256:x", "sent_at": 5.0}
    return msgspec.convert({**base, "intent_id": intent_id, "job_type": job_type, **kw}, Intent)


def _run_events() -> list[Event]:
    agent = {"job_type": "agent", "job_state": "stopped", "project_id": "p1"}
    return [
        IntentOpened(
            address="ep",
            # A prompt-only create: its job makes the project p1.
            intent=_intent("i1", "agent", step_id="s1", action="create"),
        ),
        JobSubmitted(address="ep", intent_id="i1", job_id="j1", project_id="p1"),
        JobUpdated(
            address="ep",
            job={**agent, "job_id": "j1", "result": {"status": "success", "ai_credits_used": 30}},
        ),
    ]


def _died_with_events(store: StateStore) -> None:
    """A run journals `_run_events` and dies before folding them: its jobs are only there."""
    commit(store, StateDocument())
    doc = store.read()
    with store.lock("apply"):
        store.begin(doc)
        for event in _run_events():
            store.append(event)
        # ... the process dies here: no commit, no discard.


# --- one suite, both stores -------------------------------------------------------------------


def test_commit_bumps_the_serial_and_the_document_reads_back(kit: Kit) -> None:
    store = kit.store()
    assert not store.exists() and store.read().serial == 0
    doc = populated()
    commit(store, doc)
    assert doc.serial == 1 and store.exists()
    again = kit.store().read()
    assert again.to_json() == doc.to_json()
    commit(store, doc)
    assert kit.store().read().serial == 2 and kit.raw()["serial"] == 2


def test_journal_of_a_died_run_is_folded_in_memory_then_by_recover(kit: Kit) -> None:
    store = kit.store()
    _died_with_events(store)
    reread = kit.store().read()  # a plan sees what the dead run did ...
    assert reread.projects["ep"].steps[0].job_id == "j1"
    assert kit.raw()["projects"] == {} and kit.raw()["serial"] == 1  # ... the document not yet
    with store.lock("apply"):
        recovered = store.recover()
    assert recovered.serial == 2 and store.leftover_journal() is None
    assert kit.raw()["projects"]["ep"]["steps"][0]["job_id"] == "j1"
    assert kit.raw()["folded_journal"] is not None


def test_a_journal_is_folded_once_never_twice(kit: Kit) -> None:
    store = kit.store()
    commit(store, StateDocument())
    doc = store.read()
    with store.lock("apply"):
        store.begin(doc)
        for event in _run_events():
            store.append(event)
            apply_event(doc, event)
        journal = kit.journal()
        store.commit(doc)
    kit.restore_journal(journal)  # as if the run died before removing it
    folded = kit.raw()
    # Reading, planning and recovering all see the journal as already folded ...
    again = kit.store().read()
    assert again.serial == folded["serial"]
    assert again.projects["ep"].totals.ai_credits == 30
    assert again.projects["ep"].orphans == [] and again.projects["ep"].project_id == "p1"
    with store.lock("apply"):
        recovered = store.recover()
    # ... and the next run removes it without touching the document.
    assert store.leftover_journal() is None
    assert kit.raw() == folded
    assert recovered.projects["ep"].totals.ai_credits == 30 and not recovered.projects["ep"].orphans


def test_a_journal_for_another_serial_stops_the_run_and_is_kept(kit: Kit) -> None:
    """A teammate's state pulled from git, a restored backup, a forced push, while a run's
    journal holds jobs that only it recorded: never dropped, never folded blindly."""
    store = kit.store()
    _died_with_events(store)
    journal = kit.journal()
    pulled = kit.raw()
    pulled["serial"] = 7  # a teammate applied in between
    kit.write_raw(pulled)
    with pytest.raises(JournalMismatch, match=r"serial 1 .* serial 7 .*state recover"):
        kit.store().read()
    with pytest.raises(JournalMismatch), store.lock("apply"):
        store.recover()
    assert kit.journal() == journal  # kept as it was
    notes = recover_state(kit.settings())
    assert any("recorded job j1" in n for n in notes), notes
    recovered = kit.store().read()
    assert recovered.projects["ep"].steps[0].job_id == "j1"
    assert recovered.projects["ep"].totals.ai_credits == 30
    assert "j1" in recovered.known_job_ids() and kit.store().leftover_journal() is None


def test_recover_keeps_aside_a_job_the_state_already_has_another_for(kit: Kit) -> None:
    store = kit.store()
    _died_with_events(store)
    # The teammate's state ran the same step with another job.
    theirs = msgspec.convert(kit.raw(), StateDocument)
    for event in _run_events():
        if isinstance(event, JobSubmitted):
            event = event.model_copy(update={"job_id": "j-theirs"})
        if isinstance(event, JobUpdated):
            event = event.model_copy(update={"job": {**event.job, "job_id": "j-theirs"}})
        apply_event(theirs, event)
    theirs.serial = 4
    kit.write_raw(theirs.to_json())
    notes = recover_state(kit.settings())
    assert any("kept aside" in n for n in notes), notes
    recovered = kit.store().read()
    assert recovered.projects["ep"].steps[0].job_id == "j-theirs"
    assert {"j1", "j-theirs"} <= recovered.known_job_ids()


def test_an_unreadable_event_in_the_middle_of_a_journal_is_refused(kit: Kit) -> None:
    store = kit.store()
    commit(store, StateDocument())
    with store.lock("apply"):
        store.begin(store.read())
        store.append(ProjectForgotten(address="x"))
    kit.append_raw({"type": "no_such_event", "address": "x"})
    kit.append_raw(ProjectForgotten(address="y").to_json())
    with pytest.raises(StateError, match=r"journal event 'no_such_event' is not valid"):
        kit.store().read()
    with pytest.raises(StateError, match="no_such_event"), store.lock("apply"):
        store.recover()
    assert kit.store().leftover_journal() is not None  # kept for `state recover`


def test_begin_refuses_when_a_journal_is_already_there(kit: Kit) -> None:
    store = kit.store()
    _died_with_events(store)
    with (
        pytest.raises(StateError, match=r"journal is already there.*state recover"),
        store.lock("apply"),
    ):
        store.begin(store.read_document())


def test_discard_ends_a_journal_and_leaves_the_document(kit: Kit) -> None:
    store = kit.store()
    doc = populated()
    commit(store, doc)
    before = kit.raw()
    with store.lock("apply"):
        store.begin(store.read())
        store.discard()
    assert kit.raw() == before and store.leftover_journal() is None


def test_a_run_that_recorded_nothing_leaves_no_new_state_behind(kit: Kit) -> None:
    store = kit.store()
    with store.lock("apply"):
        store.begin(StateDocument())  # a journal needs a document: one is stored ...
        assert store.exists()
        store.discard()  # ... and taken back, as nothing was recorded
    assert not kit.store().exists() and kit.store().leftover_journal() is None


def test_overwrite_stores_the_document_as_it_is(kit: Kit) -> None:
    store = kit.store()
    doc = populated()
    doc.serial = 41
    with store.lock("state push"):
        store.overwrite(doc)
    assert kit.store().read().to_json() == doc.to_json()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"format_version": 99, "serial": 1}, "state format 99 is newer"),
        (
            {"format_version": 1, "serial": "many", "lineage": "l", "salt": "s", "projects": {}},
            r"the state is not valid \(serial",
        ),
        ({}, "lacks format_version, lineage"),
        (
            {"format_version": 0, "serial": 1, "lineage": "l", "salt": "s", "projects": {}},
            "must be a whole number, not 0",
        ),
        ({"format_version": 1}, "lacks lineage, serial, salt, projects"),
        (
            {"format_version": "9", "serial": 1, "lineage": "l", "salt": "s", "projects": {}},
            "format_version must be a whole number",
        ),
        ([], "not a JSON object"),
    ],
)
def test_bad_state_is_refused_and_never_overwritten(kit: Kit, content: Any, message: str) -> None:
    kit.write_raw(content)
    store = kit.store()
    with pytest.raises(StateError, match=message):
        store.read()
    with pytest.raises(StateError), store.lock("apply"):
        store.recover()
    assert kit.raw() == content


def _hold_lock(
    spec: tuple[str, str, str],
    ready: multiprocessing.synchronize.Event,  # type: ignore[name-defined]
    release: multiprocessing.synchronize.Event,  # type: ignore[name-defined]
) -> None:
    store = store_from_spec(spec)
    with store.lock("apply examples/podcast") as info:
        print(info.lock_id, flush=True)
        ready.set()
        release.wait(60)


def _holder(kit: Kit) -> tuple[Any, Any, Any]:
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(kit.spec(), ready, release))
    holder.start()
    assert ready.wait(30)
    return holder, ready, release


def _lock_id(store: StateStore) -> str:
    with pytest.raises(LockError) as info, store.lock("plan"):
        pass
    return str(info.value).split("(lock id ")[1].split(")")[0]


def test_lock_contention_between_two_processes(kit: Kit) -> None:
    holder, _, release = _holder(kit)
    try:
        store = kit.store()
        with pytest.raises(LockError) as info, store.lock("plan"):
            pass
        text = str(info.value)
        assert f"pid {holder.pid}" in text and "apply examples/podcast" in text
        assert "descript-iac force-unlock" in text and "--lock-timeout" in text
        with pytest.raises(LockError), store.lock("plan", timeout=0.5):
            pass
        release.set()
        with store.lock("plan", timeout=20) as mine:  # waits for the holder to finish
            assert mine.pid == os.getpid()
    finally:
        release.set()
        holder.join(20)


def test_a_holder_killed_with_sigkill_does_not_block_the_next_run(kit: Kit) -> None:
    holder, _, _ = _holder(kit)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(20)
    # No force-unlock: the next run takes the lock (at most the moment the server needs to see
    # the connection close).
    with kit.store().lock("apply", timeout=10) as mine:
        assert mine.pid == os.getpid()


def test_force_unlock_needs_the_right_id_and_frees_a_hung_holder(kit: Kit) -> None:
    holder, _, release = _holder(kit)
    try:
        store = kit.store()
        lock_id = _lock_id(store)
        with pytest.raises(LockError, match="nothing removed"):
            store.force_unlock("wrong-id")
        message = store.force_unlock(lock_id)
        assert f"pid {holder.pid}" in message
        with store.lock("apply", timeout=10) as mine:
            assert mine.pid == os.getpid()
    finally:
        release.set()
        holder.join(20)


# --- the local file store only ----------------------------------------------------------------


def test_commit_writes_canonical_json_and_keeps_a_backup(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "ws.json")
    doc = populated()
    store.commit(doc)
    first = (tmp_path / "ws.json").read_text()
    assert first.startswith('{"format_version":4,') and first.endswith("}}\n")
    assert first.splitlines()[-2].startswith('"ep":{')  # one project per line
    assert codec.encode(scrub(store.read().to_json())).decode() == first  # canonical
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
        raise OSError(errno.EIO, "simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    doc.projects["ep"].tainted = "changed"
    with pytest.raises(FileSystemError, match=r"cannot write the state: .*input/output error"):
        store.commit(doc)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert LocalStateStore(path).read().projects["ep"].tainted is None


def test_a_torn_last_journal_line_is_a_write_that_never_happened(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    with store.lock("apply"):
        store.begin(doc)
        store.append(IntentOpened(address="ep", intent=_intent()))
        # The process dies in the middle of the next write:
        store._journal_file.write(b'{"type": "job_submitted", "addr')
    assert [i.intent_id for i in LocalStateStore(path).read().projects["ep"].intents] == ["i1"]
    with store.lock("apply"):
        assert store.recover().serial == 2
    assert not store.journal.exists()


def test_the_journal_directory_is_fsynced_when_a_journal_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(store_module, "_fsync_dir", synced.append)
    store = LocalStateStore(tmp_path / "ws.json")
    store.commit(StateDocument())
    synced.clear()
    with store.lock("apply"):
        store.begin(store.read())
        assert synced == [tmp_path]
        store.discard()


def test_a_line_that_is_not_json_in_the_middle_of_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    header = json.dumps(
        {"journal": 1, "journal_id": "j", "lineage": doc.lineage, "base_serial": doc.serial}
    )
    store.journal.write_text(
        header + "\n{broken\n" + json.dumps({"type": "project_forgotten", "address": "x"}) + "\n"
    )
    with pytest.raises(StateError, match=r"ws\.json\.journal:2: the journal is corrupt"):
        store.read()


@pytest.mark.parametrize("content", ['{"format_version": 1, "serial": 3', "not json at all", ""])
def test_a_state_file_that_is_not_json_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "ws.json"
    path.write_text(content)
    with pytest.raises(StateError, match="corrupt or truncated"):
        LocalStateStore(path).read()
    assert path.read_text() == content


def test_stale_lock_file_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock = FileLock(path.with_name("ws.json.lock"))
    info = lock.acquire("apply")
    data = json.loads(lock.path.read_text())
    data["pid"] = int(dead.stdout)
    lock.path.write_text(json.dumps(data))
    # timeout 0: taken at once, or a LockError (no timing to assert on a loaded machine)
    with LocalStateStore(path).lock("apply", timeout=0.0) as taken:
        assert taken.lock_id != info.lock_id
    assert not lock.path.exists()


def test_a_lock_held_on_another_host_is_never_taken_over(tmp_path: Path) -> None:
    """A pid that is dead here says nothing of a holder on another machine (a shared disk):
    the lock is refused with its holder named, not broken."""
    path = tmp_path / "ws.json"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    lock = FileLock(path.with_name("ws.json.lock"))
    lock.acquire("apply")
    data = json.loads(lock.path.read_text())
    data.update(pid=int(dead.stdout), host="another-runner.example")
    lock.path.write_text(json.dumps(data))
    with pytest.raises(LockError, match=r"another-runner\.example"):
        FileLock(lock.path).acquire("apply", timeout=0.0)
    assert json.loads(lock.path.read_text())["host"] == "another-runner.example"


def test_release_never_removes_a_lock_someone_else_holds(tmp_path: Path) -> None:
    """A run whose lock was force-unlocked and taken by another must not delete the new
    holder's lock when it finishes."""
    lock = FileLock(tmp_path / "ws.json.lock")
    mine = lock.acquire("apply")
    lock.force_unlock(mine.lock_id)
    theirs = FileLock(lock.path).acquire("apply")
    lock.release(mine)
    assert lock.holder() == theirs
