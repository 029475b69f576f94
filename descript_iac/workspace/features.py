"""What the API offers, handed to the plan: detected only when the planned jobs need a feature
beyond the seed-level API (then with one request, once per run)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from descript_iac.config.desired import DesiredProject
from descript_iac.config.validation.moves import Move
from descript_iac.plan import Plan, PlanOptions, compute_plan
from descript_iac.state.document import StateDocument

if TYPE_CHECKING:
    from descript_iac.api import DescriptClient


def with_features(options: PlanOptions, client: DescriptClient) -> PlanOptions:
    """`options` knowing the API's features and level, so the plan blocks what it lacks."""
    found = client.capabilities()
    features = tuple(sorted(f.value for f in found.features))
    return msgspec.structs.replace(options, api_features=features, api_level=found.level)


def checked_plan(
    desired: dict[str, DesiredProject],
    doc: StateDocument,
    options: PlanOptions,
    client: DescriptClient,
    moves: Sequence[Move] = (),
) -> Plan:
    """The plan, with the actions the API cannot run blocked. The API is asked what it offers
    only when a planned job needs more than the seed-level API (publish, folder, composition)."""
    plan = compute_plan(desired, doc, options, moves)
    if not plan.needs:
        return plan
    return compute_plan(desired, doc, with_features(options, client), moves)
