"""Show an apply's progress: a live display on a terminal (cli/live.py), the same timestamped
lines without its rows in CI, or JSON events (one per line: apply_start, job_submitted,
job_progress, job_stopped, project_done, note, apply_complete). Each display implements
`apply.reporting.Reporter`; `apply`, `jobs wait` and the one-off commands share them."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from types import TracebackType
from typing import Any, TextIO

from descript_iac.api.models import Job
from descript_iac.apply.result import ApplyResult
from descript_iac.cli.context import is_tty
from descript_iac.plan.model import Plan
from descript_iac.redact import redact
from descript_iac.terminal_text import one_line, visible


class Reporter:
    """Plain timestamped lines (what CI logs want); the base of the other displays.

    `progress_lines`: also log a running job's status each time it changes (`jobs wait`, where
    there is nothing else to show); an apply logs only submissions and stops. `summary`: the
    "Applying" headline and the closing summary (a one-off command of one job has neither).
    A display is a context manager: leaving it ends whatever it left on the terminal."""

    def __init__(
        self, out: TextIO | None = None, *, progress_lines: bool = False, summary: bool = True
    ) -> None:
        self.out = out or sys.stdout
        self.started = time.monotonic()
        self.total = 0
        self.done_jobs = 0
        self.progress_lines = progress_lines
        self.summary = summary
        self._last_status: dict[str, str] = {}
        self.urls: dict[str, str] = {}  # address -> the project's Descript URL, once known

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.out.flush()

    def write(self, text: str) -> None:
        """A permanent line."""
        self.out.write(visible(redact(text)) + "\n")
        self.out.flush()

    def line(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.write(f"[{stamp}] {text}")

    def start(self, plan: Plan) -> None:
        self.total = plan.estimated_jobs + plan.counts["await"]
        if self.summary:
            self.line(f"Applying: {self.total} job(s) across {len(plan.projects)} project(s).")

    def submitted(self, address: str, label: str, job_id: str) -> None:
        self.line(f"{address}: {label}: submitted job {job_id}")

    def remember_url(self, address: str, job: Job) -> None:
        if job.project_url:
            self.urls[address] = redact(job.project_url)

    def progress(self, address: str, label: str, job: Job) -> None:
        self.remember_url(address, job)
        if not self.progress_lines:
            return  # plain logs of an apply stay short: only state changes are logged
        text = f"{address}: {label}: {job_status(job)}"
        if self._last_status.get(address) != text:
            self._last_status[address] = text
            self.line(text)

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        """The job's end, with the project's Descript URL: the same line on a terminal (above
        the live block) and in a log."""
        self.remember_url(address, job)
        self.done_jobs += 1
        text = stopped_line(address, label, ok, message, self.done_jobs, self.total)
        url = self.urls.get(address)
        self.line(f"{text}  {url}" if url else text)

    def done(self, address: str, label: str, message: str) -> None:
        self.line(f"{address}: {label}: {one_line(message)}")

    def note(self, text: str) -> None:
        self.line(text)

    def complete(self, result: ApplyResult) -> None:
        self.close()
        if self.summary:
            for text in summary_lines(result):
                self.write(text)

    def unchanged(self, text: str) -> None:
        """Nothing to apply."""
        self.close()
        self.write(text)


def job_status(job: Job) -> str:
    """A running job in a few words: `running  40% Transcribing`."""
    percent = job.progress.percent if job.progress and job.progress.percent else 0
    label = job.progress.label if job.progress and job.progress.label else ""
    return f"{job.job_state} {percent:3.0f}% {label}".rstrip()


def stopped_line(address: str, label: str, ok: bool, message: str, done: int, total: int) -> str:
    mark = "done" if ok else "FAILED"
    # The message quotes the API (an agent's reply): one line, whatever newlines it holds.
    return f"{address}: {label}: {mark} ({done}/{total}) {one_line(message)}"


def display(
    *,
    as_json: bool = False,
    color: bool = False,
    progress_lines: bool = False,
    summary: bool = True,
) -> Reporter:
    """The display for this run: JSON events, a live display on a terminal, else plain lines."""
    if as_json:
        return JsonReporter(summary=summary)
    if is_tty():
        from descript_iac.cli.live import LiveReporter  # rich: only on a terminal

        return LiveReporter(color=color, progress_lines=progress_lines, summary=summary)
    return Reporter(progress_lines=progress_lines, summary=summary)


class JsonReporter(Reporter):
    def event(self, name: str, **data: Any) -> None:
        record = {"event": name, "time": datetime.now().astimezone().isoformat(), **data}
        self.write(json.dumps(record, sort_keys=True))

    def start(self, plan: Plan) -> None:
        self.total = plan.estimated_jobs + plan.counts["await"]
        if self.summary:
            self.event("apply_start", jobs=self.total, projects=len(plan.projects))

    def submitted(self, address: str, label: str, job_id: str) -> None:
        self.event("job_submitted", address=address, action=label, job_id=job_id)

    def progress(self, address: str, label: str, job: Job) -> None:
        progress = job.progress
        self.event(
            "job_progress",
            address=address,
            action=label,
            job_id=job.job_id,
            job_state=job.job_state,
            percent=progress.percent if progress else None,
            label=progress.label if progress else None,
        )

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        self.event(
            "job_stopped",
            address=address,
            action=label,
            job_id=job.job_id,
            status=job.result.status if job.result else job.job_state,
            ok=ok,
            message=message,
        )

    def done(self, address: str, label: str, message: str) -> None:
        self.event("project_done", address=address, action=label, message=message)

    def note(self, text: str) -> None:
        self.event("note", message=text)

    def unchanged(self, text: str) -> None:
        self.event("apply_complete", ok=True, jobs_issued=0, message=text)

    def complete(self, result: ApplyResult) -> None:
        if not self.summary:
            return
        self.event(
            "apply_complete",
            ok=result.ok,
            jobs_issued=result.jobs_issued,
            created=result.created,
            replaced=result.replaced,
            updated=result.updated,
            steps_run=result.steps_run,
            published=result.published,
            forgotten=result.forgotten,
            media_seconds=result.media_seconds,
            ai_credits=result.ai_credits,
            unknown_spend_jobs=result.unknown_spend,  # not in the two sums: numbers not sane
            failures=[f.__dict__ for f in result.failures],
            stopped_reason=result.stopped_reason,
            held_by_budget=result.held_by_budget,
            elapsed_seconds=round(result.elapsed, 3),
            creates_in_doubt=result.creates_in_doubt,
            gate_held_seconds=round(result.gate_held, 3),
        )


def summary_lines(result: ApplyResult) -> list[str]:
    lines = [
        "",
        f"Apply {'complete' if result.ok else 'finished with problems'}: "
        f"{result.jobs_issued} job(s) issued, {result.created} project(s) created, "
        f"{result.replaced} replaced, {result.updated} updated in place, "
        f"{result.steps_run} step(s) run, "
        + (f"{result.published} published, " if result.published else "")
        + f"{result.forgotten} forgotten.",
        f"Used {result.media_seconds:.0f} media seconds and {result.ai_credits:.0f} AI credits "
        f"in {result.elapsed:.1f}s."
        + (
            f" The spend of {result.unknown_spend} job(s) is unknown: the API sent a number "
            "that was not sane (not counted)."
            if result.unknown_spend
            else ""
        ),
    ]
    gate = result.gate_note()
    if gate is not None:
        lines.append(gate)
    if result.submitted_only:
        lines.append(
            f"Submitted without waiting (--no-wait): {', '.join(result.submitted_only)}; the "
            "next plan or apply picks them up."
        )
    if result.failures:
        lines.append(f"{len(result.failures)} failure(s):")
        # (the server's words: one line each, so that a newline in them forges no line)
        lines += [f"  {f.address}: {f.label}: {one_line(f.message)}" for f in result.failures]
    if result.attention:
        lines.append("Needs attention:")
        lines += [f"  {one_line(text)}" for text in result.attention]
    if result.left_in_doubt:
        lines.append(
            "Left in doubt (their jobs may exist; the next apply looks for them before sending "
            f"anything): {', '.join(result.left_in_doubt)}."
        )
    if result.stopped_reason:
        lines.append(f"Stopped early: {result.stopped_reason}.")
    if result.held_by_budget:
        lines.append(
            "Left for the next apply (the project's budget would be passed; its other jobs were "
            "not sent):"
        )
        lines += [f"  {address}: {why}" for address, why in result.held_by_budget.items()]
    if result.not_started:
        lines.append(f"Not started: {', '.join(result.not_started)}.")
    return lines
