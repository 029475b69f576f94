"""`state recover` with a journal written for a state of another salt: an intent it carries over
still open (the run died between the POST and its reply) has its digests made to fit the state,
so that the job the next apply finds for it is recorded with digests the plan understands."""

from __future__ import annotations

import pytest

from descript_iac.errors import StateError
from descript_iac.state.document import ImportFacets, Intent, ProjectState, StateDocument
from descript_iac.state.events import IntentOpened
from descript_iac.state.journal import JournalHeader
from descript_iac.state.recovery import merge_journal
from descript_iac.state.salting import step_digest_of

THEIRS, OURS = "journal-salt", "state-salt"


def step_intent(digest: str) -> Intent:
    return Intent(
        intent_id="i1", action="step", step_id="clean", fingerprint="f", sent_at=0.0,
        job_type="agent", project_id="p1", step_digest=digest, step_prompt="Remove filler words",
        step_model="",
    )  # fmt: skip


def header() -> JournalHeader:
    return JournalHeader(lineage="theirs", base_serial=3, salt=THEIRS)


def test_an_open_step_intent_gets_the_states_salt() -> None:
    doc = StateDocument(salt=OURS, projects={"ep": ProjectState(project_id="p1")})
    theirs = step_digest_of(THEIRS, "Remove filler words", "", None)
    merge_journal(doc, [IntentOpened(address="ep", intent=step_intent(theirs))], header())
    (intent,) = doc.projects["ep"].intents
    assert intent.step_digest == step_digest_of(OURS, "Remove filler words", "", None)


def test_an_open_create_intent_whose_digests_cannot_be_recomputed_is_refused() -> None:
    doc = StateDocument(salt=OURS)
    create = Intent(
        intent_id="i2", action="create", fingerprint="f", sent_at=0.0,
        job_type="import/project_media", facets=ImportFacets(name="sha256:x", team_access="t"),
    )  # fmt: skip
    with pytest.raises(StateError, match="ep: the import/project_media job of the journal"):
        merge_journal(doc, [IntentOpened(address="ep", intent=create)], header())
