"""The URL check's fast path accepts only what urlsplit accepts too."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from descript_iac.config.checks import url_problem

_NOT_IN_HOST = frozenset('<>"{}|\\^`%/?#@')


def reference_problem(url: str) -> str | None:
    """The check without its fast path (urlsplit on every URL)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains a control character (a tab or a line break); remove it"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    if any(c.isspace() or ord(c) < 32 or c in _NOT_IN_HOST for c in parts.hostname):
        return "has a host with a space or a character not allowed in host names; fix the host"
    try:
        parts.port  # noqa: B018
    except ValueError:
        return "has an invalid port; give a number from 1 to 65535 after the host"
    return None


@given(st.from_regex(r"\A(https?|HTTP|ftp)://[a-zA-Z0-9.:@\[\]-]{0,20}[/?#]?[\t -~]{0,10}\Z"))
def test_url_problem_agrees_with_urlsplit(url: str) -> None:
    assert url_problem(url) == reference_problem(url)
