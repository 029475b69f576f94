"""import, state rebuild and drift against a scripted API (projects API or seed level).

The end-to-end tests drive the emulator; these cover what it cannot show: projects with the same
media names told apart by the projects API, a project renamed or emptied in Descript, the rules
that turn jobs into applied steps.
"""

from __future__ import annotations

from typing import Any

import pytest

from descript_iac.adoption.rebuild import Rebuilder, assign_steps
from descript_iac.adoption.records import adopted_record, read_project
from descript_iac.api.models import Job
from descript_iac.apply.drift import job_drift, project_drift
from descript_iac.config.desired import Workspace
from descript_iac.config.model import AgentStep
from descript_iac.plan import PlanOptions, compute_plan
from descript_iac.state.document import StateDocument
from descript_iac.state.events import ProjectImported, apply_event
from descript_iac.timing import Timing
from tests.builders import FakeApi, desired_project

HOST = ("host.wav", "guest.wav")
EPISODE: dict[str, Any] = {
    "media": {n: {"url": f"https://cdn.example.com/{n}"} for n in HOST},
    "compositions": [{"name": "Full episode", "clips": [{"media": "host.wav"}]}],
    "steps": [{"id": "clean", "prompt": "Remove filler words"}, {"id": "caps", "prompt": "Caps"}],
}
SCRIPT: dict[str, Any] = {
    "steps": [{"id": "write", "prompt": "Write"}, {"id": "cut", "prompt": "Cut"}]
}


def _job(status: str, state: str = "stopped") -> Job:
    return Job.model_validate(
        {
            "job_id": f"j-{status}-{id(object())}",
            "job_type": "agent",
            "job_state": state,
            "result": {"status": status},
        }
    )


def test_steps_are_counted_in_order_with_each_failed_attempt_before_its_rerun() -> None:
    steps = [AgentStep(id="a", prompt="A"), AgentStep(id="b", prompt="B")]
    failed, ok, ok2 = _job("error"), _job("success"), _job("success")
    assigned, problem = assign_steps(steps, [failed, ok, ok2])
    assert problem is None
    assert [(s.id, [j.job_id for j in jobs]) for s, jobs in assigned] == [
        ("a", [failed.job_id, ok.job_id]),
        ("b", [ok2.job_id]),
    ]
    _, problem = assign_steps(steps, [_job("success"), _job("success"), _job("success")])
    assert problem is not None and "more than its 2 step(s)" in problem


def _workspace(**projects: dict[str, Any]) -> Workspace:
    from pathlib import Path

    return Workspace(
        root=Path("ws"),
        projects={a: desired_project(a, **spec) for a, spec in projects.items()},
        files=("ws/main.yaml",),
    )


def _rebuild(api: FakeApi, workspace: Workspace) -> tuple[StateDocument, dict[str, Any]]:
    doc = StateDocument(salt="salt")
    with api.client() as client:
        report = Rebuilder(client, doc, Timing(commit_span=1, history_lag=0)).run(workspace)
    for finding in report.of("matched"):
        assert finding.record is not None
        apply_event(doc, ProjectImported(address=finding.address, project=finding.record))
    return doc, {f.address: f for f in report.findings}


def test_episodes_with_the_same_media_names_are_told_apart_by_name_with_the_projects_api() -> None:
    api = FakeApi(projects_api=True)
    ids = {}
    for address, name in (("ep-1", "Episode 1"), ("ep-2", "Episode 2")):
        ids[address] = api.project(name, HOST, ("Full episode",))
        api.job(ids[address], "agent")
        api.job(ids[address], "agent")
    api.project("Someone else's episode", HOST, ("Full episode",))  # a look-alike
    workspace = _workspace(
        **{"ep-1": {**EPISODE, "name": "Episode 1"}, "ep-2": {**EPISODE, "name": "Episode 2"}}
    )
    doc, found = _rebuild(api, workspace)
    assert {a: f.outcome for a, f in found.items()} == {"ep-1": "matched", "ep-2": "matched"}
    assert {a: p.project_id for a, p in doc.projects.items()} == ids
    plan = compute_plan(workspace.projects, doc, PlanOptions())
    assert not plan.has_changes, [a.reason for a in plan.actions]


def test_at_the_seed_level_the_same_episodes_are_ambiguous_and_nothing_is_guessed() -> None:
    api = FakeApi(projects_api=False)
    for name in ("Episode 1", "Episode 2"):
        api.project(name, HOST, ("Full episode",))
    workspace = _workspace(
        **{"ep-1": {**EPISODE, "name": "Episode 1"}, "ep-2": {**EPISODE, "name": "Episode 2"}}
    )
    doc, found = _rebuild(api, workspace)
    assert {f.outcome for f in found.values()} == {"ambiguous"}
    assert "they also match ep-2" in found["ep-1"].detail
    assert "descript-iac import ep-1 PROJECT_ID" in found["ep-1"].detail
    assert doc.projects == {}


