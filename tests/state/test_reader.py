"""The state reader trusts nothing: each refusal names the place and what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from descript_iac.errors import StateError
from descript_iac.state.document import StateDocument
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

BASE = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
    "steps": [{"id": "s", "prompt": "p"}],
}


def _stored(tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
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
    assert "recorded twice, at projects.ep.import and at projects.other.steps.s" in message
    assert "Remove the wrong record" in message


def test_format_version_must_be_a_number(tmp_path: Path) -> None:
    path, data = _stored(tmp_path)
    path.write_text(json.dumps({**data, "format_version": "9"}))
    with pytest.raises(StateError, match=r"format_version must be a whole number .* not '9'"):
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


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type": "job_updated", "address": "ep"}', r"journal:2: this job_updated event cannot be"),
        ("[1, 2]", r"journal:2: not a journal record"),
        ('{"type": "teleported"}', r"journal:2: unknown journal event 'teleported'"),
        ('{"type": "job_submitted", "address": "ep", "intent_id": "gone", "job_id": "j"}',
         r"journal:2: ep: journal names intent gone that is not open"),
    ],
)  # fmt: skip
def test_malformed_journal_events_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    path, data = _stored(tmp_path)
    header = {"journal": 1, "lineage": data["lineage"], "base_serial": data["serial"]}
    (tmp_path / "ws.json.journal").write_text(json.dumps(header) + "\n" + line + "\n")
    with pytest.raises(StateError, match=message):
        LocalStateStore(path).read()
