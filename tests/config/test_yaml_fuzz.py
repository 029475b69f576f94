"""Property: whatever bytes a workspace file holds, loading it returns a workspace or raises the
tool's own error (`DescriptIacError`, with every problem at a place); nothing else escapes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from descript_iac.config import load_workspace
from descript_iac.errors import ConfigError, DescriptIacError

EXAMPLES = 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

VALID = """version: 1
defaults: {team_access: edit, model: fast}
projects:
  ep:
    name: "Episode 1"
    media:
      a.wav: {url: "https://cdn.example.com/a.wav", language: en, revision: 2}
      seq: {tracks: [{media: a.wav, offset: 0.5}]}
    compositions:
      - {name: Full, clips: [{media: seq}], width: 1920, fps: 30}
    steps:
      - {id: clean, prompt: "Remove filler words"}
    lifecycle: {on_change: replace}
    callback_url: https://hooks.example.com/x
"""

KEYS = ["version", "projects", "defaults", "media", "url", "tracks", "steps", "id", "prompt",
        "name", "compositions", "clips", "revision", "<<", "team_access", "lifecycle"]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["https://x.io/a.wav", "${env:HOME}", "${env:NOPE_X}", "$${", "*a", "&a"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=25,
)


def _load(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / "main.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_workspace(root)
        except ConfigError as exc:
            assert exc.problems and all(p.line >= 1 and p.column >= 1 for p in exc.problems)
        except DescriptIacError:
            pass


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list("version: 1\nprojects{}[]-,'\"&*!|>#%@`\t ep")), max_size=200
    )
)
def test_yaml_like_text(text: str) -> None:
    _load(text)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    _load(data)


@FUZZ
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.text(max_size=6), st.integers(0, 8))
def test_a_valid_file_with_one_edit(at: int, insert: str, cut: int) -> None:
    _load(VALID[:at] + insert + VALID[at + cut :])


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=4))
def test_structured_documents(document: dict[str, Any]) -> None:
    yaml = YAML(typ="safe", pure=True)
    import io

    buffer = io.StringIO()
    try:
        yaml.dump({"version": 1, **document}, buffer)
    except Exception:  # not representable as YAML (e.g. lone surrogates): not our input
        return
    _load(buffer.getvalue())
