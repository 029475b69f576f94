"""Sending the ready POSTs: as many at once as their gates, the workers and the rate budget
allow, each holding its drive gate until its job is known; and what their replies mean."""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any

from descript_iac.api import InFlight, OutcomeUnknown
from descript_iac.api.capabilities import Feature
from descript_iac.api.errors import (
    ApiError,
    NotSupported,
    PaymentRequired,
    TransportFailure,
)
from descript_iac.api.models import AGENT_JOB
from descript_iac.api.ratelimit import Ticket
from descript_iac.apply.chain import Chain, Doubt, Flight
from descript_iac.apply.evidence import in_force
from descript_iac.apply.outgoing import gate_of, intent_kind, outgoing
from descript_iac.apply.run_state import RunState
from descript_iac.apply.sending import Abandoned, Reply, Stamp
from descript_iac.errors import DescriptIacError
from descript_iac.failpoints import failpoint
from descript_iac.plan.model import Action
from descript_iac.state.drive import Blocked, gate_key
from descript_iac.state.events import (
    IntentDropped,
    IntentOpened,
    IntentSent,
    IntentUnknown,
    JobSubmitted,
)

RESEND_STAMP = 0.25  # seconds after the intent's stamp from which an attempt's time is journaled
# Seconds after a lost reply at which the history is first read for its job (at most the poll
# interval): what the server did shows there a moment later. Reading sooner decides nothing
# sooner but a confirmed create (resolve.py); the rest waits for complete evidence all the same.
FIRST_LOOK = 0.5


