"""The emulator's run-time settings: the API level it serves and every fault it can inject.

Every fault is off by default and set from `emulator serve` options or, at run time, from the
inspection API (`POST /_emulator/faults`); `POST /_emulator/reset` restores the values the
emulator started with. Random decisions use a seeded generator so a test run can be repeated.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from descript_iac.emulator.exceptions import InvalidInput

API_LEVELS = ("seed", "2026")
ACCESS_LEVELS = ("public", "unlisted", "drive", "private")
POST_JOB_TYPES = ("import/project_media", "agent", "publish")
SERVER_ERRORS = (500, 502, 503)


@dataclass
class Faults:
    api_level: str = "seed"  # "seed": the documented API; "2026": adds projects, publish, cancel
    publish_access_levels: list[str] = field(
        default_factory=lambda: ["unlisted", "drive", "private"]
    )
    # Throttling: a fixed window per token, a storm until an emulator time, the next N requests.
    rate_limit: int | None = None  # requests per window, per token
    rate_window: float = 1.0  # seconds
    # How the window is counted and its reset told, as servers differ (issue #26): "fixed"
    # (from its first request) or "sliding" (the last rate_window seconds); X-RateLimit-Reset
    # as "seconds" until the reset or as an "epoch" time.
    rate_window_kind: str = "fixed"
    rate_reset: str = "seconds"
    # Header values sent as they are, in place of the emulator's own, on every reply that
    # carries rate-limit headers (Retry-After, X-RateLimit-*): a hostile or broken server's
    # "nan", "1e12", "-5" or an HTTP date (issue #27).
    rate_headers: dict[str, str] = field(default_factory=dict)
    throttle_until_at: float | None = None  # emulator time; set as {"throttle_until": seconds}
    throttle_next: int = 0  # the next N /v1 requests answer 429
    retry_after: int = 1  # Retry-After of storms and scripted 429s, seconds
    # Errors and lost replies.
    error_rate: float = 0.0  # fraction of /v1 requests answered 500 before any work
    latency: float = 0.0  # seconds added to every /v1 request
    drip_seconds: float = 0.0  # > 0: every /v1 reply's body comes one byte per this many seconds
    lose_response_rate: float = 0.0  # fraction of job POSTs whose reply is lost after commit
    error_after_commit_rate: float = 0.0  # fraction of job POSTs answered 5xx after commit
    next_posts: list[str] = field(default_factory=list)  # scripted outcomes, any job POST
    next_posts_by_type: dict[str, list[str]] = field(default_factory=dict)  # per job type
    # Job outcomes and budgets.
    job_failure_rate: float = 0.0  # fraction of jobs that stop with status error
    fail_media_pattern: str | None = None  # regex: matching media URLs fail to import
    fail_prompt_pattern: str | None = None  # regex: matching prompts fail
    credit_budget: float | None = None  # AI credits; past it, POST /jobs/agent answers 402
    # Media durations read from the files (downloaded, as the service does) instead of made up
    # from the URL: imports bill what the files hold (issue #23's forecast tests).
    read_media: bool = False
    # Agent replies and error messages carrying escape sequences, CR, bidi overrides and very
    # long lines, as untrusted text can (issue #21's tests).
    hostile_text: bool = False
    # Agent replies that quote their prompt, as a model may ("You asked: ..."): a secret in a
    # prompt comes back in the job history (issue #27's cache test).
    echo_prompt: bool = False
    # Agent results whose numbers are nonsense: ai_credits_used -1e9 (issue #27's report).
    hostile_numbers: bool = False
    # An eventually consistent history: what the lists show only `lag` seconds after creation.
    history_lag: float = 0.0  # GET /v1/jobs
    projects_lag: float = 0.0  # GET /v1/projects
    # Two server clocks: the `Date` header is this many seconds ahead of the clock that stamps
    # `created_at` (negative: behind), as when a load balancer sets `Date`.
    date_offset: float = 0.0
    # Another client of the same drive making look-alike jobs.
    foreign_client: float = 0.0  # jobs per emulator-minute
    foreign_media: list[str] = field(default_factory=lambda: ["host.wav", "guest.wav"])
    foreign_composition: list[str] = field(default_factory=lambda: ["Full episode"])
    foreign_same_user: bool = True  # the other client uses the same token's user
    seed: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, _CHECKS[f.name](f.name, getattr(self, f.name)))

    def update(self, changes: Any, now: float) -> None:
        """Apply `changes` (a JSON object) after checking every value; nothing changes on error."""
        if not isinstance(changes, dict):
            raise InvalidInput("faults must be a JSON object")
        names = {f.name for f in fields(self)}
        staged: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "throttle_until":
                seconds = None if value is None else _seconds(key, value)
                staged["throttle_until_at"] = None if seconds is None else now + seconds
            elif key == "next_posts" and isinstance(value, dict):
                staged["next_posts_by_type"] = _CHECKS["next_posts_by_type"](key, value)
            elif key in names:
                staged[key] = _CHECKS[key](key, value)
            else:
                known = ", ".join(sorted(names | {"throttle_until"}))
                raise InvalidInput(f"unknown fault {key!r}; known: {known}")
        for key, value in staged.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Outcome:
    """What becomes of one job-creating POST, from `next_posts`."""

    name: str  # "ok" | "429" | "lose" | "500-after" | "503-before" ...
    status: int = 0  # the HTTP status of a 429 or 5xx
    after_commit: bool = False
    retry_after: int | None = None  # "429:N"


OK = Outcome("ok")


def parse_outcome(text: Any) -> Outcome:
    if not isinstance(text, str):
        raise InvalidInput(f"next_posts entries are strings, not {text!r}")
    if text in ("ok", "lose", "drip"):  # drip: committed, its reply dripped (drip_seconds)
        return Outcome(text, after_commit=text != "ok")
    code, _, wait = text.partition(":")
    if code == "429" and (not wait or wait.isdigit()):
        return Outcome(text, 429, retry_after=int(wait) if wait else None)
    status, _, when = text.partition("-")
    if status.isdigit() and int(status) in SERVER_ERRORS and when in ("after", "before"):
        return Outcome(text, int(status), after_commit=when == "after")
    raise InvalidInput(
        f"unknown next_posts entry {text!r}: use ok, lose, drip, 429, 429:SECONDS, "
        "500-after, 502-after, 503-after, 500-before, 502-before or 503-before"
    )


# --- checks of each setting ----------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise InvalidInput(f"{name} must be a number")
    return float(value)


def _seconds(name: str, value: Any) -> float:
    number = _number(name, value)
    if number < 0:
        raise InvalidInput(f"{name} must be >= 0")
    return number


def _fraction(name: str, value: Any) -> float:
    number = _number(name, value)
    if not 0 <= number <= 1:
        raise InvalidInput(f"{name} must be between 0 and 1")
    return number


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be an integer >= 0")
    return value


def _optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    return lambda name, value: None if value is None else check(name, value)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string")
    return value


def _names(name: str, value: Any) -> list[str]:
    """A list of names, or one comma-separated string of them."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f"{name} must be a list of names (or one comma-separated string)")
    return list(value)


