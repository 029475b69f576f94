"""Reading the job history for the jobs that run, and going on with their chains as they stop."""

from __future__ import annotations

from descript_iac.api.errors import ServerError, TransportFailure
from descript_iac.api.models import Job
from descript_iac.apply.chain import Chain
from descript_iac.apply.outcome import describe, tally, used
from descript_iac.apply.reconcile import gone_message
from descript_iac.apply.run_state import RunState
from descript_iac.failpoints import failpoint
from descript_iac.state.events import JobUpdated

MAX_FAILED_POLLS = 10  # poll rounds in a row that may fail (each already retried) before giving up


class Polling(RunState):
    def _poll_round(self) -> None:
        try:
            finished = self._poll()
            self._failed_polls = 0
        except (TransportFailure, ServerError) as exc:
            # The jobs run on regardless: keep trying, and give up only after a while (the
            # journal lets the next run pick them up).
            self._failed_polls += 1
            if self._failed_polls > MAX_FAILED_POLLS:
                raise
            self.reporter.note(f"Polling failed ({exc}); retrying.")
            finished = 0
        now = self._now()
        self.schedule.polled(now, finished)
        self._leave_overdue(now)

    def _poll(self) -> int:
        in_flight = dict(self._running)
        jobs = self.poller.refresh({job_id: c.job for job_id, c in in_flight.items() if c.job})
        failpoint("mid_poll")
        finished = 0
        for job_id, chain in in_flight.items():
            job = jobs.get(job_id)
            if job is None:
                if job_id in self.poller.gone:
                    # Past the history: nothing can be learnt of it; the project waits for a
                    # person (`state drop-job`), the rest of the apply goes on.
                    del self._running[job_id]
                    chain.job = None
                    self._end(chain, "stopped")
                    self.result.attention.append(gone_message(chain.address, job_id))
                continue
            if not job.finished:
                self.reporter.progress(
                    chain.address, chain.action.label if chain.action else "", job
                )
                continue
            finished += 1
            self.record(
                JobUpdated(
                    address=chain.address, job=job.model_dump(mode="json", exclude_none=True)
                )
            )
            failpoint("after_job_stopped")
            del self._running[job_id]
            self.schedule.learn(job)
            self._finished(chain, job)
        return finished

    def _leave_overdue(self, now: float) -> None:
        limit = self.options.max_job_wait
        for job_id, chain in list(self._running.items()):
            if now - chain.waiting_since > limit:
                self.result.attention.append(
                    f"{chain.address}: job {job_id} is still running after "
                    f"{limit / 3600:g} h; left running and recorded: the next plan or apply picks "
                    "it up"
                )
                del self._running[job_id]
                chain.job = None
                self._end(chain, "stopped")

    def _finished(self, chain: Chain, job: Job) -> None:
        action = chain.action
        assert action is not None
        chain.job = None
        ok = job.result is not None and job.result.status == "success"
        tally(self.result, job, action, ok)
        self.spending.stopped(action, *used(job))
        message = describe(job)
        self.reporter.stopped(chain.address, action.label, job, ok, message)
        if not ok:
            self._fail(chain, action, message)
            return
        chain.index += 1
        self._advance(chain)
