"""Client behaviour: errors, retries, rate limits, outcome-unknown POSTs, polling, pagination."""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Callable

import httpx
import pytest

from descript_iac.api import BatchPoller, DescriptClient, InFlight, OutcomeUnknown, Token, errors
from descript_iac.api.models import AgentRequest, ImportRequest, UrlMediaRequest
from descript_iac.api.ratelimit import RateLimiter
from tests.builders import TOKEN, start_emulator

SENTINEL = "sentinel-TOKEN-4f1c9a"
IMPORT = ImportRequest(
    project_name="Ep", add_media={"a.wav": UrlMediaRequest(url="https://cdn.example.com/a.wav")}
)


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> DescriptClient:
    return DescriptClient(
        "https://api.test/v1",
        Token(SENTINEL),
        transport=httpx.MockTransport(handler),
        limiter=RateLimiter(sleep=lambda s: None),
        sleep=lambda s: None,
    )


def created() -> httpx.Response:
    return httpx.Response(
        201, json={"job_id": "j1", "drive_id": "d", "project_id": "p", "project_url": "u"}
    )


def test_sends_bearer_token_and_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return created()

    mock_client(handler).import_project_media(IMPORT)
    assert seen[0].headers["authorization"] == f"Bearer {SENTINEL}"
    assert seen[0].url.path == "/v1/jobs/import/project_media"
    assert b'"project_name":"Ep"' in seen[0].content


@pytest.mark.parametrize(
    ("status", "code", "kind", "hint"),
    [
        (400, "invalid_input", errors.InvalidInput, "invalid"),
        (401, "unauthorized", errors.Unauthorized, "DESCRIPT_API_TOKEN"),
        (402, "payment_required", errors.PaymentRequired, "credits"),
        (403, "forbidden", errors.Forbidden, "permissions"),
        (404, "not_found", errors.NotFound, "does not exist"),
    ],
)
def test_error_bodies_become_typed_errors(
    status: int, code: str, kind: type[errors.ApiError], hint: str
) -> None:
    client = mock_client(lambda r: httpx.Response(status, json={"error": code, "message": "nope"}))
    with pytest.raises(kind) as info:
        client.get_job("j1")
    text = str(info.value)
    assert text.startswith(f"GET /jobs/{{job_id}}: {status} {code}: nope")
    assert hint in text
    assert SENTINEL not in text and SENTINEL not in repr(info.value)


def test_token_is_not_in_repr_of_client_or_token() -> None:
    client = mock_client(lambda r: created())
    assert SENTINEL not in repr(client) and SENTINEL not in repr(Token(SENTINEL))
    assert SENTINEL not in str(Token(SENTINEL))


def test_get_retries_5xx_and_timeouts_then_succeeds() -> None:
    replies: list[object] = [
        httpx.Response(503, json={"error": "x", "message": "busy"}),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"status": "ok"}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        assert isinstance(reply, httpx.Response)
        return reply

    assert mock_client(handler).status().status == "ok"
    assert replies == []


def test_get_gives_up_after_capped_attempts() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(500, json={"error": "internal_error", "message": "boom"})

    with pytest.raises(errors.ServerError):
        mock_client(handler).status()
    assert len(calls) == 6


def test_post_is_retried_after_429_and_sent_twice_only_because_nothing_happened() -> None:
    replies = [
        httpx.Response(
            429,
            headers={"Retry-After": "1"},
            json={"error": "rate_limit_exceeded", "message": "slow down"},
        ),
        created(),
    ]
    waits: list[float] = []
    limiter = RateLimiter(sleep=waits.append)
    client = DescriptClient(
        "https://api.test/v1",
        Token(SENTINEL),
        transport=httpx.MockTransport(lambda r: replies.pop(0)),
        limiter=limiter,
        sleep=lambda s: None,
    )
    assert client.import_project_media(IMPORT).job_id == "j1"
    assert limiter.throttled == 1 and 1.0 <= waits[0] <= 1.1  # Retry-After plus jitter


def test_post_is_retried_when_the_connection_was_never_made() -> None:
    replies: list[object] = [httpx.ConnectError("refused"), created()]

    def handler(request: httpx.Request) -> httpx.Response:
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        assert isinstance(reply, httpx.Response)
        return reply

    assert mock_client(handler).agent(AgentRequest(project_id="p", prompt="x")).job_id == "j1"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("no reply"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.Response(502, json={"error": "bad_gateway", "message": "upstream"}),
        httpx.Response(201, text="{not json"),
    ],
    ids=["read-timeout", "dropped", "5xx", "unreadable-201"],
)
def test_post_with_unknown_outcome_raises_and_is_not_retried(failure: object) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if isinstance(failure, Exception):
            raise failure
        assert isinstance(failure, httpx.Response)
        return failure

    with pytest.raises(OutcomeUnknown) as info:
        mock_client(handler).import_project_media(IMPORT)
    assert len(calls) == 1
    assert info.value.fingerprint.startswith("sha256:") and info.value.sent_at > 0
    assert "looked up in the job history" in str(info.value)


