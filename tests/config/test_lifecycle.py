"""The declarations of a project's later life are checked at their file:line: a step's
composition, exports, folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import run_cli, write_workspace

BASE = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "https://cdn.example.com/host.wav"}
    compositions:
      - name: Full episode
        clips: [{media: host.wav}]
        publish: {resolution: 1080p}
      - name: Trailer
        clips: [{media: host.wav}]
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "    steps:\n      - {id: a, prompt: x, composition: Full episod}\n",
            "main.yaml:13:41: step targets composition 'Full episod', which the project does not "
            "declare (the project declares Full episode, Trailer); did you mean 'Full episode'?",
        ),
        (
            "    exports:\n      - {composition: Trailer, subtitles: t.vtt}\n",
            "main.yaml:13:23: composition 'Trailer' has no 'publish:' in this project, so it has "
            "no share page to export from",
        ),
        (
            "    exports:\n      - {published: abc, composition: Full episode, subtitles: t.vtt}\n",
            "main.yaml:13:9: an export names either 'published' (a slug) or 'composition'",
        ),
        (
            "    exports:\n      - {published: abc}\n",
            "main.yaml:13:9: an export writes 'subtitles', 'metadata' or both",
        ),
        (
            "    exports:\n      - {published: abc, subtitles: ../outside.vtt}\n",
            "main.yaml:13:37: subtitles must not contain '..'",
        ),
        (
            "    exports:\n      - {published: abc, subtitles: a.vtt}\n"
            "      - {published: def, subtitles: a.vtt}\n",
            "main.yaml:14:37: a.vtt is written by export 1 too",
        ),
        (
            "    exports:\n      - {published: abc, metadata: other.yaml}\n",
            "main.yaml:13:36: other.yaml would be read as a workspace file",
        ),
        ("    folder: Clients//Acme\n", "main.yaml:12:13: folder has an empty folder segment"),
    ],
)
def test_each_problem_at_its_line(tmp_path: Path, extra: str, message: str) -> None:
    root = write_workspace(tmp_path / "ws", {"main.yaml": BASE + extra})
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    assert message in result.output, result.output


def test_a_folder_on_a_prompt_only_project_is_refused(tmp_path: Path) -> None:
    text = "version: 1\nprojects:\n  s:\n    folder: A\n    steps: [{id: a, prompt: x}]\n"
    root = write_workspace(tmp_path / "ws", {"main.yaml": text})
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    assert "main.yaml:4:13: folder applies to a project made by an import" in result.output


def test_an_unknown_publish_setting_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("resolution: 1080p", "resolution: 8K")
    root = write_workspace(tmp_path / "ws", {"main.yaml": text})
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    assert "main.yaml:9:31: 'resolution' must be one of '480p', '720p', '1080p'" in result.output
