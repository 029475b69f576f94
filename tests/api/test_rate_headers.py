"""The rate-limit headers as any server sends them, and as a hostile one might (issue #27): a
`Retry-After` or `X-RateLimit-*` that is NaN, infinite, negative, huge or a date is read as
HTTP allows or clamped, said once, and never makes the client spin or sleep for ever."""

from __future__ import annotations

import itertools
import math
import random
from email.utils import formatdate

import httpx
import pytest

from descript_iac.api import DescriptClient, Token, errors
from descript_iac.api.ratelimit import RateLimiter

START = 1_780_000_000.0  # the wall clock of these tests: an epoch time in 2026


class Time:
    """One fake clock for the limiter (monotonic), the client's wall clock and its sleeps."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds) and seconds >= 0, seconds
        self.slept.append(seconds)
        self.now += seconds


def _client(
    replies: list[httpx.Response], time: Time, notices: list[str]
) -> tuple[DescriptClient, list[float]]:
    """A client whose server answers `replies` in turn, then 200s; and the times it was asked."""
    asked: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(time.now)
        return replies.pop(0) if replies else httpx.Response(200, json={"status": "ok"})

    limiter = RateLimiter(
        sleep=time.sleep, clock=time, rng=random.Random(1), notify=notices.append, wall=time
    )
    client = DescriptClient(
        "https://api.test/v1",
        Token("rate-header-token"),
        transport=httpx.MockTransport(handler),
        limiter=limiter,
        sleep=time.sleep,
        wall_clock=time,
    )
    return client, asked


def _date(seconds_from_now: float) -> str:
    return formatdate(START + seconds_from_now, usegmt=True)


# Retry-After on a 429: (header, the pause it gives, within 10 % jitter; a problem said or not)
RETRY_AFTER = [
    ("7", 7.0, False),
    ("0", 0.0, False),
    ("1.5", 1.5, False),
    ("nan", 1.0, True),  # not finite: the window's length (1 s) instead
    ("NaN", 1.0, True),
    ("inf", 1.0, True),
    ("-inf", 1.0, True),
    ("-5", 0.0, True),
    ("1e12", 120.0, True),
    ("86400", 120.0, True),
    ("soon", 1.0, True),
    (_date(30), 30.0, False),  # an HTTP date 30 s from now
    (_date(-30), 0.0, False),  # a date past: at once
    (_date(10 * 86400), 120.0, True),  # a date ten days away: clamped
]


@pytest.mark.parametrize(("header", "pause", "said"), RETRY_AFTER)
def test_retry_after_is_read_as_http_allows_and_clamped(
    header: str, pause: float, said: bool
) -> None:
    time, notices = Time(), []
    replies = [httpx.Response(429, headers={"Retry-After": header}, json={"error": "x"})]
    client, asked = _client(replies, time, notices)
    assert client.status().status == "ok"
    assert len(asked) == 2
    waited = asked[1] - asked[0]
    assert pause - 0.02 <= waited <= pause * 1.1 + 0.02, waited
    bad = [n for n in notices if n.startswith("the API sent Retry-After")]
    assert bool(bad) == said, notices
    if said:
        assert repr(header)[:20].rstrip("'") in bad[0]  # names what the server sent


def test_a_long_pause_is_said_with_its_reason_and_end() -> None:
    time, notices = Time(), []
    client, _ = _client([httpx.Response(429, headers={"Retry-After": "60"})], time, notices)
    client.status()
    waits = [n for n in notices if n.startswith("waiting")]
    assert len(waits) == 1
    assert "429 Too Many Requests (Retry-After 60 s)" in waits[0] and ", until " in waits[0]


def test_a_hostile_retry_after_is_said_once_per_run() -> None:
    time, notices = Time(), []
    replies = [httpx.Response(429, headers={"Retry-After": "nan"}) for _ in range(5)]
    client, asked = _client(replies, time, notices)
    client.status()
    assert len(asked) == 6 and len([n for n in notices if "'nan'" in n]) == 1
    # ... and each retry waited: never 12 requests in a second as with min(nan, 120)
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(asked))


# X-RateLimit-* on a 200: every bad value of each counted header is said and ignored.
BAD_NUMBERS = ["nan", "inf", "-inf", "-1", "1e12", "many"]
COUNTS = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Consumed"]


@pytest.mark.parametrize("header", COUNTS)
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_a_bad_count_is_said_and_ignored(header: str, value: str) -> None:
    time, notices = Time(), []
    sane = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "9",
        "X-RateLimit-Consumed": "1",
        "X-RateLimit-Reset": "1",
    }
    replies = [httpx.Response(200, headers={**sane, header: value}, json={"status": "ok"})]
    client, _asked = _client(replies, time, notices)
    for _ in range(30):
        client.status()
    assert [n for n in notices if header in n and repr(value) in n], notices
    assert len([n for n in notices if header in n]) == 1  # once
    assert all(s <= 1.01 for s in time.slept)  # no pause beyond the 1 s window
    assert time.now - START <= 3.1  # 30 requests at 10 a second at worst


@pytest.mark.parametrize(
    ("value", "window", "said"),
    [
        ("30", 30.0, False),  # seconds until the reset
        (str(int(START) + 30), 31.0, False),  # an epoch time 30 s away (+1 s: its resolution)
        (str(int(START) + 30) + ".0", 31.0, False),
        (_date(30), 31.0, False),  # an HTTP date
        ("nan", 1.0, True),
        ("inf", 1.0, True),
        ("-5", 1.0, True),
        ("1e12", 120.0, True),  # an epoch time 30,000 years away
        ("3000", 120.0, False),  # an hour's window: one pause is at most 120 s, not a problem
        ("200000", 120.0, True),  # over a day: nonsense
    ],
)
def test_x_ratelimit_reset_is_seconds_or_a_time(value: str, window: float, said: bool) -> None:
    """The window's length is learnt from the reply that opened it: 4 requests go at once, the
    fifth waits for the window's end."""
    time, notices = Time(), []
    headers = {"X-RateLimit-Limit": "4", "X-RateLimit-Remaining": "3", "X-RateLimit-Consumed": "1"}
    replies = [
        httpx.Response(200, headers={**headers, "X-RateLimit-Reset": value}, json={"status": "ok"})
    ]
    client, _asked = _client(replies, time, notices)
    client.status()
    assert client.limiter.window_left() is not None
    left = client.limiter.ready_in()
    assert left == 0.0
    for _ in range(3):
        assert client.limiter.try_acquire() is not None
    assert window - 0.05 <= client.limiter.ready_in() <= window + 0.05
    assert bool([n for n in notices if "X-RateLimit-Reset" in n]) == said, notices


