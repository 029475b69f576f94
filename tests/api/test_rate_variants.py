"""Rate limits read as any server sends them (issue #26): against the emulator playing a fixed or
a sliding window, with `X-RateLimit-Reset` as seconds until the reset or as an epoch time, a
run of a few hundred requests has fewer than 1 % refused with 429. And against hostile headers
(issue #27: Retry-After 1e12, nan, -5, an HTTP date; X-RateLimit-* nonsense) it goes on, at a
sane pace, saying each bad value once. Time is the emulator's manual clock, moved by the
client's own sleeps: no test waits for real."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate

import pytest

from descript_iac.api import DescriptClient, Token
from descript_iac.api.ratelimit import RateLimiter
from tests.builders import TOKEN, advance_clock, inspect, start_emulator

REQUESTS = 300


class EmulatorTime:
    """The client's clocks are the emulator's manual clock: a sleep advances it."""

    def __init__(self, running) -> None:  # type: ignore[no-untyped-def]
        self.running = running
        self.now = float(inspect(running, "clock").json()["now"])

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert 0 <= seconds <= 132, seconds  # never a NaN, never longer than one clamped pause
        if seconds > 0:
            self.now = advance_clock(self.running, seconds)

    def work(self, seconds: float) -> None:
        """Time passing between requests (the caller's own work)."""
        self.sleep(seconds)


@contextmanager
def _client(**faults: object) -> Iterator[tuple[DescriptClient, EmulatorTime, list[str], object]]:
    running = start_emulator(manual_clock=True, **faults)
    try:
        time = EmulatorTime(running)
        notices: list[str] = []
        limiter = RateLimiter(
            sleep=time.sleep, clock=time, rng=random.Random(7), notify=notices.append, wall=time
        )
        client = DescriptClient(
            running.base_url,
            Token(TOKEN),
            limiter=limiter,
            sleep=time.sleep,
            wall_clock=time,
        )
        with client:
            yield client, time, notices, running
    finally:
        running.stop()


def _refused(running) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    stats = inspect(running, "stats").json()
    return int(stats.get("rate_limited", 0)), int(stats.get("throttled", 0))


@pytest.mark.parametrize("kind", ["fixed", "sliding"])
@pytest.mark.parametrize("reset", ["seconds", "epoch"])
@pytest.mark.parametrize("gap", [0.0, 0.07])  # requests back to back, or spread out
def test_fewer_than_one_percent_refused_under_each_window(
    kind: str, reset: str, gap: float
) -> None:
    with _client(rate_limit=10, rate_window=1.0, rate_window_kind=kind, rate_reset=reset) as (
        client,
        time,
        notices,
        running,
    ):
        started = time.now
        for _ in range(REQUESTS):
            client.status()
            time.work(gap)
        refused, _ = _refused(running)
        elapsed = time.now - started
    assert refused < REQUESTS / 100, (refused, kind, reset)
    assert notices == [] or all(n.startswith("waiting") for n in notices)
    # ... and not by going slowly: within 2.5x the 10-a-second bound (or the gaps' own time)
    assert elapsed <= max(REQUESTS / 10, REQUESTS * gap) * 2.5, elapsed


HOSTILE = [
    {"Retry-After": "1e12"},
    {"Retry-After": "nan"},
    {"Retry-After": "-5"},
    {"Retry-After": "HTTP-DATE"},  # replaced by a date 30 s ahead of the emulator's clock
    {"X-RateLimit-Reset": "1e12"},
    {"X-RateLimit-Reset": "nan"},
    {"X-RateLimit-Remaining": "nan", "X-RateLimit-Limit": "-1"},
    {"X-RateLimit-Limit": "inf", "X-RateLimit-Consumed": "1e12"},
]


@pytest.mark.parametrize(
    "headers", HOSTILE, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items())
)
def test_hostile_headers_are_survived_and_said(headers: dict[str, str]) -> None:
    with _client(rate_limit=10, rate_window=1.0) as (client, time, notices, running):
        if headers.get("Retry-After") == "HTTP-DATE":
            headers = {"Retry-After": formatdate(time.now + 30, usegmt=True)}
        inspect(running, "faults", {"rate_headers": headers, "throttle_next": 3})
        for _ in range(40):
            assert client.status().status == "ok"
        _, throttled = _refused(running)
    problems = [n for n in notices if n.startswith("the API sent")]
    bad = {k for k, v in headers.items() if "GMT" not in v}
    for name in bad:
        assert len([p for p in problems if p.startswith(f"the API sent {name} ")]) == 1, notices
    if not bad:
        assert problems == [] and any("until" in n for n in notices)
    assert throttled == 3  # the three scripted 429s, each waited out, then on
