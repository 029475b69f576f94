"""The URL check's fast path accepts only what urlsplit accepts too."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from descript_iac.config.validation.references import parsed_url_problem, url_problem


def reference_problem(url: str) -> str | None:
    """The check without its fast path (urlsplit on every URL)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "contains a control character (a tab or a line break); remove it"
    if url != url.strip():
        return "has spaces before or after it; remove them"
    return parsed_url_problem(url)


@given(st.from_regex(r"\A(https?|HTTP|ftp)://[a-zA-Z0-9.:@\[\]-]{0,20}[/?#]?[\t -~]{0,10}\Z"))
@example("HTTP:// ")  # a trailing space: named as such, not as a URL without a host
@example("https://cdn.example.com:65535/a.wav")
@example("https://cdn.example.com:65536/a.wav")
@example("https://cdn.example.com:99999/a.wav")
def test_url_problem_agrees_with_urlsplit(url: str) -> None:
    assert url_problem(url) == reference_problem(url)
