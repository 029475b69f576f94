"""The validation pipeline (config/validation/): its stages report every problem of a file in one
pass, the same through `validate` (the schema stage, no model) and `plan` (the models); the
schema stage leaves the data as it found it; a change to any stage's code is never hidden by
the workspace cache."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from descript_iac.config import cache
from descript_iac.config.validation import schema
from descript_iac.config.validation.schema import conforms
from tests.builders import run_cli, write_workspace

# One problem for each stage after syntax, in three projects of one file.
MIXED = """
version: 1
projects:
  typed:
    team_access: admin
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
  referenced:
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
      seq: {tracks: [{media: b.wav}]}
  lived:
    folder: "../up"
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
"""
EXPECTED = [
    "main.yaml:4:18: 'team_access' must be one of 'edit', 'comment', 'view' or 'none': got 'admin'",
    "main.yaml:10:30: track names unknown media item 'b.wav'; did you mean 'a.wav'?",
    "main.yaml:12:13: folder must not contain '..'",
]


def _problems(output: str) -> list[str]:
    return [
        line[line.index("main.yaml:") :] for line in output.splitlines() if "main.yaml:" in line
    ]


def test_every_stage_reports_in_one_pass_the_same_in_validate_and_plan(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"main.yaml": MIXED})
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    validated = run_cli("validate", str(root), env=env)
    planned = run_cli("--state", str(tmp_path / "s.json"), "plan", str(root), env=env)
    assert validated.exit_code == planned.exit_code == 1
    found = _problems(validated.output)
    assert found == _problems(planned.output), (validated.output, planned.output)
    assert found == EXPECTED  # types, cross-references, lifecycle: each at its file:line:col


def test_the_schema_stage_writes_nothing_into_the_data() -> None:
    """fastjsonschema fills in a schema's defaults unless told not to; the data it checks is
    the data that is cached and planned, where a missing key and `null` differ."""
    doc: dict[str, Any] = {
        "version": 1,
        "projects": {"ep": {"media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}},
    }
    before = copy.deepcopy(doc)
    assert conforms(doc)
    assert doc == before


def test_a_change_to_any_validation_stage_invalidates_the_workspace_cache() -> None:
    module = Path(schema.__file__).with_name("references.py")
    before = cache._code_fingerprint()
    stat = module.stat()
    try:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert cache._code_fingerprint() != before
    finally:
        os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cache._code_fingerprint() == before


def test_the_compiled_validator_is_kept_for_the_next_run_and_a_broken_one_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiling the schema costs a `validate` of one changed file ~40-70 ms; a later run loads
    the bytecode kept beside the workspace cache. A kept file that is damaged (or from another
    Python) is compiled again, never an error."""
    monkeypatch.setattr(schema, "_compiled", [])  # as in a new process
    root = write_workspace(tmp_path / "ws", {"main.yaml": "version: 1\nprojects: {}\n"})
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert run_cli("validate", str(root), env=env).exit_code == 0
    (kept,) = (tmp_path / "cache").rglob("schema-validator-*.marshal")
    raw = schema.SCHEMA_FILE.read_bytes()
    valid = {"version": 1, "projects": {"ep": {"steps": [{"id": "a", "prompt": "p"}]}}}
    loaded = schema._compiled_validator(raw, kept.parent)
    loaded(valid)  # raises when invalid
    kept.write_bytes(b"not bytecode")
    again = schema._compiled_validator(raw, kept.parent)
    again(valid)
    assert kept.read_bytes() != b"not bytecode"  # replaced by a good one
