"""What an apply did: the result the engine builds and every display reads."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Failure:
    address: str
    label: str
    message: str


@dataclass
class ApplyResult:
    jobs_issued: int = 0
    created: int = 0
    replaced: int = 0
    updated: int = 0
    steps_run: int = 0
    published: int = 0
    forgotten: int = 0
    media_seconds: float = 0.0
    ai_credits: float = 0.0
    unknown_spend: int = 0  # jobs whose numbers were not sane: unknown, not in the sums
    failures: list[Failure] = field(default_factory=list)
    stopped_reason: str | None = None
    # address -> why the rest of its jobs were left for the next apply (its own budget)
    held_by_budget: dict[str, str] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)
    submitted_only: list[str] = field(default_factory=list)
    left_in_doubt: list[str] = field(default_factory=list)
    # For a person (a job left running past the longest wait, a job gone from the history):
    # not failures, but the run did not finish its work, so it does not end as a success.
    attention: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    # Creates whose POST outcome was unknown, and the seconds they held the create gate (every
    # project creation of the drive waits on it) until their outcome was known or left.
    creates_in_doubt: int = 0
    gate_held: float = 0.0
    commit_span: float = 0.0  # the settings in force: the most a create in doubt waits is
    history_lag: float = 0.0  # their sum (seconds)

    def gate_note(self) -> str | None:
        """One line on the creates in doubt, or None if there were none."""
        if not self.creates_in_doubt:
            return None
        return (
            f"Creates waited {self.gate_held:.0f} s on {self.creates_in_doubt} job(s) in doubt "
            f"(at most commit span {self.commit_span:g} s + history lag {self.history_lag:g} s "
            "each; --commit-span and --history-lag lower it where the API's commit behaviour is "
            "known)."
        )

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.stopped_reason is None
            and not self.left_in_doubt
            and not self.attention
            and not self.held_by_budget
        )
