"""Property: whatever a state document or its journal holds, reading it returns a document or
raises `StateError` (a `DescriptIacError` naming the file); nothing else escapes, and the files
are never changed by reading."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descript_iac.errors import DescriptIacError
from descript_iac.state.document import StateDocument
from descript_iac.state.events import _HANDLERS
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
SPEC = {
    "media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}},
    "compositions": [{"name": "c", "clips": [{"media": "a.wav"}]}],
    "steps": [{"id": "s", "prompt": "p"}, {"id": "t", "prompt": "q"}],
}


def _valid() -> dict[str, Any]:
    doc = record_apply(
        StateDocument(), desired_project("ep", **SPEC), steps={"s": "success", "t": "running"}
    )
    record_apply(doc, desired_project("other", steps=[{"id": "w", "prompt": "write"}]))
    return doc.to_json()


VALID = _valid()
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


PATHS = _paths(VALID)[1:]


def _replace(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _read(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, data in files.items():
            (root / name).write_bytes(data)
        try:
            LocalStateStore(root / "ws.json").read()
        except DescriptIacError as exc:
            assert "ws.json" in str(exc)
        for name, data in files.items():
            assert (root / name).read_bytes() == data


@FUZZ
@given(st.sampled_from(PATHS), json_values)
def test_state_with_one_value_replaced(path: tuple[Any, ...], value: Any) -> None:
    _read({"ws.json": json.dumps(_replace(VALID, path, value)).encode()})


@FUZZ
@given(json_values)
def test_state_that_is_any_json(value: Any) -> None:
    _read({"ws.json": json.dumps(value).encode()})


@FUZZ
@given(st.integers(0, len(json.dumps(VALID))), st.binary(max_size=8))
def test_state_cut_or_spliced(at: int, junk: bytes) -> None:
    text = json.dumps(VALID, indent=2).encode()
    _read({"ws.json": text[:at] + junk + text[at + len(junk) :]})


def _event(kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "address": "ep", **extra}


events = st.builds(
    _event,
    st.sampled_from(sorted(model.model_fields["type"].default for model in _HANDLERS)),
    st.dictionaries(
        st.sampled_from(["intent", "intent_id", "job_id", "job", "quarantine", "reason", "address",
                         "project_id", "project_url", "sent_at", "clock_error"]),
        json_values,
        max_size=4,
    ),
)  # fmt: skip
real_ids = st.sampled_from(
    [
        VALID["projects"]["ep"]["import"]["job_id"],
        *(s["job_id"] for s in VALID["projects"]["ep"]["steps"]),
    ]
)
job_updates = st.builds(
    lambda job_id, state, result: {
        "type": "job_updated",
        "address": "ep",
        "job": {"job_id": job_id, "job_state": state, "result": result},
    },
    real_ids,
    st.one_of(st.sampled_from(["stopped", "cancelled", "running"]), json_values),
    json_values,
)


@FUZZ
@given(st.lists(st.one_of(events, job_updates, json_values), min_size=1, max_size=5), st.booleans())
def test_journal_of_any_events(records: list[Any], torn: bool) -> None:
    header = {
        "journal": 1,
        "journal_id": "j",
        "lineage": VALID["lineage"],
        "base_serial": VALID["serial"],
    }
    lines = [json.dumps(header), *(json.dumps(r) for r in records)]
    journal = "\n".join(lines) + "\n"
    if torn:
        journal = journal[: len(journal) * 2 // 3]
    _read({"ws.json": json.dumps(VALID).encode(), "ws.json.journal": journal.encode()})
