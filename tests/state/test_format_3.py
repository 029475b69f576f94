"""State format 3 (the values a reviewer needs; imported and moved projects; accepted drift):
format 2 documents are read, the new events fold from a journal left by a run that died."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from descript_iac.errors import StateError
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.plan.render import render_text
from descript_iac.state.document import FORMAT_VERSION, ExternalJob, ProjectState, StateDocument
from descript_iac.state.events import (
    DriftAccepted,
    ProjectImported,
    ProjectMoved,
    apply_event,
)
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

SPEC: dict[str, Any] = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav?sig=secret"}},
    "steps": [{"id": "s1", "prompt": "Add captions"}],
}


def _as_format_2(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as descript-iac wrote it before format 3 (no shown values, no new records)."""
    data["format_version"] = 2
    for project in data["projects"].values():
        project["facets"].pop("shown")
        for key in ("external_jobs", "accepted_drift"):
            project.pop(key)
        for step in project["steps"]:
            for key in ("prompt", "model", "origin"):
                step.pop(key)
    return data


def test_a_format_2_state_is_read_and_written_back_in_the_current_format(tmp_path: Path) -> None:
    doc = record_apply(StateDocument(), desired_project("ep", **SPEC))
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(_as_format_2(doc.to_json())))
    store = LocalStateStore(path)
    read = store.read()
    assert read.projects["ep"].steps[0].prompt is None
    assert read.projects["ep"].steps[0].job_id == doc.projects["ep"].steps[0].job_id
    # The plan says the old prompt was not recorded, rather than inventing it.
    edited = desired_project("ep", **{**SPEC, "steps": [{"id": "s1", "prompt": "Red captions"}]})
    text = render_text(compute_plan({"ep": edited}, read, PlanOptions()))
    assert 'prompt: (not recorded) -> "Red captions"' in text
    with store.lock("test"):
        store.begin(read)
        store.commit(read)
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION
    assert "sig=secret" not in path.read_text()


def test_imported_moved_and_accepted_drift_fold_from_a_journal_after_a_crash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ws.json"
    store = LocalStateStore(path)
    doc = StateDocument()
    imported = ProjectState(project_id="p-1", external_jobs=[])
    with store.lock("test"):
        store.begin(doc)
        for event in (
            ProjectImported(address="old", project=imported),
            ProjectMoved(address="old", to="new"),
            DriftAccepted(
                address="new",
                keys=["renamed:x"],
                jobs=[ExternalJob(job_id="j-hand", job_type="agent", status="success")],
            ),
        ):
            store.append(event)
        # the run dies here: no commit
    after = LocalStateStore(path).read()
    assert list(after.projects) == ["new"]
    project = after.projects["new"]
    assert project.project_id == "p-1" and project.accepted_drift == ["renamed:x"]
    assert "j-hand" in after.known_job_ids()  # never adopted by a resolver


def test_a_move_never_replaces_a_project_and_an_import_never_overwrites_one() -> None:
    doc = StateDocument()
    apply_event(doc, ProjectImported(address="a", project=ProjectState(project_id="p-a")))
    apply_event(doc, ProjectImported(address="b", project=ProjectState(project_id="p-b")))
    with pytest.raises(StateError, match="already in the state"):
        apply_event(doc, ProjectMoved(address="a", to="b"))
    with pytest.raises(StateError, match="already manages project p-a"):
        apply_event(doc, ProjectImported(address="a", project=ProjectState(project_id="p-c")))
    assert {a: p.project_id for a, p in doc.projects.items()} == {"a": "p-a", "b": "p-b"}
