"""Replies that are not the API's JSON, in words: a redirect (its status and target), a page of
HTML or other non-JSON (its content type and first bytes), a proxy's error page. What the
server sent is quoted scrubbed (`redact`) and on one line (`one_line`): it is untrusted text."""

from __future__ import annotations

import httpx

from descript_iac.redact import redact
from descript_iac.terminal_text import one_line

FIRST_BYTES = 80  # of a body quoted in a message
PROXY_STATUSES = frozenset({502, 503, 504})


def _quote(text: str, limit: int) -> str:
    shown = one_line(redact(text))
    return repr(shown if len(shown) <= limit else shown[:limit] + "...")


def redirect_target(response: httpx.Response) -> str:
    """Where a redirect points, scrubbed ("no Location header" when it says nowhere)."""
    location = response.headers.get("location")
    return "no Location header" if location is None else _quote(location, 200)


def describe_redirect(response: httpx.Response) -> str:
    """`HTTP 302 Found, a redirect to '...' (not followed)`."""
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{status}, a redirect to {redirect_target(response)} (not followed)"


def is_json(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json") or not kind


def describe_body(response: httpx.Response) -> str:
    """`Content-Type text/html, starting '<!DOCTYPE html>...'`: what came instead of JSON."""
    kind = response.headers.get("content-type") or "none given"
    text = response.content[: FIRST_BYTES * 4].decode("utf-8", "replace")
    start = _quote(text.lstrip(), FIRST_BYTES) if text.strip() else "an empty body"
    return f"Content-Type {one_line(redact(kind))[:100]}, starting {start}"


def looks_like_html(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").lower()
    head = response.content[:200].lstrip().lower()
    return "html" in kind or head.startswith((b"<!doctype html", b"<html"))


def proxy_error(response: httpx.Response) -> str | None:
    """The message for a gateway's error page (502/503/504 with HTML, not the API's JSON),
    else None."""
    if response.status_code not in PROXY_STATUSES or not looks_like_html(response):
        return None
    return (
        f"a proxy or gateway in front of the API answered {response.status_code} "
        f"{response.reason_phrase} with an HTML page ({describe_body(response)}), not the "
        "API's JSON: the API is down or unreachable from it; try again later"
    )


def not_json(response: httpx.Response, reason: str) -> str:
    """The message for a 2xx reply that cannot be read: what it was, when not JSON."""
    if not is_json(response) or looks_like_html(response):
        return f"the reply is not JSON ({describe_body(response)})"
    return f"unreadable reply: {reason}"
