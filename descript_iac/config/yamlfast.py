"""The fast read of a workspace file: yaml_rs (Rust), or a refusal that sends the file to the
full reader (config/yamlsource.py), which then runs unchanged with all its messages.

It returns exactly the data the full reader would, or nothing. Three guards make that so:
- the text is declined before parsing when it holds anything the two readers could take
  differently or that only the full reader can report on: anchors, aliases, tags, directives,
  document markers, merge keys, tabs, carriage returns, a BOM, characters libyaml refuses or
  reads as line breaks, and the plain scalars the two resolvers type differently (`_1`, `0X1`,
  `.5e3`, `1e1_0`, `.iNf`); yaml_rs refusing the text (a syntax error, a duplicate key) also
  declines;
- the data is declined when a key is not a string (the full reader turns it into one or
  reports it), when a string value reads as a non-string if unquoted (it may have been plain:
  the full reader would type it), or when it is deep or large enough to meet the full
  reader's limits;
- the positions of the top two levels' keys (one per project, needed by every plan) are read
  off the lines and accepted only when the lines at each indentation are exactly the keys of
  the data, in order. Every other position is built by the full reader from the same text on
  first use (`Source.text`), so a message names the same `file:line:col` either way.

`&`, `*` and `!` start a token only at the start of a node: after a line's indentation, after
`[`, `{`, `,` or `:`, or after `- ` or `? `. A URL's `?a=1&b=2` or a prompt's `Go!` is not
there, so such files take the fast path; `- *bold*` or `: !x` declines.
"""

from __future__ import annotations

import re
from typing import Any

from descript_iac.config.files import MAX_EXPANDED_BYTES, MAX_FILE_BYTES, NODE_BYTES
from descript_iac.config.source import Path_, Pos, Source
from descript_iac.config.yamlresolve import RESOLVE_FIRST, STR, resolve_plain, scalar_value

# Values and nesting below the full reader's limits (libyaml's depth, Python's recursion, the
# expanded size): a file near them goes to the reader that reports them. This path takes no
# anchor or alias, so its scalars add up to no more than the file; the values' count keeps
# the rest within MAX_EXPANDED_BYTES, so the full reader would have read the file whole too.
MAX_VALUES = (MAX_EXPANDED_BYTES - MAX_FILE_BYTES) // NODE_BYTES
MAX_DEPTH = 64
MAX_KEY = 100  # well under YAML's 1024-character limit on implicit keys, escapes included