def _some_names(name: str, value: Any) -> list[str]:
    names = _names(name, value)
    if not names:
        raise InvalidInput(f"{name} must name at least one item")
    return names


def _choice(options: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise InvalidInput(f"{name} must be one of {', '.join(options)}")
        return str(value)

    return check


def _access_levels(name: str, value: Any) -> list[str]:
    levels = _names(name, value)
    for level in levels:
        _choice(ACCESS_LEVELS)(name, level)
    return levels


def _script(name: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput(f"{name} must be a list of outcomes")
    return [parse_outcome(entry).name for entry in value]


def _scripts(name: str, value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict) or not all(k in POST_JOB_TYPES for k in value):
        raise InvalidInput(f"{name} by endpoint is an object keyed by {', '.join(POST_JOB_TYPES)}")
    return {k: _script(f"{name}.{k}", v) for k, v in value.items()}


RATE_HEADERS = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Consumed",
    "X-RateLimit-Reset",
)


def _header_values(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidInput(f"{name} must be an object of header names and string values")
    known = {h.lower(): h for h in RATE_HEADERS}
    unknown = [k for k in value if str(k).lower() not in known]
    if unknown:
        raise InvalidInput(f"{name}: {unknown[0]!r} is not one of {', '.join(RATE_HEADERS)}")
    return {known[str(k).lower()]: v for k, v in value.items()}


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false")
    return value


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "api_level": _choice(API_LEVELS),
    "publish_access_levels": _access_levels,
    "rate_limit": _optional(_count),  # 0 or null: off
    "rate_window": _seconds,
    "rate_window_kind": _choice(("fixed", "sliding")),
    "rate_reset": _choice(("seconds", "epoch")),
    "rate_headers": _header_values,
    "throttle_until_at": _optional(_number),
    "throttle_next": _count,
    "retry_after": _count,
    "error_rate": _fraction,
    "latency": _seconds,
    "drip_seconds": _seconds,
    "lose_response_rate": _fraction,
    "error_after_commit_rate": _fraction,
    "next_posts": _script,
    "next_posts_by_type": _scripts,
    "job_failure_rate": _fraction,
    "fail_media_pattern": _optional(_text),
    "fail_prompt_pattern": _optional(_text),
    "credit_budget": _optional(_seconds),
    "read_media": _flag,
    "hostile_text": _flag,
    "echo_prompt": _flag,
    "hostile_numbers": _flag,
    "history_lag": _seconds,
    "projects_lag": _seconds,
    "date_offset": _number,
    "foreign_client": _seconds,
    "foreign_media": _some_names,
    "foreign_composition": _names,
    "foreign_same_user": _flag,
    "seed": _integer,
}


class RateWindow:
    """A window counter per token, fixed or sliding, reporting what the API's headers report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}
        self._recent: dict[str, deque[float]] = {}  # sliding: the times counted

    def hit(
        self, key: str, limit: int, window: float, now: float, sliding: bool = False
    ) -> tuple[bool, int, int, float]:
        """Count one request: (allowed, remaining, consumed, seconds until the window resets;
        sliding: until the oldest request counted leaves it)."""
        if sliding:
            return self._slide(key, limit, window, now)
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

    def _slide(
        self, key: str, limit: int, window: float, now: float
    ) -> tuple[bool, int, int, float]:
        with self._lock:
            times = self._recent.setdefault(key, deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                return False, 0, len(times), max(0.0, times[0] + window - now)
            times.append(now)
            return True, limit - len(times), len(times), max(0.0, times[0] + window - now)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._recent.clear()


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

    def pick(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._rng.choice(options)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
