"""Messages name what happened (issue #27): a redirect names its status and target (scrubbed,
never followed), a 200 of HTML or other non-JSON names its content type and first bytes
(scrubbed), a gateway's HTML error page says it came from a proxy. Over a real socket, through
the CLI; never "Descript had a server error" for what was not one."""

from __future__ import annotations

import pytest

from tests.builders import HostileServer, run_cli

HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>\x1b]0;pwned\x07</body>"
GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def _run(status: int, headers: dict[str, str], body: bytes, *args: str) -> tuple[str, list[str]]:
    server = HostileServer(lambda method, path: (status, headers, [body]))
    try:
        env = {"DESCRIPT_API_URL": server.base_url, "DESCRIPT_API_TOKEN": "reply-token-1234"}
        result = run_cli(*(args or ("status",)), env=env)
    finally:
        server.stop()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "bug in descript-iac" not in result.output
    return result.output, server.requests


@pytest.mark.parametrize(
    ("status", "reason"), [(301, "Moved Permanently"), (302, "Found"), (307, ""), (308, "")]
)
def test_a_redirect_is_named_with_its_target_and_not_followed(status: int, reason: str) -> None:
    target = "https://login.example.com/sso?session=s3cr3t-value&next=/v1/status"
    output, requests = _run(status, {"Location": target, "Content-Length": "0"}, b"")
    assert f"GET /status: the API answered HTTP {status} {reason}".rstrip() in output
    assert "a redirect to 'https://login.example.com/sso?***' (not followed)" in output
    assert "s3cr3t" not in output and "server error" not in output
    assert requests == ["GET /v1/status"]  # one request: the redirect was not followed


def test_a_redirect_on_a_list_names_it_too() -> None:
    output, requests = _run(
        302, {"Location": "/elsewhere", "Content-Length": "0"}, b"", "jobs", "list"
    )
    assert "GET /jobs: the API answered HTTP 302 Found, a redirect to '/elsewhere'" in output
    assert len(requests) == 1


def test_a_200_of_html_names_its_content_type_and_first_bytes() -> None:
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(HTML))}
    output, _ = _run(200, headers, HTML)
    assert "the reply is not JSON (Content-Type text/html; charset=utf-8, starting " in output
    assert "'<!DOCTYPE html><html><head><title>Sign in</title></head><body>" in output
    assert "\x1b" not in output  # the page's escape sequence is shown, not obeyed
    assert "unreadable reply" not in output


def test_a_200_of_plain_text_names_it() -> None:
    body = b"OK see https://cdn.example.com/x?token=abcdef123"
    headers = {"Content-Type": "text/plain", "Content-Length": str(len(body))}
    output, _ = _run(200, headers, body, "jobs", "get", "j1")
    assert (
        "not JSON (Content-Type text/plain, starting 'OK see https://cdn.example.com/x?***')"
        in (output)
    )


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateways_html_error_page_is_named_a_proxy_error(status: int) -> None:
    headers = {"Content-Type": "text/html", "Content-Length": str(len(GATEWAY))}
    output, requests = _run(status, headers, GATEWAY)
    assert f"a proxy or gateway in front of the API answered {status}" in output
    assert "with an HTML page (Content-Type text/html, starting '<html><head><title>502" in output
    assert "Descript had a server error" not in output
    assert len(requests) == 6  # a GET is retried as for any 5xx


def test_an_html_error_page_of_another_status_shows_what_it_was() -> None:
    headers = {"Content-Type": "text/html", "Content-Length": str(len(GATEWAY))}
    output, _ = _run(403, headers, GATEWAY)
    assert "403 http_403: Forbidden (the reply is not JSON: Content-Type text/html" in output


def test_a_redirect_on_a_job_post_is_an_unknown_outcome_naming_it() -> None:
    """A POST that creates a job is never followed nor resent: its job may exist (a proxy may
    have passed it on), so it is looked up; the reason names the redirect."""
    import httpx

    from descript_iac.api import DescriptClient, OutcomeUnknown, Token
    from descript_iac.api.models import AgentRequest
    from descript_iac.api.ratelimit import RateLimiter

    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.path}")
        return httpx.Response(307, headers={"Location": "https://elsewhere.example/v1/jobs/agent"})

    client = DescriptClient(
        "https://api.test/v1",
        Token("reply-token-1234"),
        transport=httpx.MockTransport(handler),
        limiter=RateLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    with pytest.raises(OutcomeUnknown) as caught:
        client.agent(AgentRequest(project_id="p1", prompt="hi"))
    assert (
        "HTTP 307 Temporary Redirect, a redirect to 'https://elsewhere.example/v1/jobs/agent'"
        in (str(caught.value))
    )
    assert sent == ["POST /v1/jobs/agent"]


def test_max_throttled_stops_a_run_paused_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--max-throttled`: once the 429s of a run ask for more pause than that in all, it stops
    with a message (before sleeping: nothing is waited for in vain)."""
    from descript_iac.api import ratelimit

    monkeypatch.setattr(ratelimit, "_shared", ratelimit.RateLimiter())
    monkeypatch.setenv("DESCRIPT_IAC_MAX_THROTTLED", "600")  # (restored after the test)
    headers = {"Retry-After": "90", "Content-Length": "0"}
    server = HostileServer(lambda method, path: (429, headers, [b""]))
    try:
        env = {"DESCRIPT_API_URL": server.base_url, "DESCRIPT_API_TOKEN": "reply-token-1234"}
        result = run_cli("status", "--max-throttled", "1m", env=env)
    finally:
        server.stop()
    assert result.exit_code == 1
    assert "GET /status: the API has asked this run to pause 9" in result.output
    assert "more than the 60 s allowed; stopped" in result.output
    assert "--max-throttled or DESCRIPT_IAC_MAX_THROTTLED" in result.output
    assert server.requests == ["GET /v1/status"]


def test_a_gateway_page_on_a_job_post_is_an_unknown_outcome_naming_the_proxy() -> None:
    import httpx

    from descript_iac.api import DescriptClient, OutcomeUnknown, Token
    from descript_iac.api.models import AgentRequest
    from descript_iac.api.ratelimit import RateLimiter

    page = httpx.Response(504, headers={"Content-Type": "text/html"}, content=GATEWAY)
    client = DescriptClient(
        "https://api.test/v1",
        Token("reply-token-1234"),
        transport=httpx.MockTransport(lambda request: page),
        limiter=RateLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )
    with pytest.raises(OutcomeUnknown, match="HTTP 504 reply from a proxy or gateway"):
        client.agent(AgentRequest(project_id="p1", prompt="hi"))
