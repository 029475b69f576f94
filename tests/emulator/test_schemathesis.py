"""Property-based: the emulator, driven from its own OpenAPI document at each API level, never
answers 5xx (without injected faults) and never sends a response its schema does not allow; the
document describes exactly the operations the level serves."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from descript_iac.emulator import Backend, EmulatorConfig
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.routes import build_app
from tests.builders import TOKEN, start_emulator

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SEED_OPERATIONS = {
    "GET /status",
    "POST /jobs/import/project_media",
    "POST /jobs/agent",
    "GET /jobs",
    "GET /jobs/{job_id}",
    "POST /edit_in_descript/schema",
    "GET /published_projects/{publishedProjectSlug}",
}
OPERATIONS_2026 = {
    "POST /jobs/publish",
    "DELETE /jobs/{job_id}",
    "GET /projects",
    "GET /projects/{project_id}",
}


def _schema(level: str):  # type: ignore[no-untyped-def]
    config = EmulatorConfig(tokens=(TOKEN,), job_seconds=0.0, faults=Faults(api_level=level))
    return schemathesis.openapi.from_asgi("/openapi.json", build_app(Backend(config)))


SCHEMA_2026 = _schema("2026")


@SCHEMA_2026.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_emulator_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)


@pytest.mark.parametrize(
    ("level", "expected"),
    [("seed", SEED_OPERATIONS), ("2026", SEED_OPERATIONS | OPERATIONS_2026)],
)
def test_openapi_describes_what_the_level_serves(level: str, expected: set[str]) -> None:
    running = start_emulator(api_level=level)
    try:
        doc = httpx.get(f"{running.root_url}/openapi.json").json()
        documented = {f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        missing = []
        for operation in sorted(SEED_OPERATIONS | OPERATIONS_2026):
            method, path = operation.split(" ")
            url = running.base_url + path.format(
                job_id="00000000-0000-4000-8000-000000000000",
                project_id="00000000-0000-4000-8000-000000000000",
                publishedProjectSlug="nope",
            )
            reply = httpx.request(method, url, headers=auth, json={})
            served = not (reply.status_code == 404 and "Not Found" in reply.text)
            if served != (operation in expected):
                missing.append((operation, reply.status_code))
    finally:
        running.stop()
    assert documented == expected
    assert missing == []  # served exactly when documented; others answer the router's 404
