"""`validate` takes a file's verdict from the shipped JSON Schema, without building a model
(config/validation/schema.py). Its promise: whatever that reader accepts, the models accept too, so a
`validate` that says "valid" never meets a `plan` that refuses the same file."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from descript_iac.config.model import WorkspaceFile
from descript_iac.config.validation.schema import (
    SCHEMA_FILE,
    UnreadableSchema,
    compile_schema,
    conforms,
)
from tests.builders import REPO

FULL: dict[str, Any] = {
    "version": 1,
    "state": {"backend": "postgresql", "url": "postgresql://h/db", "name": "n", "schema": "s_1"},
    "defaults": {"team_access": "edit", "model": "fast", "callback_url": "https://h.io/cb"},
    "projects": {
        "ep.1": {
            "name": "Episode 1",
            "team_access": "view",
            "media": {
                "a.wav": {"url": "https://cdn.example.com/a.wav", "language": "en", "revision": 2},
                "seq": {"tracks": [{"media": "a.wav", "offset": 0.5}]},
            },
            "compositions": [
                {
                    "name": "Full",
                    "clips": [{"media": "seq"}],
                    "width": 1920,
                    "height": 1080,
                    "fps": 29.97,
                    "publish": {"media_type": "Video", "resolution": "4K", "access_level": "drive"},
                }
            ],
            "steps": [
                {"id": "clean", "prompt": "Remove filler", "model": "m", "composition": "Full"}
            ],
            "callback_url": "https://hooks.example.com/x",
            "lifecycle": {"on_change": "replace"},
            "folder": "Clients/Acme",
            "exports": [{"composition": "Full", "subtitles": "s.vtt", "metadata": "m.json"}],
        }
    },
    "moved": [{"from": "old", "to": "ep.1"}],
}
LOCAL = {"version": 1, "state": {"backend": "local", "path": "state/x.json"}, "projects": {}}
NAMES = sorted(
    {"version", "state", "defaults", "projects", "moved", "from", "to", "backend", "schema"}
    | set(FULL["projects"]["ep.1"])
    | {"url", "language", "revision", "tracks", "media", "offset", "clips", "publish", "id"}
    | {"prompt", "model", "composition", "on_change", "published", "subtitles", "metadata"}
    | {"from_", "schema_name", "width", "fps", "resolution", "access_level", "media_type"}
)
# Values around every edge where JSON's rules and pydantic's could part.
EDGES = [
    None, True, False, 0, -1, 1, 2, 10**30, 1.0, 0.0, -0.0, 1.5, math.nan, math.inf, -math.inf,
    "", "a", "ep", "ep\n", "\n", "é", "A", "-a", "a" * 100, "a" * 101, "5", "local", "postgresql",
    "Video", "4K", "edit", "block", "replace", "https://x.io/a.wav", [], {}, [{}], {"url": "u"},
]  # fmt: skip
values = st.one_of(
    st.sampled_from(EDGES),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.lists(st.sampled_from(EDGES), max_size=2),
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*path, i))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document with one to three values replaced, keys added or keys removed."""
    doc = copy.deepcopy(draw(st.sampled_from([FULL, LOCAL])))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["replace", "add", "remove"]))
        if how == "replace" and path:
            parent[path[-1]] = copy.deepcopy(draw(values))
        elif how == "remove" and path and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            target = parent[path[-1]] if path else doc
            if isinstance(target, dict):
                target[draw(st.sampled_from(NAMES) | st.text(max_size=4))] = copy.deepcopy(
                    draw(values)
                )
    return doc


def _models_accept(data: Any) -> bool:
    try:
        WorkspaceFile.model_validate(data)
    except ValidationError:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_what_the_schema_reader_accepts_the_models_accept(doc: dict[str, Any]) -> None:
    if conforms(doc):
        assert _models_accept(doc), doc


def _at(doc: dict[str, Any], path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@pytest.mark.parametrize("base", [FULL, LOCAL], ids=["full", "local"])
def test_every_edge_value_in_every_place_and_as_every_key(base: dict[str, Any]) -> None:
    """Each value of EDGES in place of each value of a valid document; each string of EDGES in
    place of each key (the value kept): where the reader says yes, the models must too."""
    accepted = 0
    for path in _paths(base)[1:]:
        for value in EDGES:
            doc = copy.deepcopy(base)
            _at(doc, path[:-1])[path[-1]] = copy.deepcopy(value)
            if conforms(doc):
                accepted += 1
                assert _models_accept(doc), (path, value)
        if isinstance(path[-1], str):
            for key in (e for e in EDGES if isinstance(e, str)):
                doc = copy.deepcopy(base)
                parent = _at(doc, path[:-1])
                parent[key] = parent.pop(path[-1])
                if conforms(doc):
                    accepted += 1
                    assert _models_accept(doc), (path, key)
    assert accepted > 10  # not vacuous: many variations are valid


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("projects", "ep\n"), {"steps": []}),  # Python's `$` matches before a final "\n"
        (("projects", "ep.1", "steps", 0, "id"), "clean\n"),
        (("projects", "ep.1", "media", "a.wav", "revision"), -1),  # what `_revision` refuses
        (("projects", "ep.1", "media", "a.wav", "revision"), ""),
        (("projects", "ep.1", "media", "a.wav", "revision"), True),
        (("projects", "ep.1", "compositions", 0, "fps"), math.nan),
        (("projects", "ep.1", "media", "seq", "tracks", 0, "offset"), -math.inf),
        (("projects", "ep.1", "team_access"), "admin"),
        (("projects", "ep.1", "media", "a.wav", "tracks"), [{"media": "a.wav"}]),
    ],
)
def test_edges_the_models_refuse_are_refused(path: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(FULL)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if path[-1] in parent and path[0] == "projects" and len(path) == 2:
        del parent[path[-1]]
    parent[path[-1]] = value
    assert not _models_accept(doc)
    assert not conforms(doc)


def test_valid_files_are_answered_by_the_schema_alone() -> None:
    """The point of it: the common file never needs a model."""
    assert conforms(FULL) and conforms(LOCAL) and _models_accept(FULL)
    assert conforms({"version": 1, "projects": {"ep": {"steps": [{"id": "a", "prompt": "p"}]}}})


def test_the_shipped_schema_is_the_checked_in_one() -> None:
    checked_in = REPO / "schemas" / "descript-iac.schema.json"
    assert SCHEMA_FILE.read_text() == checked_in.read_text(), (
        f"copy {checked_in} to {SCHEMA_FILE}: validate reads the shipped one"
    )


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "maxLength": 3},  # a keyword it does not read
        {"type": "string", "pattern": "^\\d+$"},  # \d is Unicode in Python, ASCII in JSON
        {"type": "string", "pattern": "^a$|^b$"},
        {"$ref": "#/$defs/Nowhere"},
    ],
)
def test_a_schema_it_cannot_read_exactly_is_refused_not_guessed(schema: dict[str, Any]) -> None:
    with pytest.raises(UnreadableSchema):
        compile_schema(schema)


def test_examples_conform(tmp_path: Path) -> None:
    from descript_iac.config.yamlsource import read_source

    for file in sorted((REPO / "examples").glob("*/*.yaml")):
        data = read_source(file, file.name).data
        assert conforms(json.loads(json.dumps(data))), file
