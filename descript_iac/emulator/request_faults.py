"""Faults decided per request, in the order a real, busy service shows them:

1. throttling: a storm until an emulator time (`throttle_until`), the next N requests
   (`throttle_next`), the fixed window (`rate_limit` per `rate_window`), each a 429 with
   `Retry-After`;
2. for a job-creating POST, the next scripted outcome (`next_posts`), consumed one per POST;
   a scripted POST gets exactly its outcome (no random fault applies to it);
3. before commit: a scripted `429`/`5xx-before`, or `error_rate` (nothing is created);
4. after commit: a scripted `lose`/`5xx-after`, `lose_response_rate` (the connection drops),
   `error_after_commit_rate` (a 500, 502 or 503 reply, although the job exists).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from descript_iac.emulator.exceptions import EmulatorError, RateLimited, server_error
from descript_iac.emulator.faults import OK, SERVER_ERRORS, Outcome, parse_outcome, retry_after

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend

THROTTLED = "Rate limit exceeded: retry after the number of seconds in Retry-After"


def throttle(backend: Backend, token: str) -> dict[str, str]:
    """Raise RateLimited when the request is throttled; else return the rate limit headers.
    `rate_headers` replace the emulator's own values, on a 429 and on a reply alike."""
    try:
        return _hostile(backend, _throttle(backend, token))
    except RateLimited as exc:
        exc.headers = _hostile(backend, exc.headers or {})
        raise


def _hostile(backend: Backend, headers: dict[str, str]) -> dict[str, str]:
    replaced = backend.config.faults.rate_headers
    if not replaced or not headers:
        return headers
    shown = dict(headers)
    for name, value in replaced.items():
        if name != "Retry-After" or name in headers:  # Retry-After only where one was due
            shown[name] = value
    return shown


def _throttle(backend: Backend, token: str) -> dict[str, str]:
    faults = backend.config.faults
    now = backend.clock.now()
    storm = faults.throttle_until_at is not None and now < faults.throttle_until_at
    if storm or faults.throttle_next > 0:
        if storm:
            backend.stats["throttled:storm"] += 1
        else:
            faults.throttle_next -= 1
            backend.stats["throttled:next"] += 1
        backend.stats["throttled"] += 1
        headers = {
            "Retry-After": str(faults.retry_after),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Consumed": str(backend.stats["throttled"]),
        }
        if storm and faults.throttle_until_at is not None:
            headers["X-RateLimit-Reset"] = retry_after(faults.throttle_until_at - now)
        raise RateLimited(THROTTLED, headers=headers)
    if not faults.rate_limit:
        return {}
    sliding = faults.rate_window_kind == "sliding"
    allowed, remaining, consumed, reset_in = backend.rate.hit(
        token, faults.rate_limit, faults.rate_window, now, sliding
    )
    reset = retry_after(reset_in)
    if faults.rate_reset == "epoch":  # the time of the reset, in seconds since 1970
        reset = str(math.ceil(now + reset_in))
    headers = {
        "X-RateLimit-Limit": str(faults.rate_limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Consumed": str(consumed),
        "X-RateLimit-Reset": reset,
    }
    if not allowed:
        backend.stats["rate_limited"] += 1
        raise RateLimited(THROTTLED, headers={**headers, "Retry-After": retry_after(reset_in)})
    return headers


def next_outcome(backend: Backend, job_type: str) -> Outcome:
    """The scripted outcome of this job-creating POST: its endpoint's script first."""
    faults = backend.config.faults
    script = faults.next_posts_by_type.get(job_type) or faults.next_posts
    if not script:
        return OK
    outcome = parse_outcome(script.pop(0))
    backend.stats[f"script:{outcome.name}"] += 1
    return outcome


def before_commit(backend: Backend, outcome: Outcome) -> None:
    """Raise the error a request gets before anything is created."""
    faults = backend.config.faults
    if outcome.status == 429:
        wait = outcome.retry_after if outcome.retry_after is not None else faults.retry_after
        raise RateLimited(
            THROTTLED,
            headers={"Retry-After": str(wait), "X-RateLimit-Remaining": "0"},
        )
    if outcome.status and not outcome.after_commit:
        raise server_error(outcome.status, "Internal server error (scripted by the emulator)")
    if outcome is OK and backend.dice.roll(faults.error_rate):
        backend.stats["errors_injected"] += 1
        raise server_error(500, "Internal server error (injected by the emulator)")


def after_commit(backend: Backend, outcome: Outcome) -> EmulatorError | str | None:
    """What replaces the 201 of a committed job: "lose" (drop the connection), an error, or
    None (the normal reply)."""
    faults = backend.config.faults
    if outcome.name == "drip":
        return "drip"
    if outcome.name == "lose" or (outcome is OK and backend.dice.roll(faults.lose_response_rate)):
        backend.stats["replies_lost"] += 1
        return "lose"
    status = outcome.status if outcome.after_commit else 0
    if not status and outcome is OK and backend.dice.roll(faults.error_after_commit_rate):
        status = backend.dice.pick(SERVER_ERRORS)
    if status:
        backend.stats["errors_after_commit"] += 1
        return server_error(status, "Internal server error after the job was created (emulated)")
    return None
