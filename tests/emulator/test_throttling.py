"""Throttling: a storm of 429s until an emulator time, the next N requests, and the fixed
window's headers."""

from __future__ import annotations

from tests.builders import advance_clock, inspect, serving, set_faults

IMPORT = {"project_name": "Ep", "add_media": {"a.wav": {"url": "https://cdn.example.com/a.wav"}}}


def test_a_storm_lasts_exactly_until_the_clock_passes_its_end() -> None:
    with serving(manual_clock=True) as (running, api):
        set_faults(running, throttle_until=420, retry_after=60)
        first = api.get("/status")
        post = api.post("/jobs/import/project_media", json=IMPORT)
        advance_clock(running, 419.5)
        last = api.get("/jobs")
        advance_clock(running, 0.5)
        after = api.get("/status")
        jobs = api.get("/jobs").json()["data"]
        stats = inspect(running, "stats").json()
    for reply in (first, post, last):
        assert reply.status_code == 429 and reply.json()["error"] == "rate_limit_exceeded"
        assert reply.headers["Retry-After"] == "60"
        assert reply.headers["X-RateLimit-Remaining"] == "0"
    assert int(first.headers["X-RateLimit-Consumed"]) == 1
    assert int(last.headers["X-RateLimit-Consumed"]) == 3
    assert first.headers["X-RateLimit-Reset"] == "420" and last.headers["X-RateLimit-Reset"] == "1"
    assert after.status_code == 200 and jobs == []  # nothing was created during the storm
    assert stats["throttled:storm"] == 3


def test_throttle_next_answers_the_next_n_requests_with_429() -> None:
    with serving() as (running, api):
        set_faults(running, throttle_next=3, retry_after=5)
        seen = [api.get("/status") for _ in range(4)]
        left = inspect(running, "faults").json()["throttle_next"]
    assert [r.status_code for r in seen] == [429, 429, 429, 200]
    assert seen[0].headers["Retry-After"] == "5" and left == 0


def test_rate_limit_headers_name_the_limit_and_the_reset() -> None:
    with serving(manual_clock=True, rate_limit=2, rate_window=30) as (running, api):
        first = api.get("/status")
        advance_clock(running, 10)
        second = api.get("/status")
        third = api.get("/status")
        advance_clock(running, 20)
        fourth = api.get("/status")
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Reset"] == "30"
    assert second.headers["X-RateLimit-Remaining"] == "0"
    assert second.headers["X-RateLimit-Reset"] == "20"
    assert third.status_code == 429 and third.headers["Retry-After"] == "20"
    assert fourth.status_code == 200 and fourth.headers["X-RateLimit-Consumed"] == "1"
