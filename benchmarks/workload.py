"""The benchmark workload: a workspace of N projects on disk and its fully applied state.

Each project has 5 media items (4 URLs, one of them pre-signed through `${env:}` as the
README advises, and a 2-track sequence),
1 composition and 3 agent steps: the shape issue #13 measures. Files hold `per_file` projects
(10,000 projects -> 100 files by default).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

EPISODE = """  ep-{i:05d}:
    name: "Episode {i}"
    media:
      Misc/intro.mp4: {{url: "https://cdn.example.com/show/intro.mp4"}}
      Misc/outro.mp4: {{url: "https://cdn.example.com/show/outro.mp4", revision: 2}}
      raw/host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav?${{env:BENCH_SIG}}"}}
      raw/guest.wav: {{url: "https://cdn.example.com/ep{i}/guest.wav", language: en}}
      interview: {{tracks: [{{media: raw/host.wav}}, {{media: raw/guest.wav, offset: 0.35}}]}}
    compositions:
      - name: Full episode
        clips: [{{media: Misc/intro.mp4}}, {{media: interview}}, {{media: Misc/outro.mp4}}]
    steps:
      - {{id: cleanup, prompt: Remove filler words and add Studio Sound}}
      - {{id: captions, prompt: Add karaoke-style captions}}
      - {{id: chapters, prompt: Add chapter markers at each topic change}}
"""


# The value of the variable the pre-signed URLs use (set it when loading the workspace).
ENV = {"BENCH_SIG": "X-Amz-Signature=0123456789abcdef"}


def write_workspace(root: Path, count: int, per_file: int = 100) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for start in range(0, count, per_file):
        body = "".join(EPISODE.format(i=i) for i in range(start, min(count, start + per_file)))
        path = root / f"episodes-{start:05d}.yaml"
        path.write_text(f"version: 1\nprojects:\n{body}")
        files.append(path)
    return files


def applied_state(workspace: Any) -> Any:
    """A state in which every project of `workspace` was imported and all its steps ran."""
    from descript_iac.plan import digests
    from descript_iac.state.document import (
        CompositionRecord,
        ImportRecord,
        MediaRecord,
        ProjectState,
        StateDocument,
        StepRecord,
    )

    doc = StateDocument()
    for address, project in workspace.projects.items():
        facets = digests.import_facets(doc.salt, project)
        doc.projects[address] = ProjectState(
            project_id=str(uuid.uuid4()),
            project_url=f"https://web.descript.com/{uuid.uuid4()}",
            created_by="import",
            facets=facets,
            import_=ImportRecord(
                job_id=str(uuid.uuid4()),
                job_state="stopped",
                status="success",
                media={
                    n: MediaRecord(identity=i, status="success", duration_seconds=61.5)
                    for n, i in facets.media.items()
                },
                compositions=[
                    CompositionRecord(id=str(uuid.uuid4()), name=c.name)
                    for c in project.spec.compositions
                ],
                created_at="2026-01-01T00:00:00Z",
                stopped_at="2026-01-01T00:01:00Z",
            ),
            steps=[
                StepRecord(
                    id=s.id,
                    digest=digests.step_digest(doc.salt, project, s),
                    job_id=str(uuid.uuid4()),
                    job_state="stopped",
                    status="success",
                    agent_response="Done! I've made the edit.",
                    ai_credits_used=1.5,
                    created_at="2026-01-01T00:02:00Z",
                    stopped_at="2026-01-01T00:03:00Z",
                )
                for s in project.spec.steps
            ],
        )
    return doc
