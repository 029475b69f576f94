"""Keep the emulator's projects and jobs across restarts (`--data-dir`), with diskcache.

Records are written in their stored form (`to_stored`), which holds no prompt text and no
callback URL query string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import diskcache

from descript_iac.emulator.records import JobRecord, ProjectRecord


class DiskStore:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(str(directory))

    def load(self) -> tuple[dict[str, ProjectRecord], dict[str, JobRecord], dict[str, Any]]:
        projects: dict[str, ProjectRecord] = {}
        jobs: dict[str, JobRecord] = {}
        for key in self._cache.iterkeys():
            value = self._cache.get(key)
            if key.startswith("project:"):
                projects[value["project_id"]] = ProjectRecord.from_stored(value)
            elif key.startswith("job:"):
                jobs[value["job_id"]] = JobRecord.from_stored(value)
        meta = self._cache.get("meta", {})
        return projects, jobs, meta

    def save_project(self, project: ProjectRecord) -> None:
        self._cache.set(f"project:{project.project_id}", project.to_stored())

    def save_job(self, job: JobRecord) -> None:
        self._cache.set(f"job:{job.job_id}", job.to_stored())

    def save_meta(self, meta: dict[str, Any]) -> None:
        self._cache.set("meta", meta)

    def clear(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        self._cache.close()
