"""The state reader trusts nothing: each refusal names the place and what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from descript_iac.errors import StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

BASE = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
    "steps": [{"id": "s", "prompt": "p"}],
}


def _stored(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    doc = record_apply(StateDocument(), desired_project("ep", **BASE))
    record_apply(doc, desired_project("other", **BASE))
    path = tmp_path / "ws.json"
    data = doc.to_json()
    path.write_text(json.dumps(data, indent=2))
    return path, data


def test_a_job_recorded_under_two_projects_is_refused(tmp_path: Path) -> None:
    path, data = _stored(tmp_path)
    data["projects"]["other"]["steps"][0]["job_id"] = data["projects"]["ep"]["import"]["job_id"]
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(StateError) as info:
        LocalStateStore(path).read()
    message = str(info.value)
    assert message.startswith(f"{path}: job ")
    assert "recorded under two projects, projects.ep and projects.other" in message
    assert "Remove the wrong record" in message


def test_format_version_must_be_a_number(tmp_path: Path) -> None:
    path, data = _stored(tmp_path)
    path.write_text(json.dumps({**data, "format_version": "9"}))
    with pytest.raises(StateError, match=r"format_version must be a whole number, not '9'"):
        LocalStateStore(path).read()


def test_strings_are_not_numbers_anywhere(tmp_path: Path) -> None:
    path, data = _stored(tmp_path)
    data["projects"]["ep"]["totals"]["ai_credits"] = "12"
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match=r"not valid \(projects\.ep\.totals\.ai_credits"):
        LocalStateStore(path).read()


def test_json_errors_name_line_and_column(tmp_path: Path) -> None:
    path, _ = _stored(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(StateError, match=rf"{path}:\d+:\d+: the state is corrupt or truncated"):
        LocalStateStore(path).read()


def test_a_journal_event_that_breaks_the_document_is_a_state_error(tmp_path: Path) -> None:
    """Events are typed, but a job's body is a dict: a damaged one is refused, not a crash."""
    path, data = _stored(tmp_path)
    job_id = data["projects"]["ep"]["import"]["job_id"]
    header = {
        "journal": 1,
        "journal_id": "j",
        "lineage": data["lineage"],
        "base_serial": data["serial"],
    }
    event = {"type": "job_updated", "address": "ep", "job": {"job_id": job_id, "job_state": None}}
    (tmp_path / "ws.json.journal").write_text(json.dumps(header) + "\n" + json.dumps(event) + "\n")
    with pytest.raises(StateError, match=r"ws\.json\.journal: its event 1 \(job_updated\) cannot"):
        LocalStateStore(path).read()