def test_fingerprint_is_stable_and_reveals_nothing() -> None:
    from descript_iac.api import fingerprint

    body = {"add_media": {"a": {"url": "https://x.io/a.wav?sig=SECRET"}}}
    assert fingerprint("POST", "jobs/x", body) == fingerprint("POST", "jobs/x", dict(body))
    assert "SECRET" not in fingerprint("POST", "jobs/x", body)


def test_200_sequential_gets_under_a_rate_limit_mostly_avoid_429() -> None:
    """On the emulator's manual clock (the limiter's waits advance it), so the count does not
    depend on how loaded the machine is."""
    running = start_emulator(rate_limit=8, rate_window=0.5, manual_clock=True)  # 16 a second
    clock = running.backend.clock
    limiter = RateLimiter(sleep=clock.advance, clock=clock.now)
    started = clock.now()
    try:
        with DescriptClient(
            running.base_url, Token(TOKEN), limiter=limiter, sleep=clock.advance
        ) as client:
            results = [client.status().status for _ in range(200)]
        limited = running.backend.stats["rate_limited"]
        elapsed = clock.now() - started
    finally:
        running.stop()
    assert results == ["ok"] * 200
    assert limited == limiter.throttled
    assert limited <= 1, f"{limited} requests were answered 429"
    assert elapsed >= 200 / 16 - 1  # the limit was spent, not bypassed


def test_lost_replies_raise_outcome_unknown_and_no_post_is_sent_twice() -> None:
    running = start_emulator(lose_response_rate=0.5, seed=7)
    unknown = 0
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            for _ in range(30):
                try:
                    client.import_project_media(IMPORT)
                except OutcomeUnknown:
                    unknown += 1
            posts = client.calls["POST /jobs/import/project_media"]
        committed = running.backend.stats["committed:import/project_media"]
        lost = running.backend.stats["replies_lost"]
    finally:
        running.stop()
    assert posts == 30 and committed == 30  # every POST sent once, every one created a job
    assert unknown == lost and 5 <= lost <= 25


def test_one_limiter_is_shared_by_concurrent_requests() -> None:
    running = start_emulator(rate_limit=4, rate_window=0.5)
    limiter = RateLimiter()
    failures: list[Exception] = []
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=limiter) as client:

            def work() -> None:
                try:
                    for _ in range(10):
                        client.status()
                except Exception as exc:  # pragma: no cover - reported below
                    failures.append(exc)

            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        running.stop()
    assert failures == []
    assert limiter.waited > 0


def test_batch_poller_refreshes_250_jobs_with_at_most_3_list_calls() -> None:
    running = start_emulator(job_seconds=60)
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            import time

            sent = time.time()
            ids = [client.import_project_media(IMPORT).job_id for _ in range(250)]
            client.calls.clear()
            poller = BatchPoller(client)
            jobs = poller.refresh({i: InFlight(i, "import/project_media", sent) for i in ids})
            list_calls = client.calls.get("GET /jobs", 0)
            single_calls = client.calls.get("GET /jobs/{job_id}", 0)
    finally:
        running.stop()
    assert set(jobs) == set(ids)
    assert all(j.job_state in ("running", "queued") for j in jobs.values())
    assert list_calls <= 3 and single_calls == 0


def test_batch_poller_falls_back_to_get_for_jobs_the_list_missed() -> None:
    running = start_emulator()
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            import time

            job = client.import_project_media(IMPORT).job_id
            # Claimed to be sent long after it really was: the window misses it.
            late = InFlight(job, "import/project_media", time.time() + 3600)
            result = BatchPoller(client).refresh({job: late})
            assert client.calls.get("GET /jobs/{job_id}") == 1
    finally:
        running.stop()
    assert result[job].job_id == job


def test_iter_jobs_walks_every_page() -> None:
    running = start_emulator()
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            made = {client.import_project_media(IMPORT).job_id for _ in range(7)}
            seen = [j.job_id for j in client.iter_jobs(limit=2)]
            pages = client.calls["GET /jobs"]
    finally:
        running.stop()
    assert set(seen) == made and len(seen) == 7 and pages == 4


