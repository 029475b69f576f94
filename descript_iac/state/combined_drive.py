"""Two registries of one drive as one: a run whose state is in PostgreSQL also takes the gates of
this machine's registry, so it and a run with a local state (or a one-off command) on the same
machine and token never both have a POST of one gate in doubt, and each excludes the jobs the
other recorded."""

from __future__ import annotations

from descript_iac.state.drive import Blocked, Claim, DriveRegistry


class CombinedDriveRegistry(DriveRegistry):
    """A gate is taken in `first`, then in `second` (released from `first` when `second` holds
    it); recorded jobs are the union of both, and recorded in both."""

    def __init__(self, first: DriveRegistry, second: DriveRegistry) -> None:
        self.first = first
        self.second = second

    def claim(self, key: str, intent_id: str, window_end: float, now: float) -> Claim | Blocked:
        one = self.first.claim(key, intent_id, window_end, now)
        if isinstance(one, Blocked):
            return one
        two = self.second.claim(key, intent_id, window_end, now)
        if isinstance(two, Blocked):
            self.first.release(one)
            return two
        return Claim(key, intent_id, (one, two))

    def _parts(self, claim: Claim) -> tuple[Claim, Claim]:
        one, two = claim.handle
        return one, two

    def extend(self, claim: Claim, window_end: float) -> None:
        one, two = self._parts(claim)
        self.first.extend(one, window_end)
        self.second.extend(two, window_end)

    def release(self, claim: Claim) -> None:
        one, two = self._parts(claim)
        self.second.release(two)
        self.first.release(one)

    def leave(self, claim: Claim) -> None:
        one, two = self._parts(claim)
        self.second.leave(two)
        self.first.leave(one)

    def settle(self, key: str, intent_id: str) -> None:
        self.second.settle(key, intent_id)
        self.first.settle(key, intent_id)

    def recorded_jobs(self) -> frozenset[str]:
        return self.first.recorded_jobs() | self.second.recorded_jobs()

    def record_jobs(self, job_ids: set[str]) -> None:
        self.second.record_jobs(job_ids)
        self.first.record_jobs(job_ids)

    def close(self) -> None:
        try:
            self.second.close()
        finally:
            self.first.close()
