"""What a running apply may still send (apply/spending.py), without I/O: a project with a budget
of its own stops alone, a job in flight or in doubt counts at its high estimate until it
stops, an unknown length never fits a media budget, and the apply's budget stops everything."""

from __future__ import annotations

from descript_iac.apply.spending import Spending
from descript_iac.plan.forecast import Budget, MediaFact, forecast
from descript_iac.plan.model import Action, ActionKind, Plan, PlanOptions, ProjectPlan
from descript_iac.plan.samples import StepSample


def _step(address: str, step: str) -> Action:
    return Action(
        address=address, kind=ActionKind.RUN, reason="new", step_id=step, job_type="agent"
    )


IMPORT = Action(
    address="b", kind=ActionKind.CREATE, reason="new", job_type="import/project_media", media=("x",)
)
A1, A2, B1 = _step("a", "s1"), _step("a", "s2"), _step("b", "s1")


def _spending(budget: Budget) -> Spending:
    plan = Plan(
        lineage="l",
        serial=0,
        config_digest="d",
        options=PlanOptions(),
        projects=(
            ProjectPlan(address="a", where="ws/a.yaml:3", actions=(A1, A2)),
            ProjectPlan(address="b", where="ws/a.yaml:9", actions=(IMPORT, B1)),
        ),
    )
    history = [StepSample("default", c) for c in (4, 6, 10)]  # high end 10 a step
    media = {("b", "x"): MediaFact(None, "answered 403")}
    return Spending(budget, forecast(plan, media, history, {}))


def test_a_project_over_its_own_budget_stops_alone_and_a_job_in_flight_counts() -> None:
    spending = _spending(Budget(projects=(("a", Budget(ai_credits=15)),)))
    assert spending.refusal(A1, 0, 0) is None
    spending.sent(A1)  # in flight (or in doubt): counted at its high end, 10, until it stops
    refused = spending.refusal(A2, 0, 0)
    assert refused is not None and refused.project == "a"
    assert refused.reason == (
        "its AI credit budget (15): 0 spent, up to 10 in flight, up to 10 for step s2"
    )
    assert spending.refusal(B1, 0, 0) is None  # another project goes on
    spending.stopped(A1, 4, 0)  # what it really used: 4 + 10 fits in 15
    assert spending.refusal(A2, 4, 0) is None
    spending.sent(A2)
    spending.stopped(A2, 20, 0)  # it ran over: 24 spent on a
    assert spending.refusal(_step("a", "s3"), 24, 0) is not None


def test_an_unknown_length_never_fits_a_projects_media_budget() -> None:
    spending = _spending(Budget(projects=(("b", Budget(media_seconds=1e6)),)))
    refused = spending.refusal(IMPORT, 0, 0)
    assert refused is not None and refused.project == "b"
    assert "of unknown length" in refused.reason


def test_the_applys_budget_stops_every_project() -> None:
    spending = _spending(Budget(ai_credits=15, projects=(("a", Budget(ai_credits=100)),)))
    spending.sent(A1)
    refused = spending.refusal(B1, 0, 0)
    assert refused is not None and refused.project is None
    assert refused.reason.startswith("the AI credit budget (15)")
