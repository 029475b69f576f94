"""The spend report (state/spend.py): every recorded job's cost, per project, step, model, day
and ISO week, forgotten projects' past included."""

from __future__ import annotations

from descript_iac.state.document import ImportRecord, ProjectState, StateDocument, StepRecord
from descript_iac.state.spend import spend_report


def _step(sid: str, credits: float, model: str | None, when: str) -> StepRecord:
    return StepRecord(
        id=sid, digest="sha256:x", job_id=f"job-{sid}", status="success",
        ai_credits_used=credits, model=model, created_at=when,
    )  # fmt: skip


def test_spend_adds_up_by_project_model_day_and_week() -> None:
    doc = StateDocument()
    doc.projects["ep"] = ProjectState(
        project_id="p1",
        import_=ImportRecord(
            job_id="job-i", media_seconds_used=70, created_at="2026-11-30T10:00:00Z"
        ),
        steps=[
            _step("a", 8, None, "2026-11-30T10:05:00Z"),
            _step("b", 20, "fast", "2026-12-01T09:00:00Z"),
        ],
    )
    doc.forgotten["old"] = [
        ProjectState(project_id="p0", steps=[_step("x", 5, "fast", "2026-12-01T12:00:00Z")])
    ]
    report = spend_report(doc)
    assert (report.total.media_seconds, report.total.ai_credits, report.total.jobs) == (70, 33, 4)
    assert report.projects["old"].ai_credits == 5  # what was paid stays paid
    assert report.models["fast"].ai_credits == 25 and report.models["default"].ai_credits == 8
    assert report.days["2026-11-30"].ai_credits == 8 and report.days["2026-12-01"].ai_credits == 25
    assert report.weeks["2026-W49"].jobs == 4  # Monday 30 November to Sunday 6 December
    assert spend_report(doc, {"ep"}).total.ai_credits == 28
