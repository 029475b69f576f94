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

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.stopped_reason is None
            and not self.left_in_doubt
            and not self.attention
            and not self.held_by_budget
        )
