"""A project's chain of actions as the engine runs it, a POST in flight, a POST in doubt."""

from __future__ import annotations

from dataclasses import dataclass

from descript_iac.api import InFlight
from descript_iac.plan.model import Action, ProjectPlan
from descript_iac.state.document import Intent
from descript_iac.state.drive import Claim


@dataclass(eq=False)
class Chain:
    plan: ProjectPlan
    index: int = 0
    job: InFlight | None = None
    waiting_since: float = 0.0  # engine clock when this run began to wait for `job`
    action: Action | None = None
    # pending | ready | parked (its gate is this run's) | blocked (another run's) | flying
    # | running | waiting (its POST in doubt) | done | failed | stopped | submitted
    state: str = "pending"

    @property
    def address(self) -> str:
        return self.plan.address

    def current(self) -> Action | None:
        return self.plan.actions[self.index] if self.index < len(self.plan.actions) else None

    @property
    def left(self) -> int:
        return len(self.plan.actions) - self.index


@dataclass(eq=False)
class Flight:
    """A POST handed to a worker: its gate is held until its job is known."""

    chain: Chain
    action: Action
    intent: Intent
    claim: Claim
    key: str
    started: float  # engine clock when it was handed to a worker
    attempts: int = 0


@dataclass
class Doubt:
    chain: Chain
    intent_id: str
    key: str
    claim: Claim | None  # None: the intent of an earlier run (nothing is held for it)
    own: bool  # sent by this run: the chain goes on with the same action once its job is found
    since: float = 0.0  # engine clock when this run began to wait for its evidence
    not_before: float = 0.0  # engine clock before which its evidence is not read
    reported: bool = False


FINAL = frozenset({"done", "failed", "stopped", "submitted"})
