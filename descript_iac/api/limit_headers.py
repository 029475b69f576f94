"""Reading the rate-limit headers as any server sends them, and as a hostile one might.

`Retry-After` is delta-seconds or an HTTP date (RFC 9110 section 10.2.3). `X-RateLimit-Reset`
is seconds until the window resets or, from some servers, an epoch time: a value larger than
`EPOCH_AFTER` (ten years of seconds) can only be a time, never a wait. `X-RateLimit-Limit`,
`-Remaining` and `-Consumed` are counts.

Every reading is a `Reading`: the value to use (None: the header says nothing usable) and, when
the header was bad (not a number, not finite, negative, absurdly large), a `problem` naming the
header, what it held and what is used instead. Nothing here raises; nothing here waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from descript_iac.terminal_text import one_line

MAX_WAIT = 120.0  # the longest one pause may be, whatever the server asks
EPOCH_AFTER = 10 * 365 * 24 * 3600.0  # a "seconds until" larger than this is an epoch time
# A time names a whole second, and the server's clock is known here from `Date` headers (whole
# seconds too): a reset read from a time may be up to about a second early. Waiting is what the
# guess errs on.
TIME_SLACK = 1.0
MAX_DAY = 24 * 3600.0  # a window reset further away than this is nonsense
MAX_COUNT = 1_000_000_000  # more requests per window than any server allows: nonsense
_SHOWN = 40  # characters of a bad header value quoted in its message


@dataclass(frozen=True)
class Reading:
    value: float | None
    problem: str | None = None


def _quoted(raw: str) -> str:
    text = one_line(raw)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _number(raw: str) -> float | None:
    try:
        return float(raw.strip())
    except ValueError:
        return None


def _http_date(raw: str) -> float | None:
    try:
        return parsedate_to_datetime(raw.strip()).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def retry_after(raw: str | None, server_now: float) -> Reading:
    """Seconds to pause, from `Retry-After` (seconds or an HTTP date on the server's clock),
    within [0, MAX_WAIT]; None when absent or unreadable."""
    if raw is None:
        return Reading(None)
    name = f"Retry-After {_quoted(raw)}"
    seconds = _number(raw)
    if seconds is None:
        when = _http_date(raw)
        if when is None:
            return Reading(None, f"{name} is neither seconds nor an HTTP date; ignored")
        seconds = max(0.0, when - server_now)  # a date past is "now"
        if seconds > MAX_WAIT:
            return Reading(MAX_WAIT, f"{name} is over {MAX_WAIT:g} s away; waiting {MAX_WAIT:g} s")
        return Reading(seconds)
    if not math.isfinite(seconds):
        return Reading(None, f"{name} is not a finite number; ignored")
    if seconds < 0:
        return Reading(0.0, f"{name} is negative; read as 0")
    if seconds > MAX_WAIT:
        return Reading(MAX_WAIT, f"{name} is over {MAX_WAIT:g} s; waiting {MAX_WAIT:g} s")
    return Reading(seconds)


def reset(raw: str | None, server_now: float) -> Reading:
    """Seconds until the window resets, from `X-RateLimit-Reset` (seconds until, an epoch time
    or an HTTP date), within [0, MAX_WAIT]; None when absent or unreadable."""
    if raw is None:
        return Reading(None)
    name = f"X-RateLimit-Reset {_quoted(raw)}"
    value = _number(raw)
    if value is None:
        when = _http_date(raw)
        if when is None:
            return Reading(None, f"{name} is neither seconds nor a time; ignored")
        value = when - server_now + TIME_SLACK
    elif not math.isfinite(value):
        return Reading(None, f"{name} is not a finite number; ignored")
    elif value > EPOCH_AFTER:  # an epoch time: seconds since 1970
        value = value - server_now + TIME_SLACK
    elif value < 0:
        return Reading(None, f"{name} is negative; ignored")
    if value > MAX_DAY:  # no window lasts that long: nonsense
        return Reading(MAX_WAIT, f"{name} is over a day away; read as {MAX_WAIT:g} s")
    if value > MAX_WAIT:  # a long window (an hour's budget): paced by X-RateLimit-Remaining
        return Reading(MAX_WAIT)
    return Reading(max(0.0, value))


def count(header: str, raw: str | None) -> Reading:
    """A request count (`X-RateLimit-Limit`, `-Remaining`, `-Consumed`): a whole number from
    0 to MAX_COUNT; None when absent or unreadable."""
    if raw is None:
        return Reading(None)
    name = f"{header} {_quoted(raw)}"
    value = _number(raw)
    if value is None:
        return Reading(None, f"{name} is not a number; ignored")
    if not math.isfinite(value):
        return Reading(None, f"{name} is not a finite number; ignored")
    if value < 0:
        return Reading(None, f"{name} is negative; ignored")
    if value > MAX_COUNT:
        return Reading(None, f"{name} is larger than any server's limit; ignored")
    return Reading(float(math.floor(value)))


MAX_ASKED = MAX_DAY  # the longest pause `asked` reports: a caller may stop for it


def asked(raw: str | None, server_now: float) -> Reading:
    """The pause `Retry-After` asks for, up to a day, not clamped to one wait (a published
    project's hourly budget may ask for an hour: the caller stops and says when to try again
    instead of waiting); None when absent or not a sane number."""
    if raw is None:
        return Reading(None)
    seconds = _number(raw)
    if seconds is None:
        when = _http_date(raw)
        seconds = None if when is None else max(0.0, when - server_now)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return Reading(None)  # (said by `retry_after` when the pause is read)
    if seconds > MAX_ASKED:
        name = f"Retry-After {_quoted(raw)}"
        return Reading(MAX_ASKED, f"{name} is over {MAX_ASKED:g} s; read as {MAX_ASKED:g} s")
    return Reading(seconds)
