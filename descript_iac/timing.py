"""What the Descript API promises, and allows for, about time: one definition of each.

- The job history reaches back 30 days (`HORIZON`); older jobs cannot be listed or found.
- A job is finished once `stopped` or `cancelled` (`FINISHED_STATES`); a finished job never changes.
- A POST whose reply was lost may have committed its job up to `commit_span` seconds after it was
  sent, and a committed job may take up to `history_lag` more seconds to appear in the job
  history (the history of a busy account is eventually consistent). Until both have passed, "no
  such job in the history" proves nothing; the window in which an in-doubt POST's job can appear
  is `[sent - error, sent + commit_span + error]`, and the evidence is complete once the server's
  clock is past `sent + commit_span + history_lag + error`.
- Times are the server's: this machine's clock is mapped to the API's through the `Date` header
  of its replies (see api/clock.py); `error` is how far off that mapping may be. Without a
  `Date` header the local clock is used with `UNSYNCED_ERROR`.

Both spans are settings (environment or CLI), because a real account's lag is not documented:
the defaults are deliberately generous (7 minutes in all).
"""

from __future__ import annotations

import os

import msgspec

from descript_iac.errors import DescriptIacError

HORIZON = 30 * 86_400.0  # seconds of job history the API keeps
HORIZON_MARGIN = 3_600.0  # we stop an hour short of it, so a request is never refused for age
FINISHED_STATES = frozenset({"stopped", "cancelled"})
UNSYNCED_ERROR = 120.0  # seconds our clock may differ from the API's when no Date header is seen

COMMIT_SPAN = 300.0
HISTORY_LAG = 120.0
COMMIT_SPAN_VAR = "DESCRIPT_IAC_COMMIT_SPAN"
HISTORY_LAG_VAR = "DESCRIPT_IAC_HISTORY_LAG"


class Timing(msgspec.Struct, frozen=True):
    """How long an in-doubt POST's job may take to be committed, and then to be listed."""

    commit_span: float = COMMIT_SPAN
    history_lag: float = HISTORY_LAG
    # Measured, not set: how far the job store's clock (`created_at`) was seen from the `Date`
    # clock the send times are on, plus a margin (api/clock.py). Widens every window both ways.
    clock_skew: float = 0.0

    @classmethod
    def from_env(cls, commit_span: float | None = None, history_lag: float | None = None) -> Timing:
        """Explicit values first, then DESCRIPT_IAC_COMMIT_SPAN / _HISTORY_LAG, then defaults."""
        return cls(
            commit_span=_seconds(commit_span, COMMIT_SPAN_VAR, COMMIT_SPAN),
            history_lag=_seconds(history_lag, HISTORY_LAG_VAR, HISTORY_LAG),
        )

    def describe(self) -> str:
        return (
            f"a job may be committed up to {self.commit_span:g}s after its POST and listed "
            f"{self.history_lag:g}s after that"
        )


def _seconds(value: float | None, var: str, default: float) -> float:
    if value is not None:
        if value < 0:
            raise DescriptIacError(f"{var}: {value:g} seconds: give zero or more")
        return float(value)
    raw = os.environ.get(var)
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise DescriptIacError(f"{var}={raw!r}: give a number of seconds") from None
    if seconds < 0:
        raise DescriptIacError(f"{var}={raw!r}: give zero or more seconds")
    return seconds


def history_floor(now: float) -> float:
    """The oldest `created_after` the API will accept at `now`."""
    return now - HORIZON + HORIZON_MARGIN
