"""How the engine reports progress: an interface of events; displays implement it in cli/."""

from __future__ import annotations

from typing import Protocol

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
