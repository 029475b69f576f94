"""What one apply run keeps while it goes: its chains, the gates it holds, its POSTs in flight and
in doubt, its clock; and what every part of the engine does with a chain (end, fail, queue).

The parts (dispatch.py, doubts.py, polling.py) extend `RunState`; engine.py puts them together."""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from descript_iac.api import BatchPoller, DescriptClient, InFlight
from descript_iac.apply.chain import FINAL, Chain, Doubt, Flight
from descript_iac.apply.evidence import EvidenceReader, desired_names
from descript_iac.apply.options import ApplyOptions
from descript_iac.apply.reporting import Reporter
from descript_iac.apply.result import ApplyResult, Failure
from descript_iac.apply.schedule import PollSchedule
from descript_iac.apply.sending import Sender
from descript_iac.apply.spending import Spending
from descript_iac.config.desired import Workspace
from descript_iac.plan.model import Action, Plan
from descript_iac.state.document import StateDocument
from descript_iac.state.drive import Blocked, DriveRegistry, MemoryDriveRegistry
from descript_iac.state.events import Event


class RunState:
    def __init__(
        self,
        client: DescriptClient,
        doc: StateDocument,
        workspace: Workspace,
        plan: Plan,
        reporter: Reporter,
        record: Callable[[Event], None],
        options: ApplyOptions | None = None,
        registry: DriveRegistry | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.doc = doc
        self.record = record  # journals the event, then applies it to `doc`
        self.workspace = workspace
        self.plan = plan
        self.reporter = reporter
        self.options = options or ApplyOptions()
        self.timing = self.options.timing
        self.registry = registry or MemoryDriveRegistry()
        self.sleep = sleep
        self.poller = BatchPoller(client)
        self.evidence = EvidenceReader(
            client, self.registry, self.timing, desired_names(workspace, doc)
        )
        self.result = ApplyResult()
        self.spending = Spending(self.options.budget, self.options.forecast)
        self.stopping = False
        self.doubts: dict[str, Doubt] = {}  # intent id -> the POST in doubt
        self.blocked: dict[str, str] = {}  # address -> the gate it waits for (reported once)
        self._lag_reported = 0.0  # the history lag last reported as past --history-lag
        self._skipped = 0.0  # time an injected sleep claimed that the clock did not show
        self._sender = Sender(self.options.max_in_flight)
        self._flights: dict[str, Flight] = {}  # gate key -> the POST in flight
        self._held: dict[str, str] = {}  # gate key -> "flight" | "doubt" (this run's)
        self._ready: list[tuple[int, int, int, Chain]] = []  # heap: lone POSTs, longest chains
        self._parked: dict[str, deque[Chain]] = {}  # gate key -> chains waiting for it
        self._waiting_gate: list[Chain] = []  # blocked by another run: tried again each tick
        self._running: dict[str, Chain] = {}  # job id -> its chain
        self._live = 0  # chains started and not over
        self._keep = 0  # tokens the last dispatch kept back for chains that come first
        self._turnaround: float | None = None  # seconds from a POST's start to its reply, lately
        self._order = 0
        base = self.options.poll_interval
        known = client.cache.run_times() if client.cache is not None else {}
        self.schedule = PollSchedule(base, self.options.max_poll_interval, known)
        self._tick_due = 0.0  # next round of doubts and gates held elsewhere
        self._failed_polls = 0
        self._projects_api: bool | None = None  # whether the API has the projects endpoints

    # --- time -----------------------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() + self._skipped

    def _sleep(self, seconds: float) -> None:
        before = self._now()
        self.sleep(seconds)
        # An injected sleep (tests on the emulator's manual clock) need not move the clock.
        self._skipped += max(0.0, seconds - (self._now() - before))

    # --- a chain -------------------------------------------------------------------------

    def _end(self, chain: Chain, state: str) -> None:
        if chain.state not in FINAL:
            self._live -= 1
        chain.state = state

    def _queue(self, chain: Chain) -> None:
        if self.stopping:
            self._end(chain, "stopped")
            return
        chain.state = "ready"
        self._order += 1
        # A POST that goes alone goes first (at the start nothing is in flight to wait for);
        # then the chains with the most actions left.
        action = chain.current()
        alone = action is not None and self._lone(action)
        heapq.heappush(self._ready, (0 if alone else 1, -chain.left, self._order, chain))

    def _free(self, key: str) -> None:
        """This run no longer holds the gate `key`: the next chain waiting for it goes on."""
        self._held.pop(key, None)
        self._next_parked(key)

    def _next_parked(self, key: str) -> None:
        """While nothing holds `key`, the first chain parked on it goes back to the ready ones
        (the others stay parked: only one POST of a gate can go, and waking every one of
        thousands of chains at each release would cost time in proportion to their square)."""
        parked = self._parked.get(key)
        while parked and key not in self._held:
            chain = parked.popleft()
            self._queue(chain)
            if chain.state == "ready":
                break  # else it ended (the run is stopping): the next one
        if parked is not None and not parked:
            del self._parked[key]

    def _run(self, chain: Chain, job: InFlight) -> None:
        """The chain waits for `job` to stop (or, with --no-wait, is done with it)."""
        chain.job = job
        chain.waiting_since = self._now()
        if not self.options.wait:  # --no-wait: a chain is done once its job is sent
            chain.job = None
            self._end(chain, "submitted")
            self.result.submitted_only.append(chain.address)
            return
        chain.state = "running"
        self._running[job.job_id] = chain

    def _lag_alarm(self) -> str | None:
        """Why no new create may be sent, when the job history was seen lagging at least as
        long as --history-lag: a create whose reply was lost could not be judged."""
        seen = self.client.clock.history_lag_seen
        if not seen or seen < self.timing.history_lag:
            return None
        return (
            f"not sent: the job history was seen lagging {seen:.0f}s behind (a job this "
            f"workspace made was still not listed {seen:.0f}s after its POST), at least "
            f"--history-lag {self.timing.history_lag:g}s; a create whose reply is lost could "
            "not be told apart from none. Jobs in doubt wait that much longer. Apply again "
            "later, or with a longer --history-lag"
        )

    def _window_end(self, sent_at: float, error: float) -> float:
        return sent_at + error + self.timing.commit_span

    def _report_blocked(self, chain: Chain, blocked: Blocked) -> None:
        if self.blocked.get(chain.address) == blocked.key:
            return
        self.blocked[chain.address] = blocked.key
        job_type = blocked.key.split("@")[0]
        if blocked.until is not None:
            why = (
                f"a {job_type} job sent by a run that stopped ({blocked.holder}) may still appear "
                f"until {self._clock_text(blocked.until)}"
            )
        else:
            why = f"{blocked.holder} has a {job_type} job in doubt"
        self.reporter.note(f"{chain.address}: waiting: {why}; a look-alike job must not be sent")

    def _clock_text(self, server_time: float) -> str:
        local = server_time - self.client.clock.offset
        return datetime.fromtimestamp(local).strftime("%H:%M:%S")

    def _fail(self, chain: Chain, action: Action, message: str) -> None:
        chain.job = None
        self._end(chain, "failed")
        self.result.failures.append(Failure(chain.address, action.label, message))

    # --- in engine.py and dispatch.py ----------------------------------------------------

    def _advance(self, chain: Chain) -> None:
        raise NotImplementedError

    def _lone(self, action: Action) -> bool:
        raise NotImplementedError

    def _replan(self, chain: Chain) -> None:
        raise NotImplementedError

    def _submitted(
        self, chain: Chain, action: Action, intent_id: str, reply: dict[str, Any]
    ) -> None:
        raise NotImplementedError
