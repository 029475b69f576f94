"""POSTs in doubt: their job is looked for in the history (resolve.py) until it is found, proven
never made, or quarantined; meanwhile the gate stays held."""

from __future__ import annotations

from descript_iac.api.capabilities import Feature
from descript_iac.apply.chain import Chain, Doubt
from descript_iac.apply.evidence import in_force
from descript_iac.apply.resolve import Verdict, complete_at, is_create
from descript_iac.apply.run_state import RunState
from descript_iac.plan.diff import quarantine_advice
from descript_iac.state.document import Intent, Quarantine
from descript_iac.state.drive import gate_key
from descript_iac.state.events import IntentDropped, Quarantined, adopted

COMPLETE_MARGIN = 0.05  # seconds past the moment the evidence is complete at which it is read
RE_READ = 0.2  # seconds: the soonest the evidence is read again after a read that was too early


class Doubting(RunState):
    def _await_intent(self, chain: Chain) -> None:
        """An intent an earlier run left open: find its job before anything else is sent."""
        intent = self.doc.projects[chain.address].intents[0]
        key = gate_key(intent.job_type, intent.project_id)
        now = self._now()
        self.doubts[intent.intent_id] = Doubt(
            chain, intent.intent_id, key, None, own=False, since=now, not_before=now
        )
        chain.state = "waiting"

    def _resolve_doubts(self) -> None:
        intents = []
        now = self._now()
        timing = in_force(self.timing, self.client.clock)
        earliest = self.client.clock.earliest()
        # Reads are put off only on a clock seen running at this machine's rate (api/clock.py):
        # then the estimate moves as the API's time does without a reply to read it from.
        skip = not self.stopping and self.client.clock.sharpened
        for doubt in self.doubts.values():
            if doubt.not_before > now:
                self._tick_due = min(self._tick_due, doubt.not_before)
                continue
            project = self.doc.projects[doubt.chain.address]
            intent = next(i for i in project.intents if i.intent_id == doubt.intent_id)
            left = complete_at(intent, timing) - earliest
            if left > 0 and skip and not self._confirmable(intent):
                # Only time decides it: read once the evidence is complete, not before (a read
                # per project for a step, evidence.py); a stop reads at once, to leave it open.
                self._tick_due = min(self._tick_due, now + left + COMPLETE_MARGIN)
                if not doubt.reported:  # said as a read too early would have said it
                    doubt.reported = True
                    what = f"{doubt.chain.address}: the {intent.step_id or intent.action} job"
                    until = self._clock_text(complete_at(intent, timing))
                    self.reporter.note(
                        f"{what}: waiting for evidence until {until} (the job history may still "
                        "lag behind)"
                    )
                continue
            intents.append((doubt.chain.address, intent))
        verdicts = self.evidence.verdicts(self.doc, intents)
        self._report_lag()
        for _, intent in intents:
            self._settle(self.doubts[intent.intent_id], intent, verdicts[intent.intent_id])

    def _confirmable(self, intent: Intent) -> bool:
        """Whether the history can tell the intent's job before its evidence is complete: a
        create, by its project's name, where the API has the projects endpoints (resolve.py)."""
        if not is_create(intent):
            return False
        if self._projects_api is None:
            self._projects_api = self.client.capabilities().has(Feature.PROJECTS)
        return self._projects_api

    def _gate_released(self, doubt: Doubt, intent: Intent) -> None:
        """A doubt is over (its outcome recorded, or left for the next run): a create's counts
        in the seconds the create gate was held in doubt (every project creation waits on it)."""
        if is_create(intent):
            self.result.creates_in_doubt += 1
            self.result.gate_held += max(0.0, self._now() - doubt.since)

    def _report_lag(self) -> None:
        """Say so, with the figures, each time the history is seen lagging further past
        --history-lag (the doubts wait that much longer; no new create is sent)."""
        seen = self.client.clock.history_lag_seen
        if not seen or seen < self.timing.history_lag or seen < self._lag_reported + 30:
            return
        self._lag_reported = seen
        self.reporter.note(
            f"the job history lags: a job this workspace made was still not listed {seen:.0f}s "
            f"after its POST (--history-lag {self.timing.history_lag:g}s); jobs in doubt are "
            "judged on the lag seen, not the setting, and no new create is sent"
        )

    def _settle(self, doubt: Doubt, intent: Intent, verdict: Verdict) -> None:
        what = f"{doubt.chain.address}: the {intent.step_id or intent.action} job"
        if verdict.kind == "wait":
            self._keep_waiting(doubt, intent, verdict, what)
            return
        del self.doubts[doubt.intent_id]
        self._gate_released(doubt, intent)
        try:
            self._conclude(doubt, intent, verdict, what)
        except BaseException:  # the outcome may not be recorded: the window keeps the gate
            if doubt.claim is not None:
                self.registry.leave(doubt.claim)
            raise
        self._release_doubt(doubt)  # the outcome is recorded: the gate is free

    def _release_doubt(self, doubt: Doubt) -> None:
        if doubt.claim is not None:
            self.registry.release(doubt.claim)
            self._free(doubt.key)
        else:
            self.registry.settle(doubt.key, doubt.intent_id)

    def _conclude(self, doubt: Doubt, intent: Intent, verdict: Verdict, what: str) -> None:
        chain, address = doubt.chain, doubt.chain.address
        if verdict.kind == "adopt" and verdict.job is not None:
            job = verdict.job.model_dump(mode="json", exclude_none=True)
            self.reporter.note(f"{what} is {job['job_id']}: {verdict.reason}")
            if doubt.own and chain.action is not None:
                self._submitted(chain, chain.action, intent.intent_id, job)
                return
            for event in adopted(address, intent.intent_id, job):
                self.record(event)
            self.registry.record_jobs({job["job_id"]})
            self._replan(chain)
        elif verdict.kind == "reissue":
            self.record(
                IntentDropped(address=address, intent_id=intent.intent_id, reason=verdict.reason)
            )
            self.reporter.note(f"{what} was never created ({verdict.reason}); sending it again")
            if doubt.own:
                self._queue(chain)
            else:
                self._replan(chain)
        else:
            quarantine = Quarantine(
                reason=verdict.reason,
                candidates=list(verdict.candidates),
                intent_id=intent.intent_id,
            )
            self.record(Quarantined(address=address, quarantine=quarantine))
            action = chain.action or chain.current()
            assert action is not None
            self._fail(
                chain, action, quarantine_advice(address, verdict.reason, verdict.candidates)
            )

    def _keep_waiting(self, doubt: Doubt, intent: Intent, verdict: Verdict, what: str) -> None:
        chain = doubt.chain
        now = self.client.clock.now()
        # (judged on the lag seen when it is longer than the setting, as its verdict was)
        timing = in_force(self.timing, self.client.clock)
        give_up = complete_at(intent, timing) + self.options.max_doubt_wait
        if self.stopping or now > give_up:
            # Leave it open: the intent stays in the state, and the next run resolves it.
            del self.doubts[doubt.intent_id]
            self._gate_released(doubt, intent)
            if doubt.claim is not None:
                self.registry.leave(doubt.claim)  # its window stays recorded with the gate
                self._free(doubt.key)  # what waited for it asks the registry again
            self._end(chain, "stopped")
            self.result.left_in_doubt.append(chain.address)
            self.reporter.note(f"{what} is left in doubt ({verdict.reason}); run apply again later")
            return
        if verdict.until is not None:
            # Read again as soon as the evidence is complete, not at the next tick: a create's
            # gate holds every project creation meanwhile. (A wait with `until` means the last
            # read was before it: the next read, a moment later at least, moves past it.)
            left = verdict.until - self.client.clock.earliest()
            at = self._now() + max(left, RE_READ) + COMPLETE_MARGIN
            self._tick_due = min(self._tick_due, at)
        if not doubt.reported:
            doubt.reported = True
            until = f" until {self._clock_text(verdict.until)}" if verdict.until else ""
            self.reporter.note(f"{what}: waiting for evidence{until} ({verdict.reason})")
