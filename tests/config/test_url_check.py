"""The URL check's fast path accepts only what urlsplit accepts too."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from descript_iac.config.checks import url_problem


def reference_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "has no host"
    return None


@given(st.from_regex(r"\A(https?|HTTP|ftp)://[a-zA-Z0-9.:@\[\]-]{0,20}[/?#]?[ -~]{0,10}\Z"))
def test_url_problem_agrees_with_urlsplit(url: str) -> None:
    assert url_problem(url) == reference_problem(url)
