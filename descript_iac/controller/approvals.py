"""Approving and rejecting held runs: who may (a bearer token of the controller's own, never the
Descript token) and what a verdict does (recorded with who and when)."""

from __future__ import annotations

import hmac

from descript_iac.controller.runs import RunStore, Verdict, now_iso
from descript_iac.errors import DescriptIacError


class ApprovalRefused(DescriptIacError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def authorized(header: str | None, token: str | None) -> bool:
    """Whether an `Authorization: Bearer ...` header carries the controller's token (none set:
    nobody may approve, the controller is read-only)."""
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())


def give_verdict(book: RunStore, run_id: str, approve: bool, by: str) -> str:
    """Record the verdict on a held run; returns the run's new status."""
    if book.get(run_id) is None:
        raise ApprovalRefused(f"no run {run_id}", 404)
    with book.edit(run_id) as run:
        if run.status != "held":
            raise ApprovalRefused(
                f"run {run_id} is {run.status}, not held: only a held run can be "
                f"{'approved' if approve else 'rejected'}",
                409,
            )
        verdict = "approved" if approve else "rejected"
        run.verdicts.append(Verdict(verdict=verdict, by=by or "unknown", at=now_iso()))
        run.status = "queued" if approve else "rejected"
        if not approve:
            run.finished_at = now_iso()
        return run.status
