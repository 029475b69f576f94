"""Structured logs (`serve --log-format json`) with no secret in them, and the in-doubt gauges."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from descript_iac.controller.metrics import Metrics
from descript_iac.controller.reconciler import intent_counts
from descript_iac.controller.runs import RunBook
from descript_iac.state.document import Intent, StateDocument
from tests.builders import TOKEN
from tests.controller.conftest import CONTROLLER_TOKEN, HOOK_SECRET, Served
from tests.controller.test_serve import SHOWS


@pytest.mark.e2e
def test_json_logs_one_object_a_line_naming_workspace_and_run_and_no_secret(
    serve_git: Callable[..., Served],
) -> None:
    served = serve_git({"ws/main.yaml": SHOWS}, serve_args=("--log-format", "json"))
    from tests.controller.test_serve import _head

    run = served.run_for(_head(served), "applied")
    assert served.push_hook(secret="not-the-secret").status_code == 401

    def gauges() -> str | None:
        text = httpx.get(f"{served.url}/metrics").text
        return text if 'descript_iac_open_intents{workspace="shows"} 0' in text else None

    metrics = served.wait_for("the intent gauges", gauges)
    assert 'descript_iac_in_doubt_intents{workspace="shows"} 0' in metrics

    text = served.log.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("Serving on ")]
    records = [json.loads(line) for line in lines]  # every log line is one JSON object
    assert records and all(
        set(r) >= {"time", "level", "event", "workspace", "run"} for r in records
    )
    assert any(
        r["workspace"] == "shows" and r["run"] == run["id"] and r["event"].endswith("applied")
        for r in records
    ), records
    assert any(r["event"].startswith("watching shows: file://") for r in records)
    runs = json.loads((served.repo.parent / "data" / "runs.json").read_text())["runs"]
    for secret in (TOKEN, CONTROLLER_TOKEN, HOOK_SECRET, *(r["callback_secret"] for r in runs)):
        assert secret not in text


def _intent(intent_id: str, outcome: str) -> Intent:
    return Intent(
        intent_id=intent_id,
        action="step",
        step_id="cleanup",
        fingerprint="sha256:x",
        sent_at=1.0,
        job_type="agent",
        outcome=outcome,  # type: ignore[arg-type]
    )


def test_open_and_in_doubt_intents_are_counted_per_workspace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = StateDocument()
    doc.project("ep1").intents += [_intent("a", "sending"), _intent("b", "unknown")]
    doc.project("ep2").intents.append(_intent("c", "unknown"))
    assert intent_counts(doc) == (3, 2)
    text = Metrics().render(RunBook(tmp_path / "runs.json"), 0, {"shows": (3, 2), "drafts": (0, 0)})
    assert 'descript_iac_open_intents{workspace="shows"} 3' in text
    assert 'descript_iac_in_doubt_intents{workspace="shows"} 2' in text
    assert 'descript_iac_in_doubt_intents{workspace="drafts"} 0' in text