def test_a_run_throttled_too_long_stops_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESCRIPT_IAC_MAX_THROTTLED", "300")
    time, notices = Time(), []
    replies = [httpx.Response(429, headers={"Retry-After": "100"}) for _ in range(10)]
    client, asked = _client(replies, time, notices)
    with pytest.raises(errors.ThrottledTooLong, match="more than the 300 s allowed"):
        client.status()
    assert len(asked) in (3, 4) and time.now - START <= 330  # stopped, not 10 x 100 s


def test_the_throttled_bound_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESCRIPT_IAC_MAX_THROTTLED", "soon")
    with pytest.raises(errors.DescriptIacError, match="DESCRIPT_IAC_MAX_THROTTLED='soon'"):
        _client([], Time(), [])


def test_a_long_wait_for_the_window_is_said_once_with_its_reason() -> None:
    """The apply engine never blocks in `acquire`: it asks `try_acquire` and comes back later.
    A wait of 5 s or more for the window's end is said the first time it is met, once."""
    time, notices = Time(), []
    limiter = RateLimiter(sleep=time.sleep, clock=time, notify=notices.append, wall=time)
    opening = {
        "x-ratelimit-limit": "2",
        "x-ratelimit-remaining": "1",
        "x-ratelimit-consumed": "1",
        "x-ratelimit-reset": "60",
    }
    limiter.on_response(opening, limiter.acquire())
    assert limiter.try_acquire() is not None
    for _ in range(5):
        assert limiter.try_acquire() is None
    assert len(notices) == 1
    assert notices[0].startswith("waiting 60 s, until ")
    assert notices[0].endswith("the API's rate limit (2 requests per 60 s) is used up")


def test_a_long_backoff_after_server_errors_is_said_too() -> None:
    """Not only the rate limit: the back-off between retries of a failing GET grows past 5 s
    by its fifth attempt, and that pause is said, with its reason and end, before it is slept."""
    time, notices = Time(), []
    replies = [httpx.Response(503, json={"error": "busy"}) for _ in range(5)]
    client, asked = _client(replies, time, notices)
    client._rng.random = lambda: 0.9  # type: ignore[method-assign]  # (each back-off at 1.4x)
    assert client.status().status == "ok"
    long = [s for s in time.slept if s >= 5]
    waits = [n for n in notices if n.startswith("waiting")]
    assert len(asked) == 6 and len(long) == 1 and len(waits) == 1
    assert waits[0].startswith(f"waiting {long[0]:.0f} s, until ")
    assert waits[0].endswith("GET /status failed (HTTP 503); attempt 6 of 6 next")
