"""The policy's decision, table-driven: what applies on its own and what waits."""

from __future__ import annotations

import pytest

from descript_iac.controller.policy import Policy, decide
from descript_iac.controller.webhooks import github_signed, gitlab_signed, pushed, watches
from descript_iac.plan.forecast import Estimate, Forecast
from descript_iac.plan.model import Action, ActionKind, Plan, PlanOptions, ProjectPlan


def _plan(*kinds: ActionKind) -> Plan:
    actions = tuple(Action(kind=k, address="ep", reason="r", step_id="s" if k is ActionKind.RUN else None)
                    for k in kinds)  # fmt: skip
    return Plan(
        lineage="l",
        serial=1,
        config_digest="d",
        options=PlanOptions(),
        projects=(ProjectPlan(address="ep", where="ws/main.yaml:3", actions=actions),),
    )


def _forecast(high: float) -> Forecast:
    return Forecast((), Estimate(0, 0, 0), Estimate(0, high / 2, high), (), ())


@pytest.mark.parametrize(
    ("kinds", "policy", "credits", "auto"),
    [
        ((ActionKind.CREATE, ActionKind.RUN), Policy(), 10, True),
        ((ActionKind.CREATE,), Policy(max_credits=5), 10, False),
        ((ActionKind.CREATE,), Policy(max_credits=50), 10, True),
        ((ActionKind.REPLACE,), Policy(), 0, False),
        ((ActionKind.REPLACE,), Policy(auto_apply=(ActionKind.REPLACE,)), 0, False),
        ((ActionKind.FORGET,), Policy(), 0, False),
        ((ActionKind.BLOCKED,), Policy(), 0, False),
        ((ActionKind.RUN,), Policy(auto_apply=(ActionKind.CREATE,)), 0, False),
        ((ActionKind.CREATE,), Policy(hold_all=True), 0, False),
    ],
)
def test_decide(kinds: tuple[ActionKind, ...], policy: Policy, credits: float, auto: bool) -> None:
    decision = decide(policy, _plan(*kinds), _forecast(credits))
    assert decision.auto is auto
    assert bool(decision.reasons) is not auto


def test_over_budget_says_by_how_much() -> None:
    decision = decide(Policy(max_credits=5), _plan(ActionKind.RUN), _forecast(64))
    assert decision.reasons == ("up to 64 AI credits forecast, over the policy's 5",)


def test_webhook_checks() -> None:
    body = b'{"ref": "refs/heads/main", "repository": {"clone_url": "https://h/acme/shows.git"}}'
    good = "sha256=" + __import__("hmac").new(b"s", body, "sha256").hexdigest()
    assert github_signed(body, good, "s")
    assert not github_signed(body + b" ", good, "s")
    assert not github_signed(body, good, None)  # no secret set: every push is refused
    assert not github_signed(body, None, "s")
    assert gitlab_signed("s", "s") and not gitlab_signed("t", "s") and not gitlab_signed("s", None)
    urls, branch = pushed(body)
    assert branch == "main"
    assert watches("https://user:token@h/acme/shows", urls)
    assert not watches("https://h/acme/other.git", urls)
