"""The reducer never moves an address to another project unless a create or replace says so,
and never leaves a record holding a value of the wrong type."""

from __future__ import annotations

import pytest

from descript_iac.errors import StateError
from descript_iac.state.document import Intent, ProjectState, StateDocument
from descript_iac.state.events import IntentOpened, JobSubmitted, JobUpdated, apply_event
from descript_iac.state.reader import fold_events


def test_a_step_job_on_another_project_does_not_move_the_address() -> None:
    doc = StateDocument(projects={"ep": ProjectState(project_id="p1")})
    intent = Intent(
        intent_id="i1", action="step", step_id="clean", fingerprint="f", sent_at=0.0,
        job_type="agent", project_id="p2", step_digest="d",
    )  # fmt: skip
    apply_event(doc, IntentOpened(address="ep", intent=intent))
    apply_event(doc, JobSubmitted(address="ep", intent_id="i1", job_id="j", project_id="p2"))
    assert doc.projects["ep"].project_id == "p1"


def test_a_job_value_of_the_wrong_type_is_refused_with_its_event() -> None:
    """Records do not check assignments; the reducer checks the project each event changed,
    so a journaled job holding a value of the wrong type stops the fold at that event (with
    `state recover` as the way on), never reaching the stored state."""
    doc = StateDocument()
    intent = Intent(
        intent_id="i1", action="create", fingerprint="f", sent_at=0.0,
        job_type="import/project_media", media={"a.wav": "sha256:a"},
    )  # fmt: skip
    media = {"a.wav": {"status": "success", "duration_seconds": "long"}}
    job = {"job_id": "j", "job_state": "stopped", "result": {"status": "ok", "media_status": media}}
    events = [
        IntentOpened(address="ep", intent=intent),
        JobSubmitted(address="ep", intent_id="i1", job_id="j", project_id="p1"),
        JobUpdated(address="ep", job=job),
    ]
    with pytest.raises(StateError) as caught:
        fold_events(doc, events, "ws.json.journal")
    message = str(caught.value)
    assert "ws.json.journal: its event 3 (job_updated) cannot be applied" in message
    assert "ep: import.media.a.wav.duration_seconds: Expected `float | null`, got `str`" in message
    assert "state recover" in message
