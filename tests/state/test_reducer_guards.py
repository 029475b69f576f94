"""The reducer never moves an address to another project unless a create or replace says so."""

from __future__ import annotations

from descript_iac.state.document import Intent, ProjectState, StateDocument
from descript_iac.state.events import IntentOpened, JobSubmitted, apply_event


def test_a_step_job_on_another_project_does_not_move_the_address() -> None:
    doc = StateDocument(projects={"ep": ProjectState(project_id="p1")})
    intent = Intent(
        intent_id="i1", action="step", step_id="clean", fingerprint="f", sent_at=0.0,
        job_type="agent", project_id="p2", step_digest="d",
    )  # fmt: skip
    apply_event(doc, IntentOpened(address="ep", intent=intent))
    apply_event(doc, JobSubmitted(address="ep", intent_id="i1", job_id="j", project_id="p2"))
    assert doc.projects["ep"].project_id == "p1"
