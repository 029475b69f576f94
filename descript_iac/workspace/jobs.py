"""Jobs by id: cancel one (2026 API) and say plainly why when it cannot be cancelled."""

from __future__ import annotations

from descript_iac.api.errors import Conflict
from descript_iac.api.models import Job
from descript_iac.errors import DescriptIacError
from descript_iac.session import ApiTarget, open_client


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
