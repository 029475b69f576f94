"""The state store: atomic writes, journal folding, refusing bad files, the lock."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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
from descript_iac.state.store import LocalStateStore
from descript_iac.workspace import RunSettings, recover_state
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
    assert first.startswith('{"format_version":3,') and first.endswith("}}\n")
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


def _intent(intent_id: str = "i1", job_type: str = "import/project_media", **kw: Any) -> Intent:
    base: dict[str, Any] = {"action": "create", "fingerprint": "sha256:x", "sent_at": 5.0}
    return Intent.model_validate({**base, "intent_id": intent_id, "job_type": job_type, **kw})


def test_journal_of_a_died_run_is_folded_and_torn_last_line_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    store.commit(doc)
    with store.lock("apply"):
        store.begin(doc)
        store.append(ProjectForgotten(address="nothing-here"))
        store.append(IntentOpened(address="ep", intent=_intent()))
        # The process dies in the middle of the next write:
        store._journal_file.write(b'{"type": "job_submitted", "addr')
    reread = LocalStateStore(path).read()
    assert [i.intent_id for i in reread.projects["ep"].intents] == ["i1"]
    with store.lock("apply"):
        recovered = store.recover()
    assert recovered.serial == 2 and not store.journal.exists()
    assert json.loads(path.read_text())["projects"]["ep"]["intents"][0]["intent_id"] == "i1"


def _applied_run(path: Path) -> tuple[LocalStateStore, bytes]:
    """An apply that created a project and ran its step, then died after writing the folded
    document but before removing its journal; returns the store and the journal it left."""
    store = LocalStateStore(path)
    store.commit(StateDocument())
    doc = store.read()
    with store.lock("apply"):
        store.begin(doc)
        for event in _run_events():
            store.append(event)
            apply_event(doc, event)
        journal = store.journal.read_bytes()
        store.commit(doc)
    store.journal.write_bytes(journal)  # as if the run died before removing it
    return store, journal


def _run_events() -> list[Event]:
    agent = {"job_type": "agent", "job_state": "stopped", "project_id": "p1"}
    return [
        IntentOpened(
            address="ep",
            intent=_intent("i1", "agent", step_id="s1", action="step", project_id="p1"),
        ),
        JobSubmitted(address="ep", intent_id="i1", job_id="j1", project_id="p1"),
        JobUpdated(
            address="ep",
            job={**agent, "job_id": "j1", "result": {"status": "success", "ai_credits_used": 30}},
        ),
    ]


def test_a_journal_is_folded_once_never_twice(tmp_path: Path) -> None:
    store, _ = _applied_run(tmp_path / "ws.json")
    folded = json.loads(store.path.read_text())
    # Reading, planning and recovering all see the journal as already folded ...
    doc = LocalStateStore(store.path).read()
    assert doc.serial == folded["serial"]
    assert doc.projects["ep"].totals.ai_credits == 30
    assert doc.projects["ep"].orphans == [] and doc.projects["ep"].project_id == "p1"
    with store.lock("apply"):
        again = store.recover()
    # ... and the next run removes it without touching the document.
    assert not store.journal.exists()
    assert json.loads(store.path.read_text()) == folded
    assert again.projects["ep"].totals.ai_credits == 30 and again.projects["ep"].orphans == []


def test_a_journal_for_another_serial_stops_the_run_and_is_kept(tmp_path: Path) -> None:
    """A teammate's state pulled from git, or `.backup` restored, while a run's journal holds
    jobs that only it recorded: never dropped, never folded blindly."""
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    store.commit(StateDocument())
    doc = store.read()
    with store.lock("apply"):
        store.begin(doc)
        for event in _run_events():
            store.append(event)
        store._close_journal()  # the run dies here: its jobs are only in the journal
    journal = store.journal.read_bytes()
    pulled = StateDocument.model_validate(json.loads(path.read_text()))
    pulled.serial = 7  # a teammate applied in between
    path.write_text(json.dumps(pulled.to_json()))
    with pytest.raises(JournalMismatch, match=r"serial 1 .* serial 7 .*state recover"):
        store.read()
    with pytest.raises(JournalMismatch), store.lock("apply"):
        store.recover()
    assert store.journal.read_bytes() == journal  # kept, byte for byte
    settings = RunSettings(root=tmp_path, state_path=path)
    notes = recover_state(settings)
    assert any("recorded job j1" in n for n in notes), notes
    recovered = LocalStateStore(path).read()
    assert recovered.projects["ep"].steps[0].job_id == "j1"
    assert recovered.projects["ep"].totals.ai_credits == 30
    assert "j1" in recovered.known_job_ids() and not store.journal.exists()


def test_recover_keeps_aside_a_job_the_state_already_has_another_for(tmp_path: Path) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    store.commit(StateDocument())
    doc = store.read()
    with store.lock("apply"):
        store.begin(doc)
        for event in _run_events():
            store.append(event)
        store._close_journal()
    # The teammate's state ran the same step with another job.
    theirs = StateDocument.model_validate(json.loads(path.read_text()))
    for event in _run_events():
        if isinstance(event, JobSubmitted):
            event = event.model_copy(update={"job_id": "j-theirs"})
        if isinstance(event, JobUpdated):
            event = event.model_copy(update={"job": {**event.job, "job_id": "j-theirs"}})
        apply_event(theirs, event)
    theirs.serial = 4
    path.write_text(json.dumps(theirs.to_json()))
    notes = recover_state(RunSettings(root=tmp_path, state_path=path))
    assert any("kept aside" in n for n in notes), notes
    recovered = LocalStateStore(path).read()
    assert recovered.projects["ep"].steps[0].job_id == "j-theirs"
    assert {"j1", "j-theirs"} <= recovered.known_job_ids()


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


def test_corrupt_journal_in_the_middle_is_refused(tmp_path: Path) -> None:
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format_version": 1, "serial": 3', "corrupt or truncated"),
        ("not json at all", "corrupt or truncated"),
        ('{"format_version": 99, "serial": 1}', "state format 99 is newer"),
        (
            '{"format_version": 1, "serial": "many", "lineage": "l", "salt": "s", "projects": {}}',
            r"the state is not valid \(serial",
        ),
        ("{}", "lacks format_version, lineage"),
        ('{"format_version": 1}', "lacks lineage, serial, salt, projects"),
        (
            '{"format_version": "9", "serial": 1, "lineage": "l", "salt": "s", "projects": {}}',
            "format_version must be a whole number",
        ),
        ("[]", "not a JSON object"),
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
