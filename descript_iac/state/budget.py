"""A request budget shared by every run on this machine (one file per API account).

The Descript docs allow 1,000 published-project reads an hour per user. `descript-iac
published` in a loop, or an apply refreshing many exports, must not learn that from a 429: each
request is counted in `<cache>/drives/<account>/published-budget.json` under a file lock, and a
429's Retry-After is kept there too, so the next run waits instead of asking again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from descript_iac.state.oslock import process_lock


class SharedBudget:
    """At most `limit` requests in any `window` seconds, across processes (implements
    `descript_iac.api.budget.RequestBudget`)."""

    def __init__(self, path: Path, limit: int, window: float) -> None:
        self.path = path
        self.limit = limit
        self.window = window

    def _update(self, change: Any) -> float:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with process_lock(self.path.with_suffix(".lock")):
            data = self._read()
            wait = float(change(data))
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, self.path)
            return wait

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {"times": [], "held": 0.0}
        if not isinstance(data, dict) or not isinstance(data.get("times"), list):
            return {"times": [], "held": 0.0}
        return data

    def take(self, now: float) -> float:
        def change(data: dict[str, Any]) -> float:
            held = float(data.get("held") or 0.0)
            times = sorted(float(t) for t in data["times"] if float(t) > now - self.window)
            data["times"] = times
            if now < held:
                return held - now
            if len(times) >= self.limit:
                return times[len(times) - self.limit] + self.window - now
            times.append(now)
            return 0.0

        return self._update(change)

    def hold_until(self, until: float) -> None:
        def change(data: dict[str, Any]) -> float:
            data["held"] = max(float(data.get("held") or 0.0), until)
            return 0.0

        self._update(change)

    def used(self, now: float) -> int:
        """Requests counted in the window ending at `now` (for `doctor`)."""
        return sum(1 for t in self._read()["times"] if float(t) > now - self.window)
