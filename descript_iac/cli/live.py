"""The live display on a terminal (rich): the same permanent lines as in a CI log, printed above
a block of the jobs in flight (one row each: project, action, progress, Descript URL) and a
summary line (jobs done of all, time elapsed).

Rows are fitted to the terminal's width as it is at each refresh (never wrapped, so rich can
always move back over exactly the rows it drew); permanent lines wrap. The block is transient:
when the display ends nothing of it is left on the screen or in the scrollback.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

from descript_iac.api.models import Job
from descript_iac.cli.progress import Reporter
from descript_iac.plan.model import Plan
from descript_iac.redact import redact
from descript_iac.terminal_text import one_line, visible

BAR = 10  # cells of a progress bar
INDENT = "  "


@dataclass(frozen=True)
class Row:
    """One job in flight, as shown."""

    what: str  # "address: label"
    status: str  # "queued", or the job's state and progress label
    percent: float
    url: str  # the project's Descript URL once the API has said it; "" before


class LiveReporter(Reporter):
    """Permanent lines through rich, above a live block of the jobs in flight."""

    refresh_per_second = 4.0

    def __init__(
        self,
        out: TextIO | None = None,
        *,
        color: bool = True,
        progress_lines: bool = False,
        summary: bool = True,
    ) -> None:
        # A running job is always shown in its row: `progress_lines` is for plain logs only.
        super().__init__(out, progress_lines=progress_lines, summary=summary)
        self.console = Console(
            file=self.out,
            no_color=not color,
            highlight=False,
            markup=False,
            emoji=False,
        )
        self.color = color
        self.rows: dict[str, Row] = {}
        self._shown: list[Row] = []  # what the block draws (see `write`)
        self._lock = threading.Lock()
        self._live: Live | None = None

    # --- the block ---------------------------------------------------------------------------

    def _begin(self) -> None:
        if self._live is not None:
            return
        self._show_rows()
        # Whatever else is printed on this terminal while the block is up (warnings, -v logs)
        # goes above it; stderr only when it is this same terminal.
        self._live = Live(
            Board(self),
            console=self.console,
            transient=True,
            auto_refresh=True,
            refresh_per_second=self.refresh_per_second,
            redirect_stdout=True,
            redirect_stderr=_same_terminal(self.out, sys.stderr),
        )
        self._live.start(refresh=True)

    def _show_rows(self) -> None:
        """The rows the block shows from its next drawing on."""
        with self._lock:
            self._shown = list(self.rows.values())

    def _refresh(self) -> None:
        """Draw the block again now, with the rows as they are."""
        if self._live is None:
            self._begin()
            return
        with self._live._lock:
            self._show_rows()
            self._live.refresh()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()  # transient: the block is erased, the cursor shown again
            self._live = None
        super().close()

    def write(self, text: str) -> None:
        """A permanent line: above the block (drawn again below it with the rows as they are
        now). It is written as one line and wrapped by the terminal itself (rich's soft wrap),
        never broken by rich: a Descript URL in it stays one URL for a click or a copy at any
        width (a hard line break in the middle of it made two halves).

        The block changes height only here and in `_refresh`, holding the Live's lock: rich
        moves the cursor back over the block as tall as it last drew it, so a drawing of a
        taller or shorter block between that move and this print (rich's refresh thread, or
        something printed while the block is up) would leave a row behind or erase a permanent
        line. rich's refresh thread draws the rows last shown: the same height."""
        line = Text(visible(redact(text)))
        if self._live is None:
            self.console.print(line, soft_wrap=True)
            return
        with self._live._lock:  # re-entered by rich's own print hook (an RLock)
            self._show_rows()
            self.console.print(line, soft_wrap=True)

    def board_lines(self, width: int, height: int) -> list[Text]:
        """The block at this width and height: the rows shown, then the summary line."""
        with self._lock:
            rows = list(self._shown)
        room = max(1, height - 2)
        shown = rows if len(rows) <= room else rows[: room - 1]
        lines = [fit_row(row, width, self.color) for row in shown]
        if len(shown) < len(rows):
            lines.append(_cut(Text(f"{INDENT}... and {len(rows) - len(shown)} more"), width))
        lines.append(_cut(Text(self._summary_text(), style="dim"), width))
        return lines

    def _summary_text(self) -> str:
        elapsed = _clock(time.monotonic() - self.started)
        if not self.summary:  # a one-off or `jobs wait`: one job
            return f"{INDENT}{elapsed} elapsed"
        return f"{INDENT}{self.done_jobs}/{self.total} jobs done, {elapsed} elapsed"

    # --- the Reporter interface ---------------------------------------------------------------

    def start(self, plan: Plan) -> None:
        super().start(plan)
        self._begin()

    def submitted(self, address: str, label: str, job_id: str) -> None:
        with self._lock:
            self.rows[address] = Row(
                redact(f"{address}: {label}"), "queued", 0, self.urls.get(address, "")
            )
        self._begin()
        super().submitted(address, label, job_id)

    def progress(self, address: str, label: str, job: Job) -> None:
        self.remember_url(address, job)
        percent = job.progress.percent if job.progress and job.progress.percent else 0
        with self._lock:
            self.rows[address] = Row(
                redact(f"{address}: {label}"),
                redact(job.job_state + _label(job)),
                float(percent),
                self.urls.get(address, ""),
            )
        self._refresh()

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        with self._lock:
            self.rows.pop(address, None)
        # The row that showed the project's URL goes: its permanent line keeps it.
        super().stopped(address, label, job, ok, message)


class Board:
    """The live block, rendered afresh at each refresh (the elapsed time moves on its own)."""

    def __init__(self, reporter: LiveReporter) -> None:
        self.reporter = reporter

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = options.height or console.size.height
        yield from self.reporter.board_lines(options.max_width, height)


def fit_row(row: Row, width: int, color: bool) -> Text:
    """`  address: label  [####......]  40% status  URL`, cut to `width` cells: the URL gives
    way first (shown whole or not at all: a cut URL is a broken link; the permanent line above
    has it), then the status, then the address (a cut shows an ellipsis)."""
    filled = int(max(0.0, min(row.percent, 100.0)) // (100 / BAR))
    bar = Text.assemble(
        "[",
        ("#" * filled, "green" if color else ""),
        ("." * (BAR - filled), "dim" if color else ""),
        "] ",
        f"{row.percent:3.0f}% ",
    )
    room = width - cell_len(INDENT) - 2 - bar.cell_len  # two spaces after the address
    # The address comes first, but leaves the status a third of the room when it needs it.
    reserve = min(cell_len(row.status), room // 3)
    what = _cut(Text(one_line(row.what), style="bold" if color else ""), max(1, room - reserve))
    room -= what.cell_len
    status = _cut(Text(one_line(row.status)), max(0, room))
    room -= status.cell_len + 2  # two spaces before the URL
    line = Text.assemble(INDENT, what, "  ", bar, status)
    url = one_line(row.url)
    if url and room >= cell_len(url):
        line.append("  ")
        line.append_text(Text(url, style="cyan" if color else ""))
    return _cut(line, width)


def _cut(text: Text, width: int) -> Text:
    """`text` on one line of at most `width` cells, an ellipsis marking a cut."""
    if width <= 0:
        return Text("")
    text = text.copy()
    text.no_wrap = True
    text.overflow = "ellipsis"
    if text.cell_len > width:
        text.truncate(max(0, width), overflow="ellipsis")
    return text


def _label(job: Job) -> str:
    label = job.progress.label if job.progress and job.progress.label else ""
    return f" {label}" if label else ""


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _same_terminal(out: TextIO, err: TextIO) -> bool:
    try:
        return os.isatty(err.fileno()) and os.ttyname(err.fileno()) == os.ttyname(out.fileno())
    except (OSError, ValueError, AttributeError):
        return False