class Dispatching(RunState):
    def _dispatch(self) -> None:
        """Send the ready POSTs that the gates, the workers and the rate budget allow."""
        limiter = self.client.limiter
        while self._ready and len(self._flights) < self.options.max_in_flight:
            chain = self._ready[0][-1]
            action = chain.current()
            assert action is not None
            key = gate_of(action, self.doc, chain.address)
            if self.stopping:
                heapq.heappop(self._ready)
                self._end(chain, "stopped")
                self._next_parked(key)  # which ends them too
                continue
            if key in self._held:  # this run's POST of the same gate is in flight or in doubt
                heapq.heappop(self._ready)
                chain.state = "parked"
                self._parked.setdefault(key, deque()).append(chain)
                if self._held[key] == "doubt":
                    self._report_blocked(chain, Blocked(key, "this process", None))
                continue
            over = self.spending.refusal(action, self.result.ai_credits, self.result.media_seconds)
            if over is not None and over.project is None:
                # the apply's budget: nothing new is sent, the rest is left for the next apply
                self.stopping = True
                self.result.stopped_reason = f"the budget would be passed: {over.reason}"
                continue
            if over is not None:  # the project's own budget: the rest of it waits, others go on
                heapq.heappop(self._ready)
                self._end(chain, "stopped")
                self.result.held_by_budget.setdefault(chain.address, over.reason)
                self._next_parked(key)
                continue
            lone = self._lone(action)
            if lone and self._flights:
                return  # it goes alone: once the POSTs in flight have landed
            self._keep = self._reserve(chain.left)
            ticket = limiter.try_acquire(self._keep)
            if ticket is None:
                return
            heapq.heappop(self._ready)
            flight = self._submit(chain, action, ticket)
            if flight is None and chain.state != "blocked":
                self._next_parked(key)  # it failed before sending: the gate is free
            if lone and flight is not None:
                while flight.key in self._flights:  # nothing else happens until it landed
                    message = self._sender.next(None)
                    assert message is not None
                    self._handle(message)

    def _reserve(self, left: int) -> int:
        """Tokens kept back from a chain with `left` actions left, for the chains parked behind
        a gate's POST in flight that have more actions left (the critical path: every create
        shares one gate). They go one after another, each once the one before landed: as many
        as their turnaround lets fit in what is left of the rate limit's window. Without that,
        the chains with fewer actions would spend each window's budget at its start, and the
        longest chains would go at the pace of one or two round trips per window."""
        window = self.client.limiter.window_left()
        if not window:
            return 0  # not paced, or a new window: nothing to keep
        fits = int(window / self._turnaround) if self._turnaround else 1
        keep = 0
        for key, held in self._held.items():
            if held == "flight" and (parked := self._parked.get(key)) and parked[0].left > left:
                keep += max(1, min(len(parked), fits))
        return keep

    def _lone(self, action: Action) -> bool:
        """Whether the action's POST is sent alone: nothing else in flight, and nothing else
        done (no poll, no journal write) until its reply is recorded, so that no crash can leave
        it in doubt but its own. That is a prompt-only create where the API has no projects
        endpoints: lost, nothing but a person can tell its job from another client's."""
        if action.job_type != AGENT_JOB or intent_kind(action) != "create":
            return False
        if self._projects_api is None:
            self._projects_api = self.client.capabilities().has(Feature.PROJECTS)
        return not self._projects_api

    def _submit(self, chain: Chain, action: Action, ticket: Ticket) -> Flight | None:
        limiter = self.client.limiter
        try:
            intent, send = outgoing(
                self.client,
                self.doc,
                self.workspace,
                chain.address,
                action,
                self.options.callback_url,
            )
            intent.commit_span = self.options.timing.commit_span
            # The lag seen, when longer than the setting, and the offset measured so far are
            # recorded too: no later run judges this intent with less.
            intent.history_lag = in_force(self.options.timing, self.client.clock).history_lag
            clock = self.client.clock
            intent.clock_skew = clock.job_skew if clock.job_samples else None
        except DescriptIacError as exc:  # nothing was sent: e.g. a composition the import lacks
            limiter.release(ticket)
            self._fail(chain, action, str(exc))
            return None
        alarm = self._lag_alarm() if intent.project_id is None else None
        if alarm is not None:  # a create's gate stays shut while the history lags past it
            limiter.release(ticket)
            self._fail(chain, action, alarm)
            return None
        key = gate_key(intent.job_type, intent.project_id)
        end = self._window_end(intent.sent_at, intent.clock_error)
        claim = self.registry.claim(key, intent.intent_id, end, self.client.clock.now())
        if isinstance(claim, Blocked):
            limiter.release(ticket)
            chain.state = "blocked"
            self._waiting_gate.append(chain)
            self._report_blocked(chain, claim)
            return None
        self.blocked.pop(chain.address, None)
        try:
            self.record(IntentOpened(address=chain.address, intent=intent))
        except BaseException:
            limiter.release(ticket)
            self.registry.release(claim)
            raise
        failpoint("after_intent")
        chain.action = action
        chain.state = "flying"
        flight = Flight(chain, action, intent, claim, key, self._now())
        self._flights[key] = flight
        self.spending.sent(action)
        self._held[key] = "flight"
        sender = self._sender

        def on_send(sent_at: float, error: float) -> None:
            # On the worker's thread, just before each attempt goes out: an attempt later than
            # the intent's stamp, or a retry, is journaled first (by this engine's thread).
            flight.attempts += 1
            if flight.attempts == 1 and sent_at - intent.sent_at <= RESEND_STAMP:
                sender.check()
                return
            sender.stamp(flight, sent_at, error)

        sender.start(flight, lambda hook: send(hook, ticket), on_send)
        return flight

    def _handle(self, message: Stamp | Reply) -> None:
        flight: Flight = message.flight
        if isinstance(message, Stamp):
            if self.stopping:  # Ctrl-C or a 402: a retry not sent yet stays unsent
                message.answer(False)
                return
            try:
                self.record(
                    IntentSent(
                        address=flight.chain.address,
                        intent_id=flight.intent.intent_id,
                        sent_at=message.sent_at,
                        clock_error=message.error,
                    )
                )
                self.registry.extend(flight.claim, self._window_end(message.sent_at, message.error))
            except BaseException:
                message.answer(False)
                raise
            message.answer(True)
            return
        del self._flights[flight.key]
        # Every POST the server may have acted on counts, answered or not: a lost reply, a 5xx
        # and a re-sent intent each (9 sent never reads 8 issued); a 429 or another refusal,
        # and a request that never left, prove nothing was made.
        if message.error is None or isinstance(message.error, OutcomeUnknown):
            self.result.jobs_issued += 1
        took = self._now() - flight.started
        self._turnaround = took if self._turnaround is None else (self._turnaround + took) / 2
        self._replied(flight, message)

    def _replied(self, flight: Flight, reply: Reply) -> None:
        chain, action, intent, claim = flight.chain, flight.action, flight.intent, flight.claim
        exc = reply.error
        if isinstance(exc, OutcomeUnknown):
            self.record(
                IntentUnknown(address=chain.address, intent_id=intent.intent_id, reason=exc.reason)
            )
            now = self._now()
            first = now + min(FIRST_LOOK, self.options.poll_interval)
            self.doubts[intent.intent_id] = Doubt(
                chain, intent.intent_id, flight.key, claim, own=True, since=now, not_before=first
            )
            self._held[flight.key] = "doubt"
            chain.state = "waiting"
            # The history is read a moment after the reply was lost at the earliest: what the
            # server did shows there a bit later.
            self._tick_due = min(self._tick_due, first)
            self.reporter.note(f"{chain.address}: {exc}")
            for parked in self._parked.get(flight.key, []):
                self._report_blocked(parked, Blocked(flight.key, "this process", None))
            return
        if isinstance(exc, Abandoned):
            # Its retry was refused above: every earlier attempt was refused by the server
            # (only those are retried), so nothing was made. The intent closes; the next run
            # sends the job.
            self.record(
                IntentDropped(
                    address=chain.address,
                    intent_id=intent.intent_id,
                    reason="not sent: the run stopped before its retry went out",
                )
            )
            self.registry.release(claim)
            self._free(flight.key)
            self._end(chain, "stopped")
            return
        if isinstance(exc, PaymentRequired):
            self._refused(flight, exc)
            self.stopping = True
            self.result.stopped_reason = "out of credits (402): nothing new was sent after it"
            return
        if isinstance(exc, (ApiError, TransportFailure, NotSupported)):
            self._refused(flight, exc)
            return
        if exc is not None:  # anything else is a bug or an interrupt, raised here as if the
            raise exc  # call had been made here
        assert reply.created is not None
        failpoint("after_post")
        self._submitted(chain, action, intent.intent_id, reply.created.model_dump())
        self.registry.release(claim)
        self._free(flight.key)
        failpoint("after_job_recorded")

    def _refused(self, flight: Flight, exc: Exception) -> None:
        # The server did nothing (a reply that proves it, or no connection): the intent closes.
        chain = flight.chain
        self.record(
            IntentDropped(
                address=chain.address, intent_id=flight.intent.intent_id, reason=f"refused: {exc}"
            )
        )
        self.registry.release(flight.claim)
        self._free(flight.key)
        self._fail(chain, flight.action, str(exc))

    def _submitted(
        self, chain: Chain, action: Action, intent_id: str, reply: dict[str, Any]
    ) -> None:
        intent = next(
            i for i in self.doc.projects[chain.address].intents if i.intent_id == intent_id
        )
        self.record(
            JobSubmitted(
                address=chain.address,
                intent_id=intent_id,
                job_id=reply["job_id"],
                project_id=reply.get("project_id"),
                drive_id=reply.get("drive_id"),
                project_url=reply.get("project_url"),
            )
        )
        self.registry.record_jobs({reply["job_id"]})
        # Stamped between its last send and now: its `created_at` will measure the offset of
        # the job store's clock from the `Date` clock (api/clock.py).
        self.client.clock.replied(reply["job_id"], intent.sent_at, intent.clock_error)
        self.schedule.sent(intent.job_type, self._now(), alone=not self._running)
        chain.action = action
        self.reporter.submitted(chain.address, action.label, reply["job_id"])
        self._run(chain, InFlight(reply["job_id"], intent.job_type, intent.sent_at))
