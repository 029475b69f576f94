"""Generate the JSON Schema (2020-12) of the workspace format from the pydantic models."""

from __future__ import annotations

import json
from typing import Any

from descript_iac.config.model import ADDRESS_PATTERN, WorkspaceFile

SCHEMA_ID = "https://descript-iac.dev/schemas/descript-iac.schema.json"


def workspace_schema() -> dict[str, Any]:
    schema = WorkspaceFile.model_json_schema()
    schema["properties"]["projects"]["propertyNames"] = {"pattern": ADDRESS_PATTERN}
    schema["properties"]["projects"]["additionalProperties"] = False
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def render_schema() -> str:
    return json.dumps(workspace_schema(), indent=2, sort_keys=True) + "\n"