def test_finished_jobs_are_cached_for_good(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from descript_iac.state.jobcache import JobCache

    running = start_emulator(job_seconds=0.01)
    try:
        cache = JobCache(tmp_path / "cache", running.base_url)
        with DescriptClient(
            running.base_url, Token(TOKEN), limiter=RateLimiter(), cache=cache
        ) as client:
            job_id = client.import_project_media(IMPORT).job_id
            import time

            time.sleep(0.1)
            first = client.get_job(job_id)
            second = client.get_job(job_id)
            calls = client.calls["GET /jobs/{job_id}"]
            client.list_jobs(limit=5)
            client.list_jobs(limit=5)  # lists are never cached: a stale one could mislead
            list_calls = client.calls["GET /jobs"]
        cache.close()
    finally:
        running.stop()
    assert first.finished and second == first and calls == 1
    assert list_calls == 2


def test_edit_in_descript_and_published_project_through_the_client() -> None:
    import httpx as raw

    from descript_iac.api.models import EditInDescriptRequest, ProjectSchema, SchemaFile

    running = start_emulator(job_seconds=0.01)
    try:
        with DescriptClient(running.base_url, Token(TOKEN), limiter=RateLimiter()) as client:
            created = client.import_project_media(IMPORT)
            request = EditInDescriptRequest(
                partner_drive_id=created.drive_id or "",
                project_schema=ProjectSchema(files=[SchemaFile(uri="https://x.io/jane.wav")]),
            )
            link = client.edit_in_descript(request)
            import time

            time.sleep(0.1)
            slug = raw.post(
                f"{running.root_url}/_emulator/projects/{created.project_id}/publish"
            ).json()["slug"]
            published = client.published_project(slug)
            with pytest.raises(errors.NotFound):
                client.published_project("nope")
    finally:
        running.stop()
    assert link.url.startswith("https://web.descript.com/import")
    assert published.project_id == created.project_id
    assert published.metadata is not None and published.metadata.title == "Ep"


@pytest.mark.parametrize("status", [408, 409, 425, 500, 502, 503, 504, 418])
def test_a_reply_that_does_not_prove_nothing_was_made_is_an_unknown_outcome(status: int) -> None:
    sent = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(status, json={"error": "x", "message": "try later"})

    with pytest.raises(OutcomeUnknown, match=f"HTTP {status}"):
        mock_client(handler).import_project_media(IMPORT)
    assert sent == 1  # never retried blindly


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_a_refusal_that_proves_nothing_was_made_is_an_error(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": "x", "message": "no"})

    with pytest.raises(errors.ApiError) as caught:
        mock_client(handler).import_project_media(IMPORT)
    assert not isinstance(caught.value, OutcomeUnknown)


def test_the_send_time_of_every_attempt_is_reported_before_it_goes_out() -> None:
    """After throttling, the attempt that may commit the job is the last one: its time (on the
    server's clock, from the Date header) is what the job's window starts from."""
    server_time = 1_800_000_000.0
    events: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal server_time
        date = email.utils.formatdate(server_time, usegmt=True)
        if request.method == "GET":
            return httpx.Response(200, headers={"Date": date}, json={"status": "ok"})
        events.append(("request", server_time))
        server_time += 60  # each throttled answer comes a minute later on the server's clock
        date = email.utils.formatdate(server_time, usegmt=True)
        if len([e for e in events if e[0] == "request"]) <= 8:
            return httpx.Response(429, headers={"Retry-After": "60", "Date": date}, json={})
        return httpx.Response(503, headers={"Date": date}, json={})

    client = mock_client(handler)
    client.status()  # learns the server's clock
    with pytest.raises(OutcomeUnknown) as caught:
        client.import_project_media(IMPORT, on_send=lambda at, err: events.append(("send", at)))
    sends = [at for kind, at in events if kind == "send"]
    assert len(sends) == 9 and [k for k, _ in events[:2]] == ["send", "request"]
    # The last attempt went out 8 minutes after the first; the error names that time.
    assert sends[-1] - sends[0] == pytest.approx(480, abs=2)
    assert caught.value.sent_at == sends[-1]


def test_the_server_clock_follows_the_date_header() -> None:
    server_time = 1_900_000_000.0

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Date": email.utils.formatdate(server_time, usegmt=True)}
        return httpx.Response(200, headers=headers, json={"status": "ok"})

    client = mock_client(handler)
    assert not client.clock.synced
    client.status()
    assert client.clock.synced and abs(client.clock.now() - server_time) < 2
    assert client.clock.error < 1.5
