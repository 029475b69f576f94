"""What recent runs measured of the API's two clocks and of its history's lag, for `doctor`.

`<cache>/drives/<account>/clock-figures.json` keeps the last `RUNS` runs' figures: the largest
offset between the `Date` header's clock and the job store's (`created_at`) that a run's own
jobs allowed (None: it saw none of its own), and the longest a job of its own was seen missing
from the history. Figures to show only: every run measures afresh and judges on its own
measurements (docs/exactly-once.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from descript_iac.state.oslock import process_lock

RUNS = 10


@dataclass(frozen=True)
class ClockFigure:
    at: float  # server time the run ended
    offset: float | None  # seconds; None: no job of the run's own was seen
    lag: float  # seconds; 0: none seen


class ClockFigures:
    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, figure: ClockFigure) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with process_lock(self.path.with_suffix(".lock")):
            kept = [*self.recent(), figure][-RUNS:]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([[f.at, f.offset, f.lag] for f in kept]))
            os.replace(tmp, self.path)

    def recent(self) -> list[ClockFigure]:
        """Oldest first; a missing or unreadable file is no figures (they are only shown)."""
        try:
            rows = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        out = []
        for row in rows if isinstance(rows, list) else []:
            try:
                at, offset, lag = row
                measured = None if offset is None else float(offset)
                out.append(ClockFigure(float(at), measured, float(lag)))
            except (TypeError, ValueError):
                continue
        return out
