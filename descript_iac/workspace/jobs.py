"""Jobs by id: wait for one, reporting its progress; cancel one (2026 API) and say plainly why
when it cannot be cancelled."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from descript_iac.api.errors import Conflict
from descript_iac.api.models import Job
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, open_client

if TYPE_CHECKING:  # the engine is not needed to wait for a job
    from descript_iac.apply.reporting import Reporter


def cancel_job(target: ApiTarget, job_id: str) -> Job:
    """Cancel a queued or running job (`DELETE /v1/jobs/{id}`); return it as it is now.

    Cancelling a cancelled job again is harmless. A stopped job cannot be cancelled: its result
    is final. The API must have job cancellation (NotSupported otherwise, before any request)."""
    with open_client(target) as client:
        try:
            client.cancel_job(job_id)
        except Conflict:
            job = client.get_job(job_id)
            if job.job_state != "stopped":
                raise
            status = job.result.status if job.result else "no result"
            when = f" at {job.stopped_at.isoformat()}" if job.stopped_at else ""
            raise DescriptIacError(
                f"job {job_id} already stopped{when} ({status}): a stopped job cannot be "
                "cancelled; its result stands"
            ) from None
        return client.get_job(job_id)


def wait_for_job(
    target: ApiTarget, job_id: str, interval: float, timeout: float, reporter: Reporter
) -> Job:
    """Poll job `job_id` every `interval` seconds until it stops; return it as it stopped.

    Each poll of a running job is reported (`reporter.progress(job_id, job_type, job)`), the
    stop is not: the caller says how it ended. Past `timeout` seconds, a DescriptIacError."""
    deadline = time.monotonic() + timeout
    with open_client(target) as client:
        while True:
            job = client.get_job(job_id)
            if job.finished:
                return job
            reporter.progress(job_id, job.job_type, job)
            if time.monotonic() > deadline:
                raise DescriptIacError(f"job {job_id} still {job.job_state} after {timeout:.0f}s")
            time.sleep(interval)
