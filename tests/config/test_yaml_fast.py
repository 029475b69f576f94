"""The fast read (yaml_rs) returns exactly what the full reader (libyaml + our builder) returns,
or declines: same data (type and value, nan-aware), same templated paths, same key positions of
the top two levels, and every other position, built on demand from the same text, the same."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from descript_iac.config.source import SHALLOW, Source
from descript_iac.config.yamlfast import fast_read
from descript_iac.config.yamlsource import positions, read_text

ROOT = Path(__file__).resolve().parents[2]
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def same(a: Any, b: Any) -> bool:
    """Equal in type and value, nan equal to nan, -0.0 apart from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return bool(a == b)


def check(text: str) -> Source | None:
    """Fast and full read of `text`; fails if the fast read differs in anything."""
    fast = fast_read(text, "a.yaml")
    if fast is None:
        return None
    full = read_text(text, "a.yaml", fast=False)
    assert not full.problems, (text, full.problems)
    assert same(fast.data, full.data), (text, fast.data, full.data)
    assert fast.templated == full.templated, text
    shallow = {p: k for p, k in full.keys.items() if len(p) <= SHALLOW}
    assert fast.keys == shallow, text
    assert full.root is not None
    values, keys = positions(full, full.root)
    fast.pos(("no such key",))  # builds every position from the text
    assert fast.values == values and fast.keys == keys, text
    return fast


def workspace_files() -> list[Path]:
    files = [*ROOT.glob("examples/**/*.yaml"), *ROOT.glob("tests/corpus/bad/**/*.yaml")]
    return sorted(f for f in files if f.is_file())


def test_corpus_and_examples_read_the_same() -> None:
    taken = 0
    for file in workspace_files():
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        taken += check(text) is not None
    assert taken >= 50  # the fast path is taken for ordinary files, not declined for all


ORDINARY = """version: 1
defaults:
  team_access: edit
projects:
  ep-1:
    name: "Episode 1"
    media:
      a.wav: {url: "https://cdn.example.com/a.wav?a=1&b=2", language: en}
      b.wav: {url: https://cdn.example.com/b.wav?x=1&y=*&z=!}
    steps:
      - {id: cleanup, prompt: Remove *all* filler words!}
      - id: punch
        prompt: "Make it pop! *now* & then"
  ep-2:
    name: Two
"""


def test_ordinary_file_takes_the_fast_path() -> None:
    source = check(ORDINARY)
    assert source is not None
    assert source.pos(("projects", "ep-2"), key=True).line == 14


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor, alias
        "a: !!str 1\n",  # tag
        "a: {x: 1}\nb:\n  <<: {y: 2}\n",  # merge key
        "a:\n\tb: 1\n",  # tab
        "\ufeffa: 1\n",  # BOM
        "---\na: 1\n",  # document marker
        "%YAML 1.2\n---\na: 1\n",  # directive
        "a: _1\n",  # int to yaml_rs, text to us
        "a: 0X1F\n",
        "a: .5e3\n",
        "a: 1e1_0\n",
        "a: .iNf\n",
        "a: [:x]\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\na: 2\n",  # duplicate key: the full reader reports it
        "1: a\n",  # key not a string
        'a: "12"\n',  # `"12"` or `12`: only the full reader knows
    ],
)
def test_declines(text: str) -> None:
    assert fast_read(text, "a.yaml") is None


def test_billion_laughs_is_never_expanded() -> None:
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lol += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    assert fast_read(lol, "a.yaml") is None
    assert "refusing to expand it" in read_text(lol, "a.yaml").problems[0].message


# A YAML-ish alphabet: numbers in every spelling, the core schema's words, indicators, unicode.
ATOMS = [
    *"0123456789+-._eExXoObBaflnrstuy~'\"&*!#:?-,[]{}|>% \n",
    "true", "false", "null", "yes", "no", "on", "off", ".inf", ".nan", "inf", "nan", "0o",
    "0x", "0b", "1_000", "<<", "${env:HOME}", "é", "ü", "→", "\u2028", "\t", "\r",
]  # fmt: skip
fragment = st.lists(st.sampled_from(ATOMS), max_size=8).map("".join)
keys = st.one_of(st.sampled_from(["a", "b", "ep-1", "name", "url", "version"]), fragment)


def quoted(s: str) -> str:
    return "'" + s.replace("'", "''").replace("\n", " ") + "'"


def double(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


scalar_text = st.one_of(fragment, fragment.map(quoted), fragment.map(double))


@st.composite
def block(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """A block mapping of random keys and values (scalars, flow and block collections)."""
    pad = " " * indent
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        key = draw(keys)
        kind = draw(st.sampled_from(["scalar", "flow", "map", "seq"] if depth < 3 else ["scalar"]))
        if kind == "scalar":
            lines.append(f"{pad}{key}: {draw(scalar_text)}")
        elif kind == "flow":
            items = draw(st.lists(scalar_text, max_size=3))
            if draw(st.booleans()):
                lines.append(f"{pad}{key}: [{', '.join(items)}]")
            else:
                pairs = ", ".join(f"{draw(keys)}: {v}" for v in items)
                lines.append(f"{pad}{key}: {{{pairs}}}")
        elif kind == "map":
            lines.append(f"{pad}{key}:")
            lines.append(draw(block(indent + draw(st.integers(1, 3)), depth + 1)))
        else:
            lines.append(f"{pad}{key}:")
            for _ in range(draw(st.integers(1, 3))):
                lines.append(f"{pad}  - {draw(scalar_text)}")
    return "\n".join(lines)


@PROPERTY
@given(st.one_of(scalar_text, st.text(max_size=20)))
@example("_1")
@example("1_000")
@example(".5e3")
@example("0X1F")
@example("1e1_0")
def test_scalars_read_the_same(value: str) -> None:
    for text in (f"v: {value}\n", f"v: [{value}]\n", f"v: {{k: {value}}}\n", f"{value}: 1\n"):
        check(text)


@PROPERTY
@given(block())
@example("a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n")
def test_documents_read_the_same(text: str) -> None:
    check(text + "\n")


@PROPERTY
@given(st.lists(st.sampled_from(ATOMS), max_size=40).map("".join))
def test_any_text_reads_the_same(text: str) -> None:
    check(text)
