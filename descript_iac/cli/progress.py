"""Show an apply's progress: a live display on a terminal, timestamped lines in CI, or JSON
events (one per line: apply_start, job_submitted, job_progress, job_stopped, apply_complete)."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any, TextIO

from descript_iac.api.models import Job
from descript_iac.apply.result import ApplyResult
from descript_iac.plan.model import Plan
from descript_iac.redact import redact


class Reporter:
    """Base reporter: plain timestamped lines (what CI logs want)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.started = time.monotonic()
        self.total = 0
        self.done_jobs = 0

    def write(self, text: str) -> None:
        self.out.write(redact(text) + "\n")
        self.out.flush()

    def line(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.write(f"[{stamp}] {text}")

    def start(self, plan: Plan) -> None:
        self.total = plan.estimated_jobs + plan.counts["await"]
        self.line(f"Applying: {self.total} job(s) across {len(plan.projects)} project(s).")

    def submitted(self, address: str, label: str, job_id: str) -> None:
        self.line(f"{address}: {label}: submitted job {job_id}")

    def progress(self, address: str, label: str, job: Job) -> None:
        return  # plain logs stay short: only state changes are logged

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        self.done_jobs += 1
        mark = "done" if ok else "FAILED"
        self.line(f"{address}: {label}: {mark} ({self.done_jobs}/{self.total}) {message}")

    def done(self, address: str, label: str, message: str) -> None:
        self.line(f"{address}: {label}: {message}")

    def note(self, text: str) -> None:
        self.line(text)

    def complete(self, result: ApplyResult) -> None:
        for text in summary_lines(result):
            self.write(text)

    def unchanged(self, text: str) -> None:
        """Nothing to apply."""
        self.write(text)


class LiveReporter(Reporter):
    """On a terminal: permanent lines for events, and a live block of the jobs in flight."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__(out)
        self.live: dict[str, str] = {}
        self.drawn = 0

    def _clear(self) -> None:
        if self.drawn:
            self.out.write(f"\033[{self.drawn}F\033[J")
            self.drawn = 0

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.started
        rows = [f"  {line}" for line in self.live.values()]
        rows.append(f"  [{self.done_jobs}/{self.total} jobs done, {elapsed:.0f}s elapsed]")
        for row in rows:
            self.out.write(redact(row)[:200] + "\n")
        self.drawn = len(rows)
        self.out.flush()

    def line(self, text: str) -> None:
        self._clear()
        super().line(text)
        self._draw()

    def submitted(self, address: str, label: str, job_id: str) -> None:
        self.live[address] = f"{address}: {label}: queued"
        super().submitted(address, label, job_id)

    def progress(self, address: str, label: str, job: Job) -> None:
        percent = job.progress.percent if job.progress and job.progress.percent else 0
        text = job.progress.label if job.progress and job.progress.label else job.job_state
        filled = int(percent // 10)
        bar = "#" * filled + "." * (10 - filled)
        self.live[address] = f"{address}: {label}: [{bar}] {percent:3.0f}% {text}"
        self._clear()
        self._draw()

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        self.live.pop(address, None)
        super().stopped(address, label, job, ok, message)

    def complete(self, result: ApplyResult) -> None:
        self._clear()
        self.out.flush()
        super().complete(result)


class JsonReporter(Reporter):
    def event(self, name: str, **data: Any) -> None:
        record = {"event": name, "time": datetime.now().astimezone().isoformat(), **data}
        self.write(json.dumps(record, sort_keys=True))

    def start(self, plan: Plan) -> None:
        self.total = plan.estimated_jobs + plan.counts["await"]
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
        self.event(
            "apply_complete",
            ok=result.ok,
            jobs_issued=result.jobs_issued,
            created=result.created,
            replaced=result.replaced,
            updated=result.updated,
            steps_run=result.steps_run,
            forgotten=result.forgotten,
            media_seconds=result.media_seconds,
            ai_credits=result.ai_credits,
            failures=[f.__dict__ for f in result.failures],
            stopped_reason=result.stopped_reason,
            elapsed_seconds=round(result.elapsed, 3),
        )


def summary_lines(result: ApplyResult) -> list[str]:
    lines = [
        "",
        f"Apply {'complete' if result.ok else 'finished with problems'}: "
        f"{result.jobs_issued} job(s) issued, {result.created} project(s) created, "
        f"{result.replaced} replaced, {result.updated} updated in place, "
        f"{result.steps_run} step(s) run, {result.forgotten} forgotten.",
        f"Used {result.media_seconds:.0f} media seconds and {result.ai_credits:.0f} AI credits "
        f"in {result.elapsed:.1f}s.",
    ]
    if result.submitted_only:
        lines.append(
            f"Submitted without waiting (--no-wait): {', '.join(result.submitted_only)}; the "
            "next plan or apply picks them up."
        )
    if result.failures:
        lines.append(f"{len(result.failures)} failure(s):")
        lines += [f"  {f.address}: {f.label}: {f.message}" for f in result.failures]
    if result.attention:
        lines.append("Needs attention:")
        lines += [f"  {text}" for text in result.attention]
    if result.left_in_doubt:
        lines.append(
            "Left in doubt (their jobs may exist; the next apply looks for them before sending "
            f"anything): {', '.join(result.left_in_doubt)}."
        )
    if result.stopped_reason:
        lines.append(f"Stopped early: {result.stopped_reason}.")
    if result.not_started:
        lines.append(f"Not started: {', '.join(result.not_started)}.")
    return lines