# Each search starts on a literal or a rare character, so a file pays a few scans of its text.
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.")
_INDICATORS = "&*!%@`"
# Anchor, alias, tag or reserved indicator where a node can start.
_NODE_START = re.compile(r"(?:^|[\[{,:]|[?-] ) *[&*!%@`]", re.MULTILINE)
# Indicators libyaml and yaml_rs read apart: `[:x]`, `[?x]`, `[|x]`, `{a: :x}`, `[+:]`.
_FLOW = re.compile(r"[\[{,:] *[:?]|[\[{,] *[|>]|:[,\[\]{}]")
_DOT_EXPONENT = re.compile(r"\.[0-9_]+[eE][0-9_]")  # `.5e3`: a float to yaml_rs, text to us
_INF_NAN = re.compile(r"\.(?:[iI][nN][fF]|[nN][aA][nN])(?![A-Za-z0-9_])")
# A block scalar kept with its trailing breaks (`|+`), or with no content at the end of the
# file: yaml_rs and libyaml count the line breaks apart.
_KEEP = re.compile(r"[|>][0-9]?\+")
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]* *(?:#.*)?$")
_OUR_INF_NAN = frozenset((".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"))


def _token_start(text: str, i: int) -> bool:
    """Whether a plain scalar may start at `i` (after an optional sign): conservative."""
    k = i - 1
    if k >= 0 and text[k] in "+-":
        k -= 1
    return k < 0 or text[k] not in _WORD


def _underscore(text: str) -> bool:
    """`_1`, `+_1.5`, `1e1_0`, `1e_1`: numbers to yaml_rs, text to us."""
    i = text.find("_")
    while i >= 0:
        if _token_start(text, i) and text[i + 1 : i + 2] in ("0123456789_.") and i + 1 < len(text):
            return True
        j = i - 1
        while j >= 0 and text[j].isdigit():
            j -= 1
        if j >= 0 and text[j] in "+-":
            j -= 1
        if j >= 1 and text[j] in "eE" and text[j - 1] in "0123456789._":
            return True
        i = text.find("_", i + 1)
    return False


def _declines(text: str, lines: list[str]) -> bool:
    """Whether the text holds anything the two readers could take apart, or that only the
    full reader reports on."""
    if not all(map(str.isprintable, lines)):
        return True  # tab, CR, controls, NEL, LS/PS (line breaks to libyaml), BOM, ...
    if text.startswith(("---", "...", "%")) or "\n---" in text or "\n..." in text:
        return True  # document markers, directives (also `---x`: conservative)
    if "\n%" in text or "<<" in text:
        return True  # directives, merge keys
    if any(c in text for c in _INDICATORS) and _NODE_START.search(text):
        return True
    if _FLOW.search(text):
        return True
    last = text.rstrip()
    if _BLOCK_HEADER.search(last[last.rfind("\n") + 1 :]) or _KEEP.search(text):
        return True
    if "_" in text and _underscore(text):
        return True
    for prefix in ("0X", "0O", "0B"):  # `0X1F`: an int to yaml_rs, text to us
        i = text.find(prefix)
        while i >= 0:
            if _token_start(text, i):
                return True
            i = text.find(prefix, i + 1)
    for m in _DOT_EXPONENT.finditer(text):
        if _token_start(text, m.start()):
            return True
    for m in _INF_NAN.finditer(text):
        if m.group() not in _OUR_INF_NAN and _token_start(text, m.start()):
            return True
    return False


def fast_read(text: str, display: str) -> Source | None:
    """The file's `Source` (data, top two levels' key positions, text for the rest), or None
    when the full reader must read it."""
    lines = text.split("\n")
    if _declines(text, lines):
        return None
    import yaml_rs

    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # a syntax error, a duplicate key, ...: the full reader says what
        return None
    if not isinstance(data, dict) or not data:
        return None
    source = Source(display, data=data, text=text)
    walk = _Walk(source.templated)
    if not walk.mapping(data, (), 1) or walk.count > MAX_VALUES:
        return None
    keys = _shallow_keys(lines, data)
    if keys is None:
        return None
    source.keys = keys
    return source


class _Walk:
    """Checks the data and lists its templated strings in the full reader's order."""

    def __init__(self, templated: list[Path_]) -> None:
        self.templated = templated
        self.count = 1

    def mapping(self, data: dict[Any, Any], path: Path_, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        self.count += len(data)
        for key, value in data.items():
            if key.__class__ is not str or len(key) > MAX_KEY or not _plain_str(key):
                return False
            if not self.value(value, path, key, depth):
                return False
        return True

    def sequence(self, data: list[Any], path: Path_, depth: int) -> bool:
        if depth > MAX_DEPTH:
            return False
        self.count += len(data)
        return all(self.value(value, path, i, depth) for i, value in enumerate(data))

    def value(self, value: Any, path: Path_, step: str | int, depth: int) -> bool:
        """Whether the value at `path` + `step` (and all under it) is one the full reader would
        give the same."""
        kind = value.__class__
        if kind is str:
            if not _plain_str(value):
                return False
            if "${" in value:
                self.templated.append((*path, step))
            return True
        if kind is dict:
            return self.mapping(value, (*path, step), depth + 1)
        if kind is list:
            return self.sequence(value, (*path, step), depth + 1)
        return kind is int or kind is float or kind is bool or value is None


def _plain_str(value: str) -> bool:
    """Whether `value` is a string whichever way it was written: unquoted, the full reader
    would not type it (`"12"` or `12`? only the full reader knows, so it reads the file)."""
    if not value or value[0] in RESOLVE_FIRST:
        tag = resolve_plain(value)
        return tag == STR or scalar_value(tag, value).__class__ is str
    return True


# Keys whose positions are read off the lines: plain, one token, no indicator or quote.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\Z")


def _is_key_line(line: str, start: int, key: str) -> bool:
    end = start + len(key)
    return (
        _PLAIN_KEY.match(key) is not None
        and line.startswith(key, start)
        and line[end : end + 1] == ":"
        and line[end + 1 : end + 2] in ("", " ")
    )


def _content(line: str) -> int:
    """The indentation of a line with content, or -1 for a blank or comment line."""
    stripped = line.lstrip(" ")
    if not stripped or stripped[0] == "#":
        return -1
    return len(line) - len(stripped)


def _shallow_keys(lines: list[str], data: dict[str, Any]) -> dict[Path_, Pos] | None:
    """Positions of the top level's keys and their children's, read off the lines; None unless
    the lines at each indentation are exactly those keys, in order."""
    indents = [_content(line) for line in lines]
    top = [i for i, indent in enumerate(indents) if indent == 0]
    if len(top) != len(data):
        return None
    keys: dict[Path_, Pos] = {}
    bounds = [*top, len(lines)]
    for n, (key, value) in enumerate(data.items()):
        first = top[n]
        if not _is_key_line(lines[first], 0, key):
            return None
        keys[(key,)] = Pos(first + 1, 1)
        if not isinstance(value, dict) or not value:
            continue
        rest = lines[first][len(key) + 1 :].strip()
        if rest and rest[0] != "#":
            return None  # a flow mapping: its keys' columns are not read here
        inner = [i for i in range(first + 1, bounds[n + 1]) if indents[i] > 0]
        if not inner:
            return None
        m = indents[inner[0]]
        rows = [i for i in inner if indents[i] <= m]
        if len(rows) != len(value) or any(indents[i] != m for i in rows):
            return None
        for i, child in zip(rows, value, strict=True):
            if not _is_key_line(lines[i], m, child):
                return None
            keys[(key, child)] = Pos(i + 1, m + 1)
    return keys
