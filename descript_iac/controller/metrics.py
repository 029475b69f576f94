"""Counters the controller keeps, and their Prometheus text exposition (no secret, no prompt:
only names of workspaces, statuses and numbers)."""

from __future__ import annotations

import threading
from collections import Counter

from descript_iac.controller.runs import RunStore


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.jobs: Counter[str] = Counter()  # outcome -> count (submitted, succeeded, failed)
        self.credits = 0.0
        self.callbacks: Counter[str] = Counter()  # accepted, refused
        self.webhooks: Counter[str] = Counter()  # accepted, refused, ignored
        self.fetch_errors = 0

    def job(self, outcome: str) -> None:
        with self._lock:
            self.jobs[outcome] += 1

    def add_credits(self, credits: float) -> None:
        with self._lock:
            self.credits += credits

    def count(self, counter: Counter[str], key: str) -> None:
        with self._lock:
            counter[key] += 1

    def fetch_failed(self) -> None:
        with self._lock:
            self.fetch_errors += 1

    def render(
        self, book: RunStore, queue_depth: int, intents: dict[str, tuple[int, int]] | None = None
    ) -> str:
        runs = Counter((r.workspace, r.status) for r in book.all())
        lines = [
            "# HELP descript_iac_runs Runs by workspace and status.",
            "# TYPE descript_iac_runs gauge",
        ]
        for (workspace, status), n in sorted(runs.items()):
            labels = f'workspace="{_label(workspace)}",status="{status}"'
            lines.append(f"descript_iac_runs{{{labels}}} {n}")
        with self._lock:
            lines += [
                "# HELP descript_iac_jobs_total Jobs by outcome.",
                "# TYPE descript_iac_jobs_total counter",
            ]
            for outcome, n in sorted(self.jobs.items()):
                lines.append(f'descript_iac_jobs_total{{outcome="{outcome}"}} {n}')
            lines += [
                "# HELP descript_iac_ai_credits_total AI credits the applied jobs used.",
                "# TYPE descript_iac_ai_credits_total counter",
                f"descript_iac_ai_credits_total {self.credits:g}",
                "# HELP descript_iac_callbacks_total Job callbacks by outcome.",
                "# TYPE descript_iac_callbacks_total counter",
            ]
            for outcome, n in sorted(self.callbacks.items()):
                lines.append(f'descript_iac_callbacks_total{{outcome="{outcome}"}} {n}')
            lines += [
                "# HELP descript_iac_webhooks_total Push webhooks by outcome.",
                "# TYPE descript_iac_webhooks_total counter",
            ]
            for outcome, n in sorted(self.webhooks.items()):
                lines.append(f'descript_iac_webhooks_total{{outcome="{outcome}"}} {n}')
            lines += [
                "# HELP descript_iac_fetch_errors_total Failed checks of a source.",
                "# TYPE descript_iac_fetch_errors_total counter",
                f"descript_iac_fetch_errors_total {self.fetch_errors}",
            ]
        # The API client's process-wide rate limiter, shared by every workspace's runs.
        from descript_iac.api.ratelimit import shared_limiter

        limiter = shared_limiter()
        lines += [
            "# HELP descript_iac_rate_limit_wait_seconds_total Time runs waited for the API's "
            "rate limit.",
            "# TYPE descript_iac_rate_limit_wait_seconds_total counter",
            f"descript_iac_rate_limit_wait_seconds_total {limiter.waited:g}",
            "# HELP descript_iac_rate_limited_total Requests the API answered 429.",
            "# TYPE descript_iac_rate_limited_total counter",
            f"descript_iac_rate_limited_total {limiter.throttled}",
        ]
        lines += [
            "# HELP descript_iac_queue_depth Runs planned or approved and not yet applied.",
            "# TYPE descript_iac_queue_depth gauge",
            f"descript_iac_queue_depth {queue_depth}",
        ]
        intents = intents or {}
        lines += [
            "# HELP descript_iac_open_intents Jobs journaled whose job id is not yet known, by "
            "workspace (as of its last check).",
            "# TYPE descript_iac_open_intents gauge",
        ]
        for workspace, (n, _) in sorted(intents.items()):
            lines.append(f'descript_iac_open_intents{{workspace="{_label(workspace)}"}} {n}')
        lines += [
            "# HELP descript_iac_in_doubt_intents Open intents sent with an unknown outcome (their "
            "drive gates hold until the job history shows them), by workspace.",
            "# TYPE descript_iac_in_doubt_intents gauge",
        ]
        for workspace, (_, n) in sorted(intents.items()):
            lines.append(f'descript_iac_in_doubt_intents{{workspace="{_label(workspace)}"}} {n}')
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
