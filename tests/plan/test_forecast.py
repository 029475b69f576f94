"""The cost forecast's rules, without I/O (plan/forecast.py): probed media exact, unknown media
never zero, credits from this drive's history per model, budgets judged by the high end."""

from __future__ import annotations

from descript_iac.plan.forecast import (
    DEFAULT_CREDITS,
    Budget,
    Estimate,
    MediaFact,
    credit_estimate,
    forecast,
    over_budget,
    text_lines,
)
from descript_iac.plan.model import Action, ActionKind, Plan, PlanOptions, ProjectPlan
from descript_iac.plan.samples import StepSample


def _plan(*actions: Action) -> Plan:
    return Plan(
        lineage="l",
        serial=0,
        config_digest="d",
        options=PlanOptions(),
        projects=(ProjectPlan(address="ep", where="ws/a.yaml:3", actions=actions),),
    )


CREATE = Action(
    address="ep",
    kind=ActionKind.CREATE,
    reason="new",
    job_type="import/project_media",
    media=("a.wav", "b.wav", "seq"),
)
STEP = Action(address="ep", kind=ActionKind.RUN, reason="new", step_id="s1", job_type="agent")


def test_probed_media_are_exact_and_a_sequence_adds_nothing() -> None:
    media = {
        ("ep", "a.wav"): MediaFact(10.25),
        ("ep", "b.wav"): MediaFact(5.0),
        ("ep", "seq"): MediaFact(None, sequence=True),
    }
    found = forecast(_plan(CREATE), media, [], {})
    assert found.media_seconds == Estimate(15.25, 15.25, 16.0)  # billed in whole seconds
    assert found.complete
    assert any("multitrack" in n for n in found.notes)


def test_an_unknown_media_item_is_never_zero() -> None:
    media = {("ep", "a.wav"): MediaFact(10.0), ("ep", "b.wav"): MediaFact(None, "answered 403")}
    found = forecast(_plan(CREATE), media, [], {})
    assert not found.complete and found.unknown_media == 1
    assert "at least 10 media seconds (1 unknown)" in text_lines(found)[0]
    assert "b.wav (answered 403)" in text_lines(found)[1]
    # a media budget cannot be judged with an unknown length: refused, never assumed to fit
    assert over_budget(found, Budget(media_seconds=1e6))


def test_credits_come_from_the_models_own_history_then_every_model_then_the_default() -> None:
    history = [StepSample("fast", c) for c in (2, 4, 6, 8, 100)]
    own, basis = credit_estimate("fast", history)
    assert own == Estimate(2, 6, 100) and "5 recorded step(s) of model fast" in basis
    other, basis = credit_estimate("slow", history)  # too few of its own: all models
    assert other == own and "all models" in basis
    none, basis = credit_estimate("fast", [])
    assert none == Estimate(*DEFAULT_CREDITS) and "default" in basis


def test_the_budget_is_judged_by_the_high_end() -> None:
    history = [StepSample("default", c) for c in (10, 10, 10, 50)]
    found = forecast(_plan(STEP), {}, history, {("ep", "s1"): "default"})
    assert found.ai_credits == Estimate(10, 10, 50)
    assert over_budget(found, Budget(ai_credits=49)) == [
        "up to 50 AI credits forecast, over the budget of 49"
    ]
    assert over_budget(found, Budget(ai_credits=50)) == []
