"""`state.index.scan` reads a state a line at a time: each project's entry found where its bytes
are, with their digest, and the rest of the document checked (a plan never holds the file)."""

from __future__ import annotations

from pathlib import Path

from descript_iac.state.codec import decode_project
from descript_iac.state.document import ProjectState, StateDocument
from descript_iac.state.index import entry_digest, scan
from descript_iac.state.store import LocalStateStore


def _state(path: Path) -> StateDocument:
    store = LocalStateStore(path)
    doc = StateDocument()
    for i in range(5):
        doc.projects[f"ep-{i}"] = ProjectState(project_id=f"p-{i}", created_by="import")
    doc.forgotten["old"] = [ProjectState(project_id="p-old", created_by="import")]
    store.commit(doc)
    return store.read()


def test_scan_finds_the_index_of_the_whole_bytes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    doc = _state(path)
    scanned = scan(path)
    assert scanned is not None
    raw = path.read_bytes()
    assert sorted(scanned.index.entries) == [f"ep-{i}" for i in range(5)]
    for address, (offset, length, digest) in scanned.index.entries.items():
        entry = raw[offset : offset + length]
        assert decode_project(entry) == doc.projects[address]
        assert digest == entry_digest(entry)
    assert scanned.index.read(path, {"ep-3"}, scanned.ident) == {"ep-3": doc.projects["ep-3"]}
    assert scanned.rest.forgotten == doc.forgotten
    assert scanned.rest.projects == {}
    assert (scanned.rest.lineage, scanned.rest.serial) == (doc.lineage, doc.serial)


def test_scan_refuses_what_a_full_read_must_judge(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _state(path)
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b'"project_id":"p-old"', b'"project_id":7'))  # forgotten
    assert scan(path) is None
    path.write_bytes(raw.replace(b'{"format_version":4', b'{"format_version":3'))
    assert scan(path) is None
    path.write_bytes(b"")
    assert scan(path) is None
    assert scan(tmp_path / "missing.json") is None
