"""Untrusted text as display text: the one place that makes what the API or a file says safe to
print (issue #21). An agent's reply is written by a language model, and error messages, project
URLs and job ids come from a server or a proxy in between: none of it may drive the terminal.

C0 and C1 control characters (ESC and with it every escape sequence: a window title, the
clipboard through OSC 52, a link through OSC 8, a cleared screen; a carriage return that would
rewrite the line) and the bidirectional overrides that make text read in another order than it
is stored are shown as visible escapes (`\\x1b`, `\\r`, `\\u202e`); tabs stay, and newlines stay
unless a value must stay on its line (`one_line`). As ripgrep and git do with what they print."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\x1b": "\\x1b", "\r": "\\r", "\x00": "\\x00"}


def _escape(found: re.Match[str]) -> str:
    char = found.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character and bidi override shown, not obeyed (tabs and
    newlines kept)."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """`visible(text)` on a single line: a newline inside a value cannot forge a new output
    line (it reads `\\n`)."""
    return visible(text).replace("\n", "\\n")
