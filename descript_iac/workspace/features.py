"""What the API offers, handed to the plan: detected once per run (one request)."""

from __future__ import annotations

from descript_iac.api import DescriptClient
from descript_iac.plan import PlanOptions


def with_features(options: PlanOptions, client: DescriptClient) -> PlanOptions:
    """`options` knowing the API's features and level, so the plan blocks what it lacks."""
    found = client.capabilities()
    features = tuple(sorted(f.value for f in found.features))
    return options.model_copy(update={"api_features": features, "api_level": found.level})
