"""Each broken workspace yields its exact message at its exact line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from descript_iac.config import load_workspace, yamlsource
from descript_iac.errors import ConfigError
from tests.builders import run_cli, write_workspace

OK_PROJECT = """version: 1
projects:
  ep:
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
"""

# (name, file text, expected "LINE:COL: message" substring)
CASES = [
    ("yaml syntax", "version: 1\nprojects: [\n", "3:1: YAML syntax error"),
    ("tab indent", "version: 1\nprojects:\n\tep: {}\n", "3:1: tab character in indentation"),
    (
        "duplicate key",
        "version: 1\nversion: 1\nprojects: {}\n",
        "2:1: duplicate key 'version' (first defined at line 1)",
    ),
    (
        "duplicate project key",
        "version: 1\nprojects:\n  ep: {steps: [{id: a, prompt: p}]}\n  ep: {}\n",
        "4:3: duplicate key 'ep'",
    ),
    ("missing version", "projects: {}\n", "1:1: missing required key 'version'"),
    ("version 2", "version: 2\nprojects: {}\n", "1:10: unsupported version 2"),
    ("version string", "version: 'one'\n", "1:10: unsupported version 'one'"),
    ("empty file", "", "1:1: file is empty"),
    ("top level list", "- 1\n", "1:1: top level must be a mapping"),
    (
        "unknown top key",
        "version: 1\nprojcts: {}\n",
        "2:1: unknown key 'projcts'; did you mean 'projects'?",
    ),
    (
        "unknown project key",
        "version: 1\nprojects:\n  ep:\n    nmae: x\n    steps: [{id: a, prompt: p}]\n",
        "4:5: unknown key 'nmae'; did you mean 'name'?",
    ),
    (
        "unknown media key",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://x.io/a.wav', lang: en}\n",
        "5:42: unknown key 'lang'; did you mean 'language'?",
    ),
    (
        "unknown step key",
        "version: 1\nprojects:\n  ep:\n    steps:\n      - {id: a, promt: p}\n",
        "5:17: unknown key 'promt'; did you mean 'prompt'?",
    ),
    (
        "bad team access",
        "version: 1\nprojects:\n  ep:\n    team_access: admin\n    steps: [{id: a, prompt: p}]\n",
        "4:18: 'team_access' must be one of 'edit', 'comment', 'view' or 'none': got 'admin'",
    ),
    (
        "bad defaults team access",
        "version: 1\ndefaults: {team_access: owner}\nprojects: {}\n",
        "2:25: 'team_access' must be one of",
    ),
    (
        "steps not a list",
        "version: 1\nprojects:\n  ep:\n    steps: write a script\n",
        "4:12: 'steps' must be a list, not a string",
    ),
    (
        "media not a mapping",
        "version: 1\nprojects:\n  ep:\n    media: [a.wav]\n",
        "4:12: 'media' must be a mapping, not a list",
    ),
    (
        "prompt not a string",
        "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: [x]}]\n",
        "4:29: 'prompt' must be a string, not a list",
    ),
    (
        "empty prompt",
        "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: ''}]\n",
        "4:29: 'prompt' must not be empty",
    ),
    (
        "missing prompt",
        "version: 1\nprojects:\n  ep:\n    steps:\n      - id: a\n",
        "5:9: missing required key 'prompt'",
    ),
    (
        "duplicate step id",
        "version: 1\nprojects:\n  ep:\n    steps:\n      - {id: a, prompt: x}\n      - {id: a, prompt: y}\n",
        "6:14: duplicate step id 'a' (also step 1)",
    ),
    (
        "bad step id",
        "version: 1\nprojects:\n  ep:\n    steps: [{id: 'a b', prompt: x}]\n",
        "4:18: 'id' may hold letters, digits",
    ),
    (
        "no media no steps",
        "version: 1\nprojects:\n  ep:\n    name: Empty\n",
        "3:3: project 'ep' has no media and no steps",
    ),
    (
        "bad address",
        "version: 1\nprojects:\n  Episode 1:\n    steps: [{id: a, prompt: x}]\n",
        "3:3: project address 'Episode 1' must be a lowercase slug",
    ),
    (
        "ftp url",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'ftp://x.io/a.wav'}\n",
        "5:20: media URL must be an http:// or https:// URL",
    ),
    (
        "url without host",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https:///a.wav'}\n",
        "5:20: media URL has no host",
    ),
    (
        "dotdot media name",
        "version: 1\nprojects:\n  ep:\n    media:\n      ../a.wav: {url: 'https://x.io/a.wav'}\n",
        "5:7: media name must not contain '..'",
    ),
    (
        "absolute media name",
        "version: 1\nprojects:\n  ep:\n    media:\n      /a.wav: {url: 'https://x.io/a.wav'}\n",
        "5:7: media name must be a relative path",
    ),
    (
        "empty segment media name",
        "version: 1\nprojects:\n  ep:\n    media:\n      raw//a.wav: {url: 'https://x.io/a.wav'}\n",
        "5:7: media name has an empty folder segment",
    ),
    (
        "control char media name",
        'version: 1\nprojects:\n  ep:\n    media:\n      "a\\x07.wav": {url: "https://x.io/a.wav"}\n',
        "5:7: media name must not contain control characters",
    ),
    (
        "media item without url or tracks",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {link: 'https://x.io/a.wav'}\n",
        "5:14: media item 'a.wav' needs either 'url' (an import) or 'tracks' (a sequence)",
    ),
    (
        "dangling clip",
        OK_PROJECT + "    compositions:\n      - {name: c, clips: [{media: a.wv}]}\n",
        "7:35: clip names unknown media item 'a.wv'; did you mean 'a.wav'?",
    ),
    (
        "dangling track",
        OK_PROJECT + "      seq: {tracks: [{media: b.wav}]}\n",
        "6:30: track names unknown media item 'b.wav'; did you mean 'a.wav'?",
    ),
    (
        "track names sequence",
        OK_PROJECT
        + "      seq: {tracks: [{media: a.wav}]}\n      seq2: {tracks: [{media: seq}]}\n",
        "7:31: track 'seq' is a sequence; tracks name URL media",
    ),
    (
        "composition without clips",
        OK_PROJECT + "    compositions:\n      - {name: c, clips: []}\n",
        "7:26: 'clips' needs at least one item",
    ),
    (
        "duplicate composition name",
        OK_PROJECT + "    compositions:\n      - {name: c, clips: [{media: a.wav}]}\n"
        "      - {name: c, clips: [{media: a.wav}]}\n",
        "8:16: duplicate composition name 'c'",
    ),
    (
        "negative offset",
        OK_PROJECT + "      seq: {tracks: [{media: a.wav, offset: -1}]}\n",
        "6:45: 'offset' input should be greater than or equal to 0",
    ),
    (
        "zero width",
        OK_PROJECT + "    compositions:\n      - {name: c, width: 0, clips: [{media: a.wav}]}\n",
        "7:26: 'width' input should be greater than 0",
    ),
    (
        "missing env var",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: '${env:NO_SUCH_VAR_X}'}\n",
        "5:20: environment variable NO_SUCH_VAR_X is not set",
    ),
    (
        "bad interpolation",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://x.io/${HOME}'}\n",
        "5:20: cannot interpolate '${HOME}'",
    ),
    (
        "bad callback url",
        "version: 1\nprojects:\n  ep:\n    callback_url: mailto:me@x.io\n    steps: [{id: a, prompt: x}]\n",
        "4:19: callback_url must be an http:// or https:// URL",
    ),
    (
        "bad lifecycle",
        "version: 1\nprojects:\n  ep:\n    lifecycle: {on_change: delete}\n    steps: [{id: a, prompt: x}]\n",
        "4:28: 'on_change' must be one of 'block' or 'replace'",
    ),
    (
        "url and tracks together",
        OK_PROJECT + "      seq: {url: 'https://x.io/s.wav', tracks: [{media: a.wav}]}\n",
        "6:12: media item 'seq' has both 'url' and 'tracks'; they are mutually exclusive",
    ),
    (
        "space in url host",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://cdn exa.com/a.wav'}\n",
        "5:20: media URL has a host with a space or a character not allowed in host names",
    ),
    (
        "bad url port",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://x.io:99999/a.wav'}\n",
        "5:20: media URL has an invalid port",
    ),
    (
        "negative revision",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://x.io/a.wav', revision: -1}\n",
        "5:52: 'revision' must be a whole number (0 or more) or a non-empty label",
    ),
    (
        "boolean revision",
        "version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: 'https://x.io/a.wav', revision: true}\n",
        "5:52: 'revision' must be a whole number (0 or more) or a non-empty label",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_workspace_reports_exact_place(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "main.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    lines = [str(p) for p in info.value.problems]
    assert any(line.endswith(expected) or expected in line for line in lines), lines
    assert all(line.split(":")[0].endswith("main.yaml") for line in lines)


def test_upper_case_suffixes_are_workspace_files(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": "version: 1\nprojects:\n  ep-a: {steps: [{id: a, prompt: p}]}\n",
            "b.YAML": "version: 1\nprojects:\n  ep-b: {steps: [{id: a, prompt: p}]}\n",
            "c.Yml": "version: 1\nprojects:\n  ep-c: {nmae: x}\n",
        },
    )
    with pytest.raises(ConfigError, match=r"c\.Yml:3:10: unknown key 'nmae'"):
        load_workspace(root)
    (root / "c.Yml").unlink()
    assert sorted(load_workspace(root).projects) == ["ep-a", "ep-b"]


def test_broken_symlink_is_an_error_naming_it(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"a.yaml": OK_PROJECT})
    (root / "b.yaml").symlink_to(tmp_path / "gone.yaml")
    (root / ".#a.yaml").symlink_to("user@host.1234:1700000000")  # an editor's lock file
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    assert "b.yaml:1:1: broken symbolic link" in result.output
    assert "gone.yaml" in result.output and ".#a.yaml" not in result.output


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": """
            version: 1
            projects:
              ep:
                team_access: admin
                media:
                  a.wav: {url: "ftp://x.io/a.wav"}
                steps:
                  - {id: s, prompt: x}
                  - {id: s, prompt: y}
            """,
            "b.yaml": "version: 1\nprojects:\n  other: {nmae: x, steps: [{id: a, prompt: b}]}\n",
        },
    )
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    assert len(info.value.problems) == 4
    files = {p.path.rsplit("/", 1)[-1] for p in info.value.problems}
    assert files == {"a.yaml", "b.yaml"}


def test_project_defined_in_two_files_names_both_places(tmp_path: Path) -> None:
    project = "version: 1\nprojects:\n  ep:\n    steps: [{id: a, prompt: p}]\n"
    root = write_workspace(tmp_path / "ws", {"a.yaml": project, "b.yaml": project})
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    [problem] = info.value.problems
    assert problem.path.endswith("b.yaml") and (problem.line, problem.column) == (3, 3)
    assert "also defined at" in problem.message and "a.yaml:3" in problem.message


def test_two_defaults_blocks_are_refused(tmp_path: Path) -> None:
    text = "version: 1\ndefaults: {team_access: edit}\n"
    root = write_workspace(tmp_path / "ws", {"a.yaml": text, "b.yaml": text})
    with pytest.raises(ConfigError, match=r"b\.yaml:2:1: defaults are already set at .*a\.yaml:2"):
        load_workspace(root)


def test_billion_laughs_is_refused_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ["version: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    root = write_workspace(tmp_path / "ws", {"bomb.yaml": "\n".join(lines) + "\n"})
    # The work is bounded by the byte budget, not by the document's expanded size (10**9).
    built = 0
    original = yamlsource._Builder.build

    def counting(self, node, path):  # type: ignore[no-untyped-def]
        nonlocal built
        built += 1
        return original(self, node, path)

    monkeypatch.setattr(yamlsource._Builder, "build", counting)
    with pytest.raises(ConfigError, match="refusing to expand it"):
        load_workspace(root)
    assert built <= yamlsource.MAX_EXPANDED_BYTES // yamlsource.NODE_BYTES + 1


def test_one_large_value_aliased_many_times_is_refused_at_its_line(tmp_path: Path) -> None:
    # 1.1 MB on disk, 3 GB expanded: few values, so only a budget in bytes stops it.
    lines = ["version: 1", f"big: &big {'x' * 1_000_000}", "uses:"]
    lines += ["  - *big"] * 2_999
    root = write_workspace(tmp_path / "ws", {"bomb.yaml": "\n".join(lines) + "\n"})
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    [problem] = info.value.problems
    assert problem.path.endswith("bomb.yaml")
    # Where the budget ran out: the anchored value, on its 42nd expansion.
    assert (problem.line, problem.column) == (2, 6)
    assert "40 MiB budget" in problem.message and "aliases" in problem.message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "big.yaml").write_text("version: 1\n# " + "x" * (10 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="over the 10 MB limit"):
        load_workspace(root)


def test_env_values_are_substituted_and_never_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "https://bucket.example.com/host.wav?X-Amz-Signature=s3cr3tsig"
    monkeypatch.setenv("HOST_URL", secret)
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": """
            version: 1
            projects:
              ep:
                team_access: "${env:HOST_URL}"
                media:
                  host.wav: {url: "${env:HOST_URL}"}
            """
        },
    )
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    assert "s3cr3tsig" not in result.output and "bucket.example.com" not in result.output
    assert "'team_access' must be one of" in result.output


def test_valid_env_workspace_loads_with_secret_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_URL", "https://b.example.com/host.wav?sig=abc123")
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": 'version: 1\nprojects:\n  ep:\n    media:\n      h.wav: {url: "${env:HOST_URL}"}\n'
        },
    )
    project = load_workspace(root).projects["ep"]
    assert project.is_secret("media", "h.wav", "url")
    assert project.url_media()["h.wav"].url.endswith("sig=abc123")


def test_validate_output_is_one_problem_per_line_and_exit_1(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws", {"a.yaml": "version: 1\nprojects:\n  ep:\n    nmae: x\n"}
    )
    result = run_cli("validate", str(root))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].endswith(
        "a.yaml:3:3: project 'ep' has no media and no steps; add media to "
        "import or a step whose prompt creates the project"
    )
    assert lines[1].endswith("a.yaml:4:5: unknown key 'nmae'; did you mean 'name'?")
    assert lines[-1] == "2 problems found."
    assert "Traceback" not in result.output


def test_validate_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "no such directory" in result.output


def test_anchors_and_merge_keys_are_expanded(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": """
            version: 1
            projects:
              ep-1: &episode
                media:
                  intro.mp4: &intro {url: "https://cdn.example.com/intro.mp4"}
                steps: [{id: clean, prompt: Remove filler words}]
              ep-2:
                <<: *episode
                name: Second
            """
        },
    )
    projects = load_workspace(root).projects
    assert projects["ep-2"].name == "Second"
    assert projects["ep-2"].spec.media == projects["ep-1"].spec.media
    assert projects["ep-2"].spec.steps[0].id == "clean"
