"""How the engine reports progress: an interface of events; displays implement it in cli/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from descript_iac.api.models import Job
from descript_iac.apply.result import ApplyResult
from descript_iac.plan.model import Plan


class Reporter(Protocol):
    def start(self, plan: Plan) -> None:
        """The apply begins."""

    def submitted(self, address: str, label: str, job_id: str) -> None:
        """A job was created (or its lost reply found)."""

    def progress(self, address: str, label: str, job: Job) -> None:
        """A running job's latest status."""

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        """A job stopped."""

    def done(self, address: str, label: str, message: str) -> None:
        """An action that sends no job was done (forget)."""

    def note(self, text: str) -> None:
        """Anything else worth a line (lookups of jobs in doubt, retries)."""

    def complete(self, result: ApplyResult) -> None:
        """The apply ended."""

    def unchanged(self, text: str) -> None:
        """There was nothing to apply."""


class SilentReporter:
    """Reports nothing (library use without a display)."""

    def start(self, plan: Plan) -> None: ...

    def submitted(self, address: str, label: str, job_id: str) -> None: ...

    def progress(self, address: str, label: str, job: Job) -> None: ...

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None: ...

    def done(self, address: str, label: str, message: str) -> None: ...

    def note(self, text: str) -> None: ...

    def complete(self, result: ApplyResult) -> None: ...

    def unchanged(self, text: str) -> None: ...


ProgressKind = Literal[
    "start", "submitted", "progress", "stopped", "done", "note", "complete", "unchanged"
]


@dataclass(frozen=True)
class Progress:
    """One thing an apply reports, for a progress callback (`CallbackReporter`)."""

    kind: ProgressKind
    address: str | None = None
    label: str | None = None  # the action: "create", "step cleanup", "publish Full episode"
    job: Job | None = None  # the job's latest status (progress, stopped)
    job_id: str | None = None
    ok: bool | None = None  # stopped: whether the job succeeded
    message: str | None = None
    plan: Plan | None = None  # start
    result: ApplyResult | None = None  # complete


class CallbackReporter:
    """Hands each report to `callback` as a `Progress` (library use: a progress callback)."""

    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self.callback = callback

    def start(self, plan: Plan) -> None:
        self.callback(Progress("start", plan=plan))

    def submitted(self, address: str, label: str, job_id: str) -> None:
        self.callback(Progress("submitted", address, label, job_id=job_id))

    def progress(self, address: str, label: str, job: Job) -> None:
        self.callback(Progress("progress", address, label, job=job, job_id=job.job_id))

    def stopped(self, address: str, label: str, job: Job, ok: bool, message: str) -> None:
        self.callback(
            Progress("stopped", address, label, job=job, job_id=job.job_id, ok=ok, message=message)
        )

    def done(self, address: str, label: str, message: str) -> None:
        self.callback(Progress("done", address, label, message=message))

    def note(self, text: str) -> None:
        self.callback(Progress("note", message=text))

    def complete(self, result: ApplyResult) -> None:
        self.callback(Progress("complete", result=result))

    def unchanged(self, text: str) -> None:
        self.callback(Progress("unchanged", message=text))
