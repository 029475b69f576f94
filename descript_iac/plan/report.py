"""The JSON form of a plan (`plan --format json`, `show --json`): its schema is
`schemas/plan.schema.json`, generated from the models here.

The models are the schema; the document itself is built as plain values with exactly the
models' fields (a plan of 10,000 projects has 40,000 actions: validating models of values the
plan just built, then dumping them, took 3 s), and serialized by msgspec when that gives the same
bytes as `json.dumps(indent=2, sort_keys=True)` (ASCII text, 64-bit integers).
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from pydantic import BaseModel, ConfigDict

from descript_iac.plan.model import PLAN_FORMAT_VERSION, Action, Plan
from descript_iac.plan.render import no_changes_line
from descript_iac.redact import redact


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SentReport(_Strict):
    kind: str  # media | composition
    name: str
    detail: str  # URL without its query string, tracks or clips; *** for a secret


class SettingReport(_Strict):
    what: str  # name | team_access | folder | callback_url | export | composition | media_type ...
    value: str  # a callback URL without its query string; *** for a secret


class ChangeReport(_Strict):
    what: str
    old: str | None  # None: absent
    new: str | None
    old_known: bool  # False: the state did not record the old value (format < 3)


class ActionReport(_Strict):
    address: str
    action: str
    symbol: str
    step_id: str | None
    job_type: str | None
    reason: str
    before: str | None
    after: str | None
    media: list[str]
    compositions: list[str]
    prompt: str | None  # the prompt a step sends (*** when it comes from the environment)
    model: str | None
    sends: list[SentReport]
    # What else the job sends or sets up: a create's name, team access, folder, callback URL
    # and exports; the composition a step works on; a publish's settings.
    settings: list[SettingReport] = []
    changes: list[ChangeReport]
    moved_from: str | None


class DriftReport(_Strict):
    address: str
    kind: str  # job | renamed | media_removed | composition_removed
    detail: str
    job_id: str | None


class ExistingReport(_Strict):
    address: str
    verdict: str  # exists | ambiguous | unproven
    detail: str
    project_ids: list[str]
    way_on: str  # the command to run: import ADDRESS ID, or --new-state


class PriorState(_Strict):
    lineage: str
    serial: int


class PlanReport(_Strict):
    """The JSON form of a plan (`plan --format json`)."""

    format_version: int
    prior_state: PriorState
    config_digest: str
    actions: list[ActionReport]
    summary: dict[str, int]
    estimated_jobs: int
    up_to_date: list[str]
    untargeted: list[str]
    blocked: bool
    drift: list[DriftReport]
    # Creates the drive shows may exist already (`--refresh`): apply creates none of them.
    existing: list[ExistingReport] = []
    text_summary: str
    # What the jobs will cost (plan/forecast.py `as_json`); absent with `--forecast off`.
    forecast: dict[str, Any] | None = None


def report(plan: Plan) -> PlanReport:
    """The JSON form as a validated model (what `report_data` gives, checked)."""
    return PlanReport.model_validate(report_data(plan))


def _action(a: Action) -> dict[str, Any]:
    return {
        "address": a.address,
        "action": a.kind.value,
        "symbol": a.symbol,
        "step_id": a.step_id,
        "job_type": a.job_type,
        "reason": a.reason,
        "before": a.before,
        "after": a.after,
        "media": list(a.media),
        "compositions": list(a.compositions),
        "prompt": a.prompt,
        "model": a.model,
        "sends": [{"kind": x.kind, "name": x.name, "detail": x.detail} for x in a.sends],
        "settings": [{"what": x.what, "value": x.value} for x in a.settings],
        "changes": [
            {"what": c.what, "old": c.old, "new": c.new, "old_known": c.old_known}
            for c in a.changes
        ],
        "moved_from": a.moved_from,
    }


def report_data(plan: Plan) -> dict[str, Any]:
    """The JSON form as plain values: `PlanReport(...).model_dump(mode="json")`, built directly."""
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "prior_state": {"lineage": plan.lineage, "serial": plan.serial},
        "config_digest": plan.config_digest,
        "actions": [_action(a) for a in plan.actions],
        "summary": {**plan.counts, "up_to_date": len(plan.up_to_date)},
        "estimated_jobs": plan.estimated_jobs,
        "up_to_date": list(plan.up_to_date),
        "untargeted": list(plan.untargeted),
        "blocked": bool(plan.blocked),
        "drift": [
            {"address": d.address, "kind": d.kind, "detail": d.detail, "job_id": d.job_id}
            for d in plan.drift
        ],
        "existing": [
            {
                "address": e.address,
                "verdict": e.verdict,
                "detail": e.detail,
                "project_ids": list(e.project_ids),
                "way_on": e.way_on,
            }
            for e in plan.existing
        ],
        "text_summary": plan.summary() if plan.has_changes else no_changes_line(plan),
    }


def dumps_indented(data: Any) -> str:
    """`json.dumps(data, indent=2, sort_keys=True)`, byte for byte, 10x faster for a large plan,
    for data without floats (a plan's report has none: its schema has no number).

    msgspec (sorted keys, then `msgspec.json.format` with an indent of 2) writes the same text
    for strings, 64-bit integers, booleans, None, lists and dicts, except that `json` escapes
    every character outside printable ASCII (non-ASCII, DEL) and orders keys by code point where
    msgspec orders by UTF-8 bytes (the same for ASCII): so the msgspec text is used only when it
    is all printable ASCII (its escapes of control characters are `json`'s; a test compares the
    two on generated data), and `json` writes the rest."""
    try:
        fast = msgspec.json.format(
            msgspec.json.encode(data, order="sorted", enc_hook=_refuse), indent=2
        )
    except (TypeError, OverflowError):  # an integer beyond 64 bits, a key that is not a string
        return json.dumps(data, indent=2, sort_keys=True)
    if fast.isascii() and b"\x7f" not in fast:
        return fast.decode("ascii")
    return json.dumps(data, indent=2, sort_keys=True)


def _refuse(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


def render_json(plan: Plan, forecast: dict[str, Any] | None = None) -> str:
    data = report_data(plan)
    if forecast is not None:
        data["forecast"] = forecast
    return redact(dumps_indented(data)) + "\n"


def plan_schema() -> dict[str, Any]:
    schema = PlanReport.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def render_plan_schema() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True) + "\n"
