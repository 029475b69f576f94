"""Run schemathesis (every check, every phase) from an OpenAPI document against a running
emulator, and report each failure that no listed exception explains."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

REFERENCE = Path("/work/shared/reference/descript-openapi-2026.json")
OPERATIONS_2026 = {
    ("/jobs/publish", "post"),
    ("/jobs/{job_id}", "delete"),
    ("/projects", "get"),
    ("/projects/{project_id}", "get"),
}


@dataclass(frozen=True)
class Allowed:
    """A failure schemathesis reports that is the document's limit, not the emulator's."""

    operation: str  # regex matching the whole label, e.g. "POST /jobs/agent" or "POST .*"
    check: str  # "positive_data_acceptance"
    status: int
    message: str  # regex searched in the response body
    reason: str


@dataclass(frozen=True)
class Found:
    operation: str
    check: str
    status: int | None
    request: str
    body: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.check}] -> {self.status}: {self.request} -> {self.body}"


def reference_document(level: str) -> dict[str, Any]:
    """Descript's 2026 document; at the seed level, without what 2026 added."""
    doc: dict[str, Any] = json.loads(REFERENCE.read_text())
    if level == "2026":
        return doc
    doc = copy.deepcopy(doc)
    for path, method in OPERATIONS_2026:
        del doc["paths"][path][method]
        if not doc["paths"][path]:
            del doc["paths"][path]
    body = doc["paths"]["/jobs/import/project_media"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    del schema["properties"]["folder_name"]
    shapes = schema["properties"]["add_media"]["additionalProperties"]["oneOf"]
    shapes[:] = [s for s in shapes if s.get("title") != "Direct Upload"]
    return doc


def run(
    doc: dict[str, Any], app: Any, token: str, max_examples: int
) -> tuple[list[Found], set[str]]:
    """(failures, operations exercised), calling the emulator's ASGI app in-process (twice as
    fast as a socket, and the same code from the middleware down)."""
    doc = copy.deepcopy(doc)
    doc["servers"] = [{"url": "http://testserver/v1"}]
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20260101,
            "checks": {"enabled": True},  # every check
            "generation": {"max-examples": max_examples},
            "headers": {"Authorization": f"Bearer {token}"},
        }
    )
    schema = schemathesis.openapi.from_dict(doc, config=config)
    schema.app = app
    found: list[Found] = []
    exercised: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, (events.NonFatalError, events.FatalError)):
            raise AssertionError(f"schemathesis could not run: {event}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for case_id, checks in recorder.checks.items():
            case = recorder.cases[case_id].value
            exercised.add(case.operation.label)
            for check in checks:
                if check.failure_info is None:
                    continue
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction else None
                found.append(
                    Found(
                        operation=case.operation.label,
                        check=check.name,
                        status=response.status_code if response else None,
                        request=f"{case.method} {case.formatted_path} {case.query} {case.body!r}"[
                            :400
                        ],
                        body=(response.content or b"").decode(errors="replace")[:300]
                        if response
                        else "",
                    )
                )
    return found, exercised


def unexplained(found: list[Found], allowed: list[Allowed]) -> list[Found]:
    return [
        f
        for f in found
        if not any(
            re.fullmatch(a.operation, f.operation)
            and a.check == f.check
            and a.status == f.status
            and re.search(a.message, f.body)
            for a in allowed
        )
    ]
