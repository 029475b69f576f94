"""The checked-in schema matches the models, and every example is valid by both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from descript_iac.config import load_workspace
from descript_iac.config.schema import render_schema
from tests.builders import EXAMPLES, REPO, run_cli

SCHEMA_FILE = REPO / "schemas" / "descript-iac.schema.json"
# Workspaces; examples/ci holds CI recipes (tests/e2e/test_ci_recipes.py runs them).
EXAMPLE_DIRS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "ci")


def test_checked_in_schema_matches_models() -> None:
    assert SCHEMA_FILE.read_text() == render_schema(), (
        "schemas/descript-iac.schema.json is stale: run "
        "`descript-iac schema > schemas/descript-iac.schema.json` and copy it to "
        "descript_iac/config/ (what validate reads)"
    )


def test_required_examples_exist() -> None:
    assert {"quickstart", "podcast", "prompt-only"} <= {p.name for p in EXAMPLE_DIRS}


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_validates_against_schema(example: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for file in sorted(example.glob("*.yaml")):
        data = YAML(typ="safe").load(file.read_text())
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], f"{file}: {errors}"


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_passes_validate(example: Path) -> None:
    result = run_cli("validate", str(example))
    assert result.exit_code == 0, result.output
    assert load_workspace(example).projects


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    bad = {"version": 1, "projects": {"ep": {"team_access": "admin", "steps": []}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad))
    bad_address = {"version": 1, "projects": {"Bad Name": {"steps": []}}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad_address))
