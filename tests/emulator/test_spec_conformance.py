"""Fidelity to Descript's own OpenAPI document (2026): schemathesis, with every check and every
phase (examples, coverage, fuzzing, stateful), finds no failure on any operation the emulator
serves, at the 2026 level and, for the seed's operations, at the seed level.

The exceptions below are the document's limits, not the emulator's: semantic rules it cannot
express, and its omissions. Each is matched by operation, check, status and reply text, so any
other failure still fails the test.
"""

from __future__ import annotations

import pytest

from descript_iac.emulator import Backend, EmulatorConfig
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.routes import build_app
from tests.builders import TOKEN
from tests.emulator.conformance import Allowed, reference_document, run, unexplained

MAX_EXAMPLES = 6
VALID_REJECTED = "positive_data_acceptance"
UNDOCUMENTED = "status_code_conformance"

SEMANTIC = [
    Allowed(
        "POST /jobs/agent",
        VALID_REJECTED,
        400,
        "mutually exclusive|Either project_id or project_name is required",
        "exactly one of project_id and project_name: the document says so in prose only",
    ),
    Allowed(
        "POST /jobs/agent",
        VALID_REJECTED,
        400,
        "prompt must not be blank",
        "an empty prompt is no instruction; the document gives `prompt` no minLength",
    ),
    Allowed(
        "GET /jobs",
        VALID_REJECTED,
        400,
        "maximum lookback is 30 days",
        "the 30-day lookback of created_after is stated in prose, not in the schema",
    ),
    Allowed(
        "GET /jobs",
        VALID_REJECTED,
        400,
        "cursor is not valid",
        "a cursor is opaque: only a next_cursor the API gave can be sent back",
    ),
    Allowed(
        "POST /jobs/import/project_media",
        VALID_REJECTED,
        400,
        r"track media .* is not defined|clip media .* is not defined",
        "tracks and clips must name media of the request or the project (references)",
    ),
    Allowed(
        "POST /jobs/import/project_media",
        VALID_REJECTED,
        400,
        "conflict with existing files",
        "an import into a project must not reuse its file names (stated in prose)",
    ),
    Allowed(
        "POST /jobs/import/project_media",
        VALID_REJECTED,
        400,
        "invalid display name",
        "a display name is a relative path: not empty, not absolute, no `..`",
    ),
    Allowed(
        "POST /.*",
        VALID_REJECTED,
        400,
        r"(url|callback_url|uri) must be an http\(s\) URL",
        "media are fetched and callbacks sent over http(s); `format: uri` allows any scheme",
    ),
    Allowed(
        "POST /jobs/import/project_media",
        VALID_REJECTED,
        400,
        "positive number of pixels",
        "a composition's width and height are pixels: at least 1",
    ),
    Allowed(
        "POST /jobs/publish",
        VALID_REJECTED,
        422,
        "composition",
        "a project publishes one of its own compositions, which exist once its import stopped",
    ),
    Allowed(
        "POST /edit_in_descript/schema",
        VALID_REJECTED,
        400,
        r"uri must be an http\(s\) URL|must be a non-empty array|start_offset.seconds",
        "an import link needs at least one fetchable file at a non-negative offset",
    ),
]
OMISSIONS = [
    Allowed(
        "POST /edit_in_descript/schema",
        UNDOCUMENTED,
        401,
        "unauthorized",
        "a missing or wrong token is 401 everywhere; this operation lists no 401",
    ),
    Allowed(
        "GET /projects",
        UNDOCUMENTED,
        400,
        "invalid_input",
        "a malformed filter, limit or cursor is 400, which listProjects does not list",
    ),
    Allowed(
        "GET /projects",
        VALID_REJECTED,
        400,
        "cursor is not valid",
        "a cursor is opaque: only a next_cursor the API gave can be sent back",
    ),
    Allowed(
        "DELETE /jobs/{job_id}",
        UNDOCUMENTED,
        409,
        "cannot be cancelled",
        "cancelling a stopped job is refused with 409; the document lists no status for it",
    ),
]


def _app(level: str):  # type: ignore[no-untyped-def]
    config = EmulatorConfig(tokens=(TOKEN,), job_seconds=0.0, faults=Faults(api_level=level))
    return build_app(Backend(config))


@pytest.mark.parametrize("level", ["2026", "seed"])
def test_descripts_document_finds_no_failure(level: str) -> None:
    doc = reference_document(level)
    found, exercised = run(doc, _app(level), TOKEN, MAX_EXAMPLES)
    operations = {
        f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item
    }
    assert exercised >= operations  # every operation the level serves was driven
    problems = unexplained(found, SEMANTIC + OMISSIONS)
    assert not problems, "\n".join(sorted({str(p) for p in problems}))