def test_one_project_that_two_configured_projects_could_be_is_ambiguous_for_both() -> None:
    api = FakeApi(projects_api=False)
    api.project("Episode 1", HOST, ("Full episode",))
    workspace = _workspace(
        **{"ep-1": {**EPISODE, "name": "Episode 1"}, "ep-2": {**EPISODE, "name": "Episode 2"}}
    )
    doc, found = _rebuild(api, workspace)
    assert {a: f.outcome for a, f in found.items()} == {"ep-1": "ambiguous", "ep-2": "ambiguous"}
    assert doc.projects == {}


def test_a_project_older_than_the_history_is_imported_and_never_created_again() -> None:
    api = FakeApi(projects_api=False)
    project_id = api.project("Old script")
    api.jobs.clear()  # its jobs are past the 30-day history
    desired = desired_project("script", **{**SCRIPT, "name": "Old script"})
    with api.client() as client:
        evidence = read_project(client, project_id)
    record = adopted_record(desired, evidence, "salt", [], desired.spec.steps)
    doc = StateDocument(salt="salt")
    apply_event(doc, ProjectImported(address="script", project=record))
    assert doc.projects["script"].project_id == project_id
    assert [s.job_id for s in doc.projects["script"].steps] == [None, None]
    assert not compute_plan({"script": desired}, doc, PlanOptions()).has_changes


@pytest.mark.parametrize("projects_api", [True, False], ids=["2026", "seed"])
def test_a_prompt_only_project_is_found_by_name_only_with_the_projects_api(
    projects_api: bool,
) -> None:
    api = FakeApi(projects_api=projects_api)
    made = api.project("Coffee script")  # its first agent job made it: step write
    api.job(made, "agent", status="error")  # cut failed...
    api.job(made, "agent")  # ...and was run again
    workspace = _workspace(script={**SCRIPT, "name": "Coffee script"})
    doc, found = _rebuild(api, workspace)
    if not projects_api:
        assert found["script"].outcome == "missing"
        assert "prompt-only" in found["script"].detail
        return
    assert found["script"].outcome == "matched", found["script"].detail
    steps = doc.projects["script"].steps
    assert [(s.id, s.attempts, s.status, s.origin) for s in steps] == [
        ("write", 1, "success", "rebuild"),
        ("cut", 2, "success", "rebuild"),
    ]
    assert not compute_plan(workspace.projects, doc, PlanOptions()).has_changes


def test_import_records_what_the_projects_api_shows_and_the_plan_shows_what_is_missing() -> None:
    api = FakeApi(projects_api=True)
    project_id = api.project("Episode 1 (final)", ("host.wav",), ())
    desired = desired_project("ep-1", **{**EPISODE, "name": "Episode 1"})
    with api.client() as client:
        evidence = read_project(client, project_id)
    record = adopted_record(desired, evidence, "salt", [], desired.spec.steps[:1])
    doc = StateDocument(salt="salt")
    apply_event(doc, ProjectImported(address="ep-1", project=record))
    plan = compute_plan({"ep-1": desired}, doc, PlanOptions())
    kinds = [(a.kind.value, a.step_id) for a in plan.actions]
    assert ("create", None) not in kinds  # never a second project
    blocked = plan.actions[0]
    changes = {c.what: (c.old, c.new) for c in blocked.changes}
    assert changes["name"] == ("Episode 1 (final)", "Episode 1")
    assert changes["media guest.wav"] == (None, "https://cdn.example.com/guest.wav")
    assert changes["composition Full episode"] == (None, "clips: host.wav")
    assert ("run", "caps") in kinds and ("run", "clean") not in kinds  # clean marked applied


def test_drift_names_jobs_run_by_hand_and_projects_changed_in_descript() -> None:
    api = FakeApi(projects_api=True)
    project_id = api.project("Episode 1", HOST, ("Full episode",))
    desired = desired_project("ep-1", **{**EPISODE, "name": "Episode 1", "steps": []})
    with api.client() as client:
        record = adopted_record(desired, read_project(client, project_id), "salt", [])
    doc = StateDocument(salt="salt")
    apply_event(doc, ProjectImported(address="ep-1", project=record))
    by_hand = api.job(project_id, "agent")
    details = api.projects[project_id]
    details["name"] = "Episode 1 - renamed"
    del details["media_files"]["guest.wav"]
    details["updated_at"] = api._iso(api._tick())
    with api.client() as client:
        history = [Job.model_validate(j) for j in api.jobs]
        found = job_drift(doc, history) + project_drift(client, doc)
    assert [(d.kind, d.job_id) for d in found] == [
        ("job", by_hand["job_id"]),
        ("renamed", None),
        ("media_removed", None),
    ]
    assert "renamed in Descript to 'Episode 1 - renamed'" in found[1].detail
    del api.projects[project_id]
    with api.client() as client:
        assert [d.kind for d in project_drift(client, doc)] == ["deleted"]
