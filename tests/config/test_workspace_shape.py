"""A workspace may be shaped as its users like: one large file works as well as many small ones
(issue #29). The 10,000-project timings are in benchmarks/workspace_shape.py."""

from __future__ import annotations

from pathlib import Path

from descript_iac.config import load_workspace
from descript_iac.config.files import MAX_FILE_BYTES
from tests.builders import run_cli

# The benchmark's shape (benchmarks/workload.py): 5 media, one pre-signed through `${env:}`.
EPISODE = """  ep-{i:05d}:
    name: "Episode {i}"
    media:
      Misc/intro.mp4: {{url: "https://cdn.example.com/show/intro.mp4"}}
      Misc/outro.mp4: {{url: "https://cdn.example.com/show/outro.mp4", revision: 2}}
      raw/host.wav: {{url: "https://cdn.example.com/ep{i}/host.wav?${{env:SIG}}"}}
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
ENV = {"SIG": "X-Amz-Signature=0123456789abcdef"}


def test_one_file_of_5000_projects_validates_and_plans(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    body = "".join(EPISODE.format(i=i) for i in range(5_000))
    big = root / "episodes.yaml"
    big.write_text(f"version: 1\nprojects:\n{body}")
    # Over 200,000 values, with no alias at all: under the file limit, so it is read whole.
    assert 3_000_000 < big.stat().st_size < MAX_FILE_BYTES
    validated = run_cli("validate", str(root), env=ENV)
    assert validated.exit_code == 0, validated.output
    planned = run_cli("plan", str(root), "--forecast", "off", env=ENV)
    assert planned.exit_code == 0, planned.output
    assert "5000 projects to create" in planned.output
    # Each project keeps its own secret path, and only its own.
    workspace = load_workspace(root, ENV)
    for address in ("ep-00000", "ep-04999"):
        assert workspace.projects[address].secret_paths == {("media", "raw/host.wav", "url")}
