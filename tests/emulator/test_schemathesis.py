"""Property-based: the emulator, driven from its own OpenAPI document, never answers 5xx
(without injected faults) and never sends a response its schema does not allow."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from descript_iac.emulator import Backend, EmulatorConfig
from descript_iac.emulator.routes import build_app
from tests.builders import TOKEN

APP = build_app(Backend(EmulatorConfig(tokens=(TOKEN,), job_seconds=0.0)))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@SCHEMA.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_emulator_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
