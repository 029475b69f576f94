"""The one YAML reader (libyaml's composer + our YAML 1.2 builder) against an independent reader
of YAML 1.2, ruamel.yaml's safe loader: the same data (type and value, nan-aware) for the
corpus, the examples and generated documents, and key positions where ruamel gives them."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError as RuamelError

from descript_iac.config.source import Source
from descript_iac.config.yamlsource import read_text

ROOT = Path(__file__).resolve().parents[2]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def same(a: Any, b: Any) -> bool:
    """Equal in type and value, nan equal to nan, -0.0 apart from 0.0 (a mapping's order is
    not part of its value: merge keys place merged entries differently in the two readers)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return bool(a == b)


class _NullKey(Exception):
    """A null key: ours says `""` or `"None"` by its spelling, ruamel None for both."""


def plain(value: Any) -> Any:
    """ruamel's values as plain Python ones (its scalar subclasses, ordered maps), keys as text
    as ours are (a workspace's keys are names: `1: x` is the key "1")."""
    if isinstance(value, dict):
        if any(k is None for k in value):
            raise _NullKey
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


_RUAMEL = YAML(typ="safe", pure=True)


def reference(text: str) -> Any:
    """ruamel.yaml's reading of `text`, or `RuamelError` when it refuses it."""
    return plain(_RUAMEL.load(text))


# libyaml (YAML 1.1) ends an anchor's name at the first character outside [A-Za-z0-9_-];
# YAML 1.2 (ruamel) allows more (`&0:` is an anchor named `0:` there). Not a workspace's concern.
_ANCHOR_NAMES = re.compile(r"[&*][A-Za-z0-9_-]*[^A-Za-z0-9_\-\s,\[\]{}]")


def check(text: str) -> Source | None:
    """Our reading of `text` and the reference's agree (None when either refuses the text)."""
    if _ANCHOR_NAMES.search(text):
        return None
    ours = read_text(text, "a.yaml")
    if ours.problems:  # (before the reference: it would expand a billion laughs)
        return None  # ours is stricter (duplicate keys, tabs, budgets): checked elsewhere
    try:
        theirs = reference(text)
    except (RuamelError, ValueError, TypeError, RecursionError, _NullKey):
        return None
    assert same(ours.data, theirs), (text, ours.data, theirs)
    return ours


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
    assert taken >= 50  # compared on ordinary files, not refused for all


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
