"""The rate limiter on a fake clock: it spends exactly the budget the API's headers allow, no
more and no less, and a 429 pauses every request for its Retry-After."""

from __future__ import annotations

import random

from descript_iac.api.ratelimit import RateLimiter, Ticket


class FakeClock:
    """Time that moves only when the limiter sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(sleep=clock.sleep, clock=clock, rng=random.Random(1))


def headers(limit: int, consumed: int, reset: int = 1) -> dict[str, str]:
    """What the emulator (and the API) send with a reply counted as the `consumed`-th."""
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(limit - consumed),
        "x-ratelimit-consumed": str(consumed),
        "x-ratelimit-reset": str(reset),
    }


def take_all(bucket: RateLimiter) -> list[Ticket]:
    """Every ticket the limiter hands out without waiting (at most 1,000)."""
    tickets = []
    while len(tickets) < 1000 and (ticket := bucket.try_acquire()) is not None:
        tickets.append(ticket)
    return tickets


def test_without_headers_nothing_is_paced() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    for _ in range(500):
        bucket.on_response({}, bucket.acquire())
    assert clock.slept == [] and bucket.ready_in() == 0.0


def test_a_window_allows_exactly_the_limit_then_waits_for_its_end() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    first = bucket.acquire()
    bucket.on_response(headers(10, consumed=1), first)  # opens the server's window
    rest = take_all(bucket)
    assert len(rest) == 9  # the whole budget, at once: 10 per window
    assert bucket.try_acquire() is None and 0.99 < bucket.ready_in() <= 1.01
    clock.now += 0.5  # half the window: still nothing
    assert bucket.try_acquire() is None
    bucket.acquire()  # waits for the window's end, then goes
    assert len(clock.slept) == 1 and 0.49 < clock.slept[0] <= 0.51
    assert bucket.rate() == 10.0


def test_replies_in_any_order_never_cost_a_request_of_the_budget() -> None:
    """Twenty requests in flight together, answered in reverse order of sending (the server
    counted them in that order): the count stays exact, nothing is lost to a double count."""
    clock = FakeClock()
    bucket = limiter(clock)
    opener = bucket.acquire()
    bucket.on_response(headers(50, consumed=1), opener)
    flying = [bucket.acquire() for _ in range(20)]
    for consumed, ticket in enumerate(reversed(flying), start=2):
        bucket.on_response(headers(50, consumed=consumed), ticket)
    assert len(take_all(bucket)) == 50 - 21


def test_other_clients_requests_lower_the_budget() -> None:
    """The same token used elsewhere: the server has counted 30 where this process sent 2."""
    clock = FakeClock()
    bucket = limiter(clock)
    bucket.on_response(headers(50, consumed=1), bucket.acquire())
    bucket.on_response(headers(50, consumed=30), bucket.acquire())
    assert len(take_all(bucket)) == 20


def test_a_ticket_never_sent_goes_back_to_the_window() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    bucket.on_response(headers(3, consumed=1), bucket.acquire())
    unused, last = take_all(bucket)
    bucket.release(unused)
    assert bucket.try_acquire() is not None and bucket.try_acquire() is None
    bucket.on_response(headers(3, consumed=3), last)


def test_the_window_length_is_learnt_from_x_ratelimit_reset() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    bucket.on_response(headers(4, consumed=1, reset=60), bucket.acquire())
    assert len(take_all(bucket)) == 3
    assert 59.9 < bucket.ready_in() <= 60.01
    assert abs((bucket.rate() or 0) - 4 / 60) < 1e-9


def test_retry_after_pauses_every_request_with_a_little_jitter() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    wait = bucket.on_throttled("7")
    assert 7.0 <= wait <= 7.7 and bucket.throttled == 1
    assert bucket.try_acquire() is None and abs(bucket.ready_in() - wait) < 1e-9
    bucket.acquire()
    assert len(clock.slept) == 1 and abs(clock.slept[0] - wait) < 1e-9


def test_a_429_empties_the_budget_the_headers_promised() -> None:
    """The server said 6 were left, then answered 429 (another client spent them): nothing goes
    until the Retry-After has passed, and then a full window does."""
    clock = FakeClock()
    bucket = limiter(clock)
    bucket.on_response(headers(10, consumed=4), bucket.acquire())
    bucket.on_throttled("2")
    assert bucket.try_acquire() is None
    clock.now += 2.3
    bucket.on_response(headers(10, consumed=1), bucket.acquire())
    assert len(take_all(bucket)) == 9


def test_retry_after_caps_at_the_longest_wait() -> None:
    clock = FakeClock()
    bucket = limiter(clock)
    assert bucket.on_throttled("86400") <= 120 * 1.1


def test_tokens_kept_back_go_only_to_who_they_were_kept_for() -> None:
    """The engine keeps a token for the next POST of a gate in flight (the critical path): the
    others stop short of it, and it still gets it."""
    clock = FakeClock()
    bucket = limiter(clock)
    bucket.on_response(headers(5, consumed=1), bucket.acquire())
    others = []
    while (ticket := bucket.try_acquire(keep=1)) is not None and len(others) < 10:
        others.append(ticket)
    assert len(others) == 3 and bucket.ready_in(keep=1) > 0 and bucket.ready_in() == 0.0
    assert bucket.try_acquire() is not None and bucket.try_acquire() is None
