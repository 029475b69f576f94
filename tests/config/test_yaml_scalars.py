"""Workspace files are YAML 1.2 (core schema): `no` is a string, `010` is ten, and a value
keeps the type its file gives it whichever way the reader composes the file."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from descript_iac.config.yamlsource import read_source

CASES = [
    ("plain", "hello", "hello"),
    ("quoted number", "'12'", "12"),
    ("double-quoted true", '"true"', "true"),
    ("block", "|\n    text", "text\n"),
    ("yaml 1.1 bool is a string", "no", "no"),
    ("yes is a string", "yes", "yes"),
    ("on is a string", "on", "on"),
    ("true", "true", True),
    ("False", "False", False),
    ("null", "null", None),
    ("tilde", "~", None),
    ("empty", "", None),
    ("name-like", "name", "name"),
    ("int", "42", 42),
    ("negative", "-7", -7),
    ("octal 1.2", "0o17", 15),
    ("leading zero", "010", 10),
    ("hex", "0x1F", 31),
    ("underscores", "1_000", 1000),
    ("float", "0.35", 0.35),
    ("dot float", ".5", 0.5),
    ("exponent", "1e3", 1000.0),
    ("inf", ".inf", math.inf),
    ("minus inf", "-.inf", -math.inf),
    ("sexagesimal is a string", "1:20", "1:20"),
    ("date stays a string", "2026-01-01", "2026-01-01"),
    ("version-like", "1.2.3", "1.2.3"),
    ("explicit str tag", "!!str 12", "12"),
    ("explicit int tag", "!!int '12'", 12),
    # As with ruamel.yaml before: a non-specific tag resolves like a plain scalar.
    ("non-specific tag", "! 12", 12),
    ("merge-looking value", "<<", "<<"),
]


@pytest.mark.parametrize(("label", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_scalar_types(tmp_path: Path, label: str, text: str, expected: object) -> None:
    file = tmp_path / "a.yaml"
    file.write_text(f"value: {text}\nother: [{text if '|' not in text else 'x'}]\n")
    source = read_source(file, "a.yaml")
    assert not source.problems
    value = source.data["value"]
    assert value == expected and type(value) is type(expected)


def test_nan(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text("value: .nan\n")
    assert math.isnan(read_source(file, "a.yaml").data["value"])


def test_merge_key_tagged_explicitly(tmp_path: Path) -> None:
    file = tmp_path / "a.yaml"
    file.write_text("base: &b {x: 1}\nvalue:\n  !!merge <<: *b\n  y: 2\n")
    assert read_source(file, "a.yaml").data["value"] == {"x": 1, "y": 2}


def test_merge_keys_as_before(tmp_path: Path) -> None:
    """Own keys win over merged ones; in a list of sources the first wins; a later `<<` key
    overrides an earlier one (as the reader always did)."""
    file = tmp_path / "a.yaml"
    file.write_text(
        "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\n"
        "list: {<<: [*a, *b], y: 0}\n"
        "twice:\n  <<: *a\n  <<: *b\n"
    )
    data = read_source(file, "a.yaml").data
    assert data["list"] == {"y": 0, "x": 1, "z": 2}
    assert data["twice"] == {"x": 2, "y": 1, "z": 2}


PLAIN = [
    "no",
    "yes",
    "on",
    "off",
    "y",
    "n",
    "true",
    "True",
    "TRUE",
    "false",
    "FALSE",
    "tRue",
    "null",
    "Null",
    "NULL",
    "~",
    "nil",
    "none",
    "0",
    "-0",
    "+1",
    "010",
    "0o17",
    "0o8",
    "0x1F",
    "0xg",
    "0b101",
    "1_000",
    "1__0",
    "_1",
    "1.",
    ".5",
    "-.5",
    "+.5",
    "1e3",
    "1E3",
    "1e+3",
    "1.5e-3",
    ".inf",
    "-.inf",
    "+.inf",
    ".Inf",
    ".INF",
    ".nan",
    ".NaN",
    "nan",
    "inf",
    "1:20",
    "1:20.5",
    "0.1.2",
    "1,000",
    "+",
    ".",
    "<<<",
    "12abc",
    "0.",
    "-1_0.5",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_scalars_resolve_as_ruamel_yaml_did(tmp_path: Path, text: str) -> None:
    """The YAML 1.2 core schema of ruamel.yaml, which read workspace files before."""
    from ruamel.yaml import YAML

    file = tmp_path / "a.yaml"
    file.write_text(f"value: {text}\n")
    expected = YAML(typ="safe", pure=True).load(file.read_text())["value"]
    got = read_source(file, "a.yaml").data["value"]
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == expected and type(got) is type(expected)
