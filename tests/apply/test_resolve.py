"""Finding the job of an intent whose reply was lost: the matching rules, without I/O."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from descript_iac.api.models import Job
from descript_iac.apply.resolve import resolve_intent
from descript_iac.state.document import Intent

SENT = 1_800_000_000.0


def intent(**kw: object) -> Intent:
    base: dict[str, object] = {
        "intent_id": "i",
        "action": "create",
        "fingerprint": "sha256:x",
        "sent_at": SENT,
        "job_type": "import/project_media",
        "media_names": ["host.wav"],
        "composition_names": ["Full"],
    }
    return Intent.model_validate({**base, **kw})


def job(
    job_id: str,
    *,
    at: float = SENT + 1,
    kind: str = "import/project_media",
    project: str = "p-new",
    media: list[str] | None = None,
    comps: list[str] | None = None,
    stopped: bool = True,
) -> Job:
    body: dict[str, object] = {
        "job_id": job_id,
        "job_type": kind,
        "job_state": "stopped" if stopped else "running",
        "created_at": datetime.fromtimestamp(at, tz=timezone.utc).isoformat(),
        "project_id": project,
    }
    if stopped and kind == "import/project_media":
        body["result"] = {
            "status": "success",
            "media_status": {m: {"status": "success"} for m in (media or ["host.wav"])},
            "created_compositions": [{"id": "c", "name": n} for n in (comps or ["Full"])],
        }
    elif stopped:
        body["result"] = {"status": "success"}
    return Job.model_validate(body)


CASES = [
    ("one match is adopted", intent(), [job("a")], set(), "adopt", "a"),
    ("recorded jobs are never candidates", intent(), [job("a"), job("b")], {"a"}, "adopt", "b"),
    ("outside the window", intent(), [job("a", at=SENT + 3600)], set(), "wait", None),
    ("other media names", intent(), [job("a", media=["guest.wav"])], set(), "wait", None),
    ("other composition names", intent(), [job("a", comps=["Short"])], set(), "wait", None),
    (
        "running import cannot be checked yet but is unique",
        intent(),
        [job("a", stopped=False)],
        set(),
        "adopt",
        "a",
    ),
    ("two candidates quarantine", intent(), [job("a"), job("b")], set(), "quarantine", None),
    (
        "agent step matches its project only",
        intent(action="step", job_type="agent", project_id="p1", step_id="s"),
        [job("a", kind="agent", project="p2"), job("b", kind="agent", project="p1")],
        set(),
        "adopt",
        "b",
    ),
    (
        "prompt-only create skips known projects",
        intent(job_type="agent", media_names=[], composition_names=[]),
        [job("a", kind="agent", project="p-known"), job("b", kind="agent", project="p-new")],
        set(),
        "adopt",
        "b",
    ),
]


@pytest.mark.parametrize(
    ("name", "it", "history", "known", "verdict", "job_id"), CASES, ids=[c[0] for c in CASES]
)
def test_resolution(
    name: str, it: Intent, history: list[Job], known: set[str], verdict: str, job_id: str | None
) -> None:
    result = resolve_intent(it, history, known, {"p-known"}, now=SENT + 5, grace=60)
    assert result.verdict == verdict
    assert (result.job.job_id if result.job else None) == job_id


def test_nothing_found_is_reissued_only_after_the_grace_period() -> None:
    assert resolve_intent(intent(), [], set(), set(), now=SENT + 59, grace=60).verdict == "wait"
    assert resolve_intent(intent(), [], set(), set(), now=SENT + 61, grace=60).verdict == "reissue"


def test_an_intent_older_than_the_history_is_never_reissued() -> None:
    result = resolve_intent(intent(), [], set(), set(), now=SENT + 31 * 86_400, grace=60)
    assert result.verdict == "quarantine" and "30 days" in result.reason
