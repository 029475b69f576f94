"""The state's bytes: canonical (same document, same bytes), one project per line, the old
format still read, and bad documents refused with a message that says what to do."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descript_iac.errors import StateError
from descript_iac.redact import register_secret, scrub, scrub_needed
from descript_iac.state import codec, document
from descript_iac.state.document import (
    Intent,
    ProjectState,
    PublishRecord,
    PublishSettings,
    ShownFacets,
    StateDocument,
)
from descript_iac.state.reader import read_document
from descript_iac.state.store import LocalStateStore
from tests.builders import desired_project, record_apply

BASE = {
    "name": "Épisode ☃",  # non-ASCII stays as it is
    "media": {
        "a.wav": {"url": "https://cdn.example.com/a.wav"},
        "b.wav": {"url": "https://x.io/b"},
    },
    "compositions": [{"name": "Full", "clips": [{"media": "a.wav"}]}],
    "steps": [{"id": "s1", "prompt": "Add captions"}, {"id": "s2", "prompt": "Add chapters"}],
}


def applied(*addresses: str) -> StateDocument:
    doc = StateDocument()
    for address in addresses:
        record_apply(doc, desired_project(address, **BASE))
    doc.forgotten["gone"] = [ProjectState(project_id="p-old")]
    return doc


def encode(doc: StateDocument) -> bytes:
    return codec.encode(scrub(doc.to_json()))


def read(raw: bytes, tmp_path: Path) -> StateDocument:
    path = tmp_path / "ws.json"
    path.write_bytes(raw)
    return read_document(path, tmp_path / "ws.json.backup")


def test_round_trip_is_exact_and_canonical(tmp_path: Path) -> None:
    doc = applied("ep-b", "ep-a", "ep-c")
    raw = encode(doc)
    again = read(raw, tmp_path)
    assert again == doc
    assert encode(again) == raw
    # The same projects recorded in another order give the same bytes.
    other = applied("ep-c", "ep-a", "ep-b")
    other.lineage, other.salt = doc.lineage, doc.salt
    for address in ("ep-a", "ep-b", "ep-c"):
        other.projects[address] = doc.projects[address]
    assert encode(other) == raw


def test_layout_is_one_project_per_line_with_sorted_keys() -> None:
    doc = applied("ep-b", "ep-a")
    lines = encode(doc).decode().splitlines()
    assert lines[0].startswith('{"format_version":4,')
    assert lines[1:4] == ['"forgotten":{', lines[2], "},"]
    assert lines[4] == '"projects":{'
    assert lines[5].startswith('"ep-a":{') and lines[6].startswith('"ep-b":{')
    assert lines[7] == "}}"
    for row in lines[5:7]:
        body = json.loads(row.split(":", 1)[1].rstrip(","))
        assert list(body) == sorted(body)
    whole = json.loads("\n".join(lines))
    assert whole["format_version"] == 4 and set(whole["projects"]) == {"ep-a", "ep-b"}


def test_a_change_to_one_project_is_a_one_line_diff() -> None:
    doc = applied("ep-a", "ep-b", "ep-c")
    before = encode(doc).splitlines()
    doc.projects["ep-b"].tainted = "import partial"
    after = encode(doc).splitlines()
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=False)) if x != y]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]].startswith(b'"ep-b":')


@pytest.mark.parametrize("version", [1, 2])
def test_earlier_formats_are_read(version: int, tmp_path: Path) -> None:
    doc = applied("ep-a", "ep-b")
    data = {**doc.to_json(), "format_version": version}  # as earlier releases wrote it
    old = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    got = read(old.encode(), tmp_path)
    assert got == doc
    assert encode(got) == encode(doc)  # written back in the current format


def test_the_fast_path_refuses_what_the_full_check_refuses(tmp_path: Path) -> None:
    """A format-3 file whose header lacks a key is not taken for an empty state."""
    raw = encode(applied("ep-a"))
    header, rest = raw.split(b"\n", 1)
    no_salt = b",".join(p for p in header.split(b",") if not p.startswith(b'"salt"'))
    with pytest.raises(StateError, match="lacks salt"):
        read(no_salt + b"\n" + rest, tmp_path)


def test_empty_document(tmp_path: Path) -> None:
    doc = StateDocument()
    raw = encode(doc)
    assert b'"forgotten":{},\n"projects":{}}' in raw
    assert read(raw, tmp_path) == doc


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"format_version":4,"lineage":"x","salt":"y","serial":1,\n"projects":{\n"ep":{',
            "corrupt or truncated",
        ),
        (b"\xff\xfe", "not UTF-8"),
        (b"", "corrupt or truncated"),
        (b'{"format_version":9,"lineage":"x","future":true}', "state format 9 is newer"),
        (b'{"format_version":9,"lineage":"x","salt":"y","serial":1}', "state format 9 is newer"),
        (
            b'{"format_version":4,"lineage":"l","salt":"s","serial":"many",\n"projects":{}}',
            r"not valid \(serial: ",
        ),
        (
            b'{"format_version":4,"lineage":"l","salt":"s","serial":1,\n'
            b'"projects":{\n"ep":{"steps":[{"id":"s"}]}\n}}',
            r"not valid \(projects\.ep\.steps\.0\.",
        ),
        (b"{}", "lacks format_version"),
    ],
)
def test_bad_documents_are_refused_with_what_to_do(
    raw: bytes, message: str, tmp_path: Path
) -> None:
    with pytest.raises(StateError, match=message) as caught:
        read(raw, tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "ws.json"))
    if "newer" not in message:
        assert "ws.json.backup" in str(caught.value)


SHAPED = [
    "https://cdn.example.com/a.wav?sig=abc",
    "user:pw@db.example.com",
    "Authorization: Bearer abcdefgh12345678",
    "basic Zm9vOmJhcjEyMzQ1Ng==",
    'my-registered-secret-é"\n',
]


@given(
    st.lists(
        st.sampled_from(SHAPED) | st.text(max_size=30),
        min_size=1,
        max_size=6,
    )
)
def test_a_state_is_scrubbed_whenever_scrub_would_change_it(texts: list[str]) -> None:
    """The writer skips `scrub` only when it would change nothing: the bytes on disk are
    always those of the scrubbed document."""
    register_secret('my-registered-secret-é"\n')
    doc = StateDocument()
    for i, text in enumerate(texts):
        doc.projects[f"ep-{i}"] = ProjectState(project_url=text, tainted=text)
    raw = codec.encode(doc.to_json())
    scrubbed = codec.encode(scrub(doc.to_json()))
    if not scrub_needed(raw):
        assert raw == scrubbed
    if any(text in SHAPED for text in texts):
        assert scrub_needed(raw)


def test_the_store_writes_the_scrubbed_document(tmp_path: Path) -> None:
    register_secret("s3cr3t-value-from-env")
    doc = StateDocument()
    doc.projects["ep"] = ProjectState(
        project_url="https://x.io/p?token=abc", tainted="failed: s3cr3t-value-from-env"
    )
    LocalStateStore(tmp_path / "ws.json").commit(doc)
    text = (tmp_path / "ws.json").read_text()
    assert "s3cr3t-value-from-env" not in text and "token=abc" not in text


# The maps of a project record, by record and field (the encoder sorts their keys).
MAPS = {
    ("ImportFacets", "compositions"),
    ("ImportFacets", "media"),
    ("ImportRecord", "media"),
    ("Intent", "media"),
    ("ProjectState", "publishes"),
    ("ShownFacets", "compositions"),
    ("ShownFacets", "media"),
}


def test_records_declare_their_fields_in_stored_order() -> None:
    """Records declare their fields as the file has them (sorted), so that reading one is reading
    the other; `MAPS` names every map (`reversed_maps` must cover them all)."""
    maps = set()
    for record in vars(document).values():
        if not (isinstance(record, type) and issubclass(record, document._Record)):
            continue
        if record is StateDocument:
            continue
        fields = msgspec.structs.fields(record)
        names = [field.encode_name for field in fields]
        assert names == sorted(names), record.__name__
        for field in fields:
            if typing.get_origin(field.type) is dict:
                maps.add((record.__name__, field.name))
    assert maps == MAPS


def reversed_maps(project: ProjectState) -> None:
    """Every map of `project` rebuilt with its keys in reverse order (as code adding entries
    may leave them)."""
    records: list[Any] = [project, project.import_, *project.intents]
    for facets in (project.facets, *(i.facets for i in project.intents)):
        records += [facets, facets.shown if facets else None]
    for record in records:
        for kind, name in MAPS:
            if record is not None and type(record).__name__ == kind:
                setattr(record, name, dict(reversed(getattr(record, name).items())))


def test_a_project_with_maps_out_of_order_is_written_canonically() -> None:
    doc = applied("ep-a", "ep-b")
    project = doc.projects["ep-a"]
    facets = project.facets
    assert facets is not None
    facets.compositions = {"Full": "sha256:1", "Short": "sha256:2"}
    facets.shown = ShownFacets(media={"a": "x", "b": None}, compositions={"c": "1", "d": "2"})
    settings = PublishSettings()
    project.publishes = {
        name: PublishRecord(composition=name, settings=settings, job_id=f"j-{name}")
        for name in ("Full", "Short")
    }
    project.intents = [
        Intent(
            action="create",
            fingerprint="f",
            intent_id="i",
            job_type="import",
            sent_at=1.0,
            media={"a.wav": "sha256:a", "b.wav": "sha256:b"},
            facets=document.copied(facets),
        )
    ]
    reversed_maps(project)
    assert list(project.publishes) == ["Short", "Full"]
    raw = codec.encode_document(doc)
    assert raw == encode(doc)
    assert b'"publishes":{"Full":' in raw and b'"media":{"a":"x","b":null}' in raw


@given(
    st.lists(st.text(max_size=20), min_size=1, max_size=4),
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 2**40).map(float),
        min_size=1,
        max_size=4,
    ),
)
def test_any_text_and_number_is_read_back_as_written(texts: list[str], floats: list[float]) -> None:
    """Any text (escapes, non-ASCII) and any finite number (exponents) is written canonically
    (records or their JSON form, the same bytes) and read back equal."""
    doc = applied("ep-a")
    project = doc.projects["ep-a"]
    for i, (text, number) in enumerate(zip(texts * 4, floats * 4, strict=False)):
        step = project.steps[i % len(project.steps)]
        step.agent_response, step.ai_credits_used = text, number
        project.accepted_drift.append(text)
        project.totals.media_seconds = number
    raw = codec.encode_document(doc)
    assert raw == encode(doc)
    assert codec.read_current(raw) == doc


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("attempts", "2", "projects.ep-a.steps.1.attempts holds a value of the wrong type"),
        # (not ai_credits_used: it may be null, unknown, since issue #27; the API's numbers
        # are checked where they enter, api/models.py)
        ("sent_at", float("inf"), "projects.ep-a.steps.1.sent_at"),
        ("earlier_job_ids", ["j", 7], "projects.ep-a.steps.1.earlier_job_ids.1"),
    ],
)
def test_a_value_of_the_wrong_type_is_never_written(
    tmp_path: Path, field: str, value: Any, where: str
) -> None:
    """Records do not check assignments: the write reads its bytes back first, so a wrong value
    (or a number JSON cannot hold) is refused, naming it, and the stored state is unchanged."""
    store = LocalStateStore(tmp_path / "ws.json")
    doc = applied("ep-a", "ep-b")
    store.commit(doc)
    before = (tmp_path / "ws.json").read_bytes()
    setattr(doc.projects["ep-a"].steps[1], field, value)
    with pytest.raises(StateError, match="the state was not written") as caught:
        store.commit(doc)
    assert where in str(caught.value)
    assert (tmp_path / "ws.json").read_bytes() == before
    with pytest.raises(StateError, match="the state was not written"):
        store.commit(doc)  # a refused entry is never remembered as checked
    assert (tmp_path / "ws.json").read_bytes() == before
