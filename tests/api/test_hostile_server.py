"""A hostile or broken server cannot make the client loop for ever or read without end:
pagination is bounded (a repeated cursor, pages of jobs already seen, jobs past the 30-day
horizon, a page cap), and replies are read as a stream and stopped at a size limit. The tests
count requests and bytes, never time."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from descript_iac.api import DescriptClient, OutcomeUnknown, Token, errors, pagination
from descript_iac.api.models import AgentRequest
from descript_iac.api.ratelimit import RateLimiter
from descript_iac.state.document import StateDocument
from tests.builders import HostileServer, desired_project, record_apply, run_cli

MB = 1024 * 1024
NOW = datetime.now(timezone.utc)


def _client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> DescriptClient:
    return DescriptClient(
        "https://api.test/v1",
        Token("hostile-test-token"),
        transport=httpx.MockTransport(handler),
        limiter=RateLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
        **kwargs,  # type: ignore[arg-type]
    )


def _job(job_id: str, created: datetime = NOW) -> dict[str, object]:
    return {
        "job_id": job_id,
        "job_type": "agent",
        "job_state": "stopped",
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


def _page(jobs: list[dict[str, object]], cursor: str | None) -> httpx.Response:
    return httpx.Response(200, json={"data": jobs, "pagination": {"next_cursor": cursor}})


def _walk(client: DescriptClient) -> None:
    for _ in client.iter_jobs(limit=100):
        pass


def test_a_repeated_cursor_stops_the_walk() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _page([_job(f"j{calls}")], "same-cursor")

    with pytest.raises(errors.PaginationError, match="repeats the cursor of an earlier page"):
        _walk(_client(handler))
    assert calls == 2


def test_new_cursors_over_the_same_jobs_stop_the_walk() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _page([_job("j1"), _job("j2")], f"cursor-{calls}")

    with pytest.raises(errors.PaginationError, match="repeats only jobs of earlier pages"):
        _walk(_client(handler))
    assert calls == 2


def test_a_page_past_the_30_day_horizon_stops_the_walk() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        created = NOW - timedelta(days=calls * 10)
        return _page([_job(f"j{calls}", created)], f"cursor-{calls}")

    with pytest.raises(errors.PaginationError, match="before the API's 30-day horizon"):
        _walk(_client(handler))
    assert calls == 4  # 10, 20, 30 days are within the horizon (and its day of slack); 40 not


def test_endless_fresh_pages_stop_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "MAX_PAGES", 40)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return _page([] if calls % 2 else [_job(f"j{calls}")], f"cursor-{calls}")

    with pytest.raises(errors.PaginationError, match="past the limit of 40 pages"):
        _walk(_client(handler))
    assert calls == 41


def _endless(counter: list[int], chunk: int = MB, total: int = 100 * MB) -> Iterator[bytes]:
    """A 100 MB body, counting what the client actually pulled."""
    sent = 0
    while sent < total:
        counter[0] += chunk
        sent += chunk
        yield b" " * chunk


@pytest.mark.parametrize("announce", [False, True])
def test_a_100_mb_reply_is_not_read_past_the_limit(announce: bool) -> None:
    pulled = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-length": str(100 * MB)} if announce else {}
        return httpx.Response(200, headers=headers, content=_endless(pulled))

    client = _client(handler, max_reply_bytes=16 * MB)
    tracemalloc.start()
    try:
        with pytest.raises(
            errors.ReplyTooLarge, match=r"GET /jobs/\{job_id\}: the reply is larger"
        ):
            client.get_job("j1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pulled[0] == (0 if announce else 17 * MB)  # the limit, plus the chunk that crossed it
    assert peak < 64 * MB


def test_a_huge_reply_to_a_post_makes_the_outcome_unknown() -> None:
    pulled = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=_endless(pulled))

    client = _client(handler, max_reply_bytes=MB)
    with pytest.raises(OutcomeUnknown, match="reply too large"):
        client.agent(AgentRequest(prompt="p", project_name="x"))
    assert pulled[0] == 2 * MB


def test_a_reply_within_the_limit_is_read_whole_even_if_compressed() -> None:
    import gzip

    body = json.dumps(_job("j1")).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-encoding": "gzip"}, content=gzip.compress(body)
        )

    assert _client(handler).get_job("j1").job_id == "j1"


def test_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESCRIPT_IAC_MAX_REPLY_BYTES", "2048")
    assert _client(lambda r: _page([], None)).max_reply_bytes == 2048
    monkeypatch.setenv("DESCRIPT_IAC_MAX_REPLY_BYTES", "lots")
    with pytest.raises(errors.DescriptIacError, match="give a number of bytes"):
        _client(lambda r: _page([], None))


# --- the same through the CLI, against a server on a real socket ---------------------------------


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    def reply(method: str, path: str) -> tuple[int, dict[str, str], Iterator[bytes]]:
        if path == "/v1/status":  # the token check that comes before any plan --refresh
            body = b'{"status": "ok"}'
            headers = {"content-type": "application/json", "content-length": str(len(body))}
            return 200, headers, iter([body])
        if path.startswith("/v1/jobs?") or path == "/v1/jobs":
            page = {"data": [_job("j-loop")], "pagination": {"next_cursor": "loop"}}
            body = json.dumps(page).encode()
            return (
                200,
                {"content-type": "application/json", "content-length": str(len(body))},
                iter([body]),
            )
        # Any other path: 100 MB of JSON-ish bytes, without a length (read until closed).
        chunks = (b"[" + b"0," * (MB // 2 - 1) + b"0]" for _ in range(100))
        return 200, {"content-type": "application/json", "connection": "close"}, chunks

    server = HostileServer(reply)
    yield server
    server.stop()


def test_cli_stops_a_looping_history_with_a_clear_message(
    hostile: HostileServer, tmp_path: Path
) -> None:
    env = {"DESCRIPT_API_URL": hostile.base_url, "DESCRIPT_API_TOKEN": "hostile-token-1234"}
    listed = run_cli("jobs", "list", env=env)
    assert listed.exit_code == 1
    assert "GET /jobs: page 2 of the job history repeats the cursor" in listed.output
    assert len(hostile.requests) == 2
    # plan --refresh reads the history of the jobs a state records
    state = tmp_path / "ws.json"
    spec = {"steps": [{"id": "s", "prompt": "p"}]}
    state.write_text(
        json.dumps(record_apply(StateDocument(), desired_project("ep", **spec)).to_json())
    )
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.yaml").write_text("version: 1\nprojects:\n  ep:\n    steps: [{id: s, prompt: p}]\n")
    hostile.requests.clear()
    refreshed = run_cli("--state", str(state), "plan", str(ws), "--refresh", env=env)
    assert refreshed.exit_code == 1 and "repeats the cursor" in refreshed.output
    # GET /status, the newest job (which names the drive: asked until a job shows it; this
    # server's jobs never do), then two pages of the history
    assert len(hostile.requests) == 4
    assert "Traceback" not in refreshed.output + listed.output


def test_cli_stops_reading_a_100_mb_reply(hostile: HostileServer) -> None:
    env = {
        "DESCRIPT_API_URL": hostile.base_url,
        "DESCRIPT_API_TOKEN": "hostile-token-1234",
        "DESCRIPT_IAC_MAX_REPLY_BYTES": str(MB),
    }
    result = run_cli("jobs", "get", "j1", env=env)
    assert result.exit_code == 1
    assert (
        "GET /jobs/{job_id}: the reply is larger than the 1048576-byte limit (still going)"
        in result.output
    )
    assert "DESCRIPT_IAC_MAX_REPLY_BYTES" in result.output
    assert len(hostile.requests) == 1  # not retried
    # What left the server: the limit plus what the sockets' buffers held, not 100 MB.
    assert hostile.bytes_sent < 20 * MB


def test_a_body_that_does_not_decompress_is_our_error() -> None:
    """Found by the reply fuzz test: `content-encoding: gzip` over bytes that are not gzip."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "gzip"}, content=b"\0\0 not gzip")

    with pytest.raises(errors.TransportFailure, match=r"GET /jobs/\{job_id\}: the reply could not"):
        _client(handler).get_job("j1")
    with pytest.raises(OutcomeUnknown, match="undecodable reply"):
        _client(handler).agent(AgentRequest(prompt="p", project_name="x"))
