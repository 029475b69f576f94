"""What the API behind a base URL offers, detected once per run.

The seed-level API (the docs of early 2026) has jobs, status, Edit in Descript and published
projects. The current API (its 2026 OpenAPI document) adds project listing and details, publish
jobs, job cancellation, `folder_name` on imports and `composition_id` on agent jobs. A 404 on
`GET /v1/projects` means the older API. Callers ask for a feature, never for a URL or a version.
"""

from __future__ import annotations

from enum import Enum

import msgspec


class Feature(str, Enum):
    PROJECTS = "projects"  # GET /v1/projects, GET /v1/projects/{id}
    PUBLISH = "publish"  # POST /v1/jobs/publish
    CANCEL = "cancel"  # DELETE /v1/jobs/{id}
    FOLDERS = "folders"  # folder_name on imports
    COMPOSITION_TARGET = "composition_id"  # composition_id on agent jobs
    IMPORT_INTO_EXISTING = "import-into-existing"  # project_id on imports


class Capabilities(msgspec.Struct, frozen=True):
    level: str
    features: frozenset[Feature]

    def has(self, feature: Feature) -> bool:
        return feature in self.features

    def describe(self) -> str:
        names = ", ".join(sorted(f.value for f in self.features)) or "jobs only"
        return f"{self.level} ({names})"


SEED = Capabilities("seed", frozenset())
API_2026 = Capabilities("2026", frozenset(Feature))
