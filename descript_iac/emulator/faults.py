"""Injected faults: rate limits, server errors, latency, lost replies, failed jobs, budgets.

Every fault is off by default and set from `emulator serve` options or, at run time, from the
inspection API (`POST /_emulator/faults`). Random decisions use a seeded generator so a test
run can be repeated.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, fields
from typing import Any

from descript_iac.emulator.exceptions import InvalidInput


@dataclass
class Faults:
    rate_limit: int | None = None  # requests per window, per token
    rate_window: float = 1.0  # seconds
    error_rate: float = 0.0  # fraction of /v1 requests answered 500 before any work
    latency: float = 0.0  # seconds added to every /v1 request
    lose_response_rate: float = 0.0  # fraction of job-creating POSTs whose reply is lost
    job_failure_rate: float = 0.0  # fraction of jobs that stop with status error
    fail_media_pattern: str | None = None  # regex: matching media URLs fail to import
    fail_prompt_pattern: str | None = None  # regex: matching prompts fail
    credit_budget: float | None = None  # AI credits; past it, POST /jobs/agent answers 402
    seed: int = 0

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise InvalidInput(f"unknown fault {key!r}; known: {', '.join(sorted(names))}")
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RateWindow:
    """A fixed window counter per token, reporting what the API's headers report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, window: float, now: float) -> tuple[bool, int, int, float]:
        """Count one request: (allowed, remaining, consumed, seconds until the window resets)."""
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= window:
                start, count = now, 0
            reset_in = max(0.0, start + window - now)
            if count >= limit:
                return False, 0, count, reset_in
            count += 1
            self._windows[key] = (start, count)
            return True, limit - count, count, reset_in

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class Dice:
    """Seeded coin flips, shared by all requests."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self._rng.random() < probability


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
