"""`moved` blocks (errors at file:line), `fmt` (comments kept, idempotent, --check, --diff),
`init` (a workspace that validates and is formatted), media URL warnings."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from descript_iac.config import load_workspace
from descript_iac.config.layout import canonical
from descript_iac.errors import ConfigError
from tests.builders import run_cli, write_workspace

SNAPSHOTS = Path(__file__).parent / "snapshots"

PROJECTS = """
version: 1
projects:
  new-ep:
    steps: [{id: a, prompt: A}]
  other:
    steps: [{id: a, prompt: A}]
"""


def _problems(tmp_path: Path, moved: str) -> list[str]:
    write_workspace(tmp_path / "ws", {"main.yaml": PROJECTS + "moved:\n" + textwrap.dedent(moved)})
    with pytest.raises(ConfigError) as caught:
        load_workspace(tmp_path / "ws")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "moved, expected",
    [
        (
            "  - {from: new-ep, to: other}\n",
            "main.yaml:8:3: 'from: new-ep' is still declared at ",
        ),
        (
            "  - {from: old, to: nope}\n",
            "main.yaml:8:3: 'to: nope' is not a project of the workspace",
        ),
        (
            "  - {from: a, to: b}\n  - {from: b, to: new-ep}\n",
            "main.yaml:8:3: moved blocks are chained: a -> b here and b -> new-ep at ",
        ),
        (
            "  - {from: a, to: b}\n  - {from: b, to: a}\n",
            "main.yaml:8:3: moved blocks form a cycle (a -> b -> a); remove them",
        ),
        (
            "  - {from: old, to: new-ep}\n  - {from: old, to: other}\n",
            "main.yaml:9:3: old is already moved to new-ep at ",
        ),
        (
            "  - {from: old, to: new-ep}\n  - {from: older, to: new-ep}\n",
            "main.yaml:9:3: old is already moved to new-ep at ",
        ),
        ("  - {from: new-ep, to: new-ep}\n", "main.yaml:8:3: moved block moves new-ep to itself"),
        ("  - {from: Old Name, to: new-ep}\n", "main.yaml:8:"),
        (
            "  - {form: old, to: new-ep}\n",
            "main.yaml:8:4: unknown key 'form'; did you mean 'from'?",
        ),
    ],
    ids=[
        "from-declared",
        "to-undeclared",
        "chain",
        "cycle",
        "moved-twice",
        "two-into-one",
        "self",
        "bad-address",
        "misspelt",
    ],
)
def test_moved_blocks_are_checked_at_file_and_line(
    tmp_path: Path, moved: str, expected: str
) -> None:
    found = _problems(tmp_path, moved)
    assert any(expected in p for p in found), found


def test_a_valid_moved_block_is_loaded_with_where_it_is(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws", {"main.yaml": PROJECTS + "moved:\n  - {from: old-ep, to: new-ep}\n"}
    )
    (move,) = load_workspace(root).moves
    assert (move.from_address, move.to_address, move.where) == (
        "old-ep",
        "new-ep",
        f"{os.path.relpath(root / 'main.yaml')}:8",
    )


MESSY = """\
# yaml-language-server: $schema=../schemas/descript-iac.schema.json
# The show.   (a header comment)
version: 1
defaults: {team_access: edit}   # flow style is kept
projects:   # the projects
    ep-1:
        name: "Episode 1: Coffee"   # quoted, and kept quoted
        media:
            host.wav: {url: 'https://cdn.example.com/ep1/host.wav'}
            talk: {tracks: [{media: host.wav}]}
        compositions:
        - name: Full
          clips: [{media: talk}]
        steps:
        - id: clean   # first
          prompt: >-
            Remove filler words
            and long pauses
        -   id: caps
            prompt: Add captions{TRAILING}

    ep-2:
      steps: [{id: a, prompt: "Write ${env:TOPIC} script"}]
moved:
- {from: episode-1, to: ep-1}
""".replace("{TRAILING}", "    ")


def test_fmt_keeps_comments_and_order_and_is_idempotent(tmp_path: Path) -> None:
    formatted = canonical(MESSY, "main.yaml")
    snapshot = SNAPSHOTS / "fmt-main.yaml"
    if os.environ.get("UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.write_text(formatted)
    assert formatted == snapshot.read_text()
    assert canonical(formatted, "main.yaml") == formatted  # idempotent
    for kept in ("# yaml-language-server: $schema=", "# The show.", "# first", "# quoted"):
        assert kept in formatted
    assert '"Episode 1: Coffee"' in formatted and "${env:TOPIC}" in formatted
    # the same workspace either way
    a = write_workspace(tmp_path / "a", {"main.yaml": MESSY})
    b = write_workspace(tmp_path / "b", {"main.yaml": formatted})
    env = {"TOPIC": "coffee"}
    assert load_workspace(a, env).projects.keys() == load_workspace(b, env).projects.keys()
    assert [p.spec for p in load_workspace(a, env).projects.values()] == [
        p.spec for p in load_workspace(b, env).projects.values()
    ]


def test_fmt_check_names_the_files_and_writes_nothing_then_fmt_rewrites(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"main.yaml": MESSY, "ok.yaml": "version: 1\n"})
    (root / "main.yaml").write_text(MESSY)  # write_workspace dedents
    check = run_cli("fmt", str(root), "--check", "--diff")
    assert check.exit_code == 1
    assert f"would reformat {root / 'main.yaml'}" in check.output
    assert "ok.yaml" not in check.output
    assert "\n-    ep-1:\n" in check.output and "\n+  ep-1:\n" in check.output  # the diff
    assert (root / "main.yaml").read_text() == MESSY
    done = run_cli("fmt", str(root))
    assert done.exit_code == 0 and f"reformatted {root / 'main.yaml'}" in done.output
    again = run_cli("fmt", str(root), "--check")
    assert again.exit_code == 0 and "0 file(s) would be reformatted, 2 already formatted" in (
        again.output
    )


def test_fmt_refuses_what_is_not_yaml_at_its_line(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", {"main.yaml": "version: 1\nprojects: [\n"})
    result = run_cli("fmt", str(root))
    assert result.exit_code == 1 and "main.yaml:3:1: YAML syntax error" in result.output


def test_init_makes_a_workspace_that_validates_plans_and_is_formatted(tmp_path: Path) -> None:
    made = run_cli("init", "shows")
    assert made.exit_code == 0, made.output
    assert "State: shows/state/shows.json" in made.output and "Next steps:" in made.output
    text = Path("shows/descript.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=descript-iac.schema.json\n")
    assert Path("shows/descript-iac.schema.json").exists()
    assert "state/*.backup" in Path(".gitignore").read_text()
    assert run_cli("validate", "shows").exit_code == 0
    assert run_cli("fmt", "shows", "--check").exit_code == 0
    plan = run_cli("plan", "shows")
    assert "Plan: 1 project to create, 1 step to run" in plan.output
    # The state: block init wrote: the same state from any working directory.
    applied = run_cli("apply", "shows", "--emulator", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert Path("shows/state/shows.json").exists() and not Path("state/shows.json").exists()
    os.chdir("shows")
    try:
        assert "No changes" in run_cli("plan", ".").output
    finally:
        os.chdir("..")
    # run again: nothing is overwritten or repeated
    Path("shows/descript.yaml").write_text(text + "# mine\n")
    again = run_cli("init", "shows")
    assert "already there; left as it is" in again.output
    assert Path("shows/descript.yaml").read_text().endswith("# mine\n")
    assert Path(".gitignore").read_text().count("state/*.backup") == 1


def test_validate_warns_about_media_urls_that_name_no_audio_or_video(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "main.yaml": """
            version: 1
            projects:
              ep:
                media:
                  good.wav: {url: "https://cdn.example.com/a/good.wav?sig=1"}
                  page: {url: "https://cdn.example.com/watch.html"}
                  secret: {url: "${env:SIGNED_URL}"}
            """
        },
    )
    result = run_cli("validate", str(root), env={"SIGNED_URL": "https://s3.example.com/x/y?a=b"})
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "warning:" in line]
    assert len(lines) == 2, lines
    assert "main.yaml:6:" in lines[0] and "'page' ends in '.html'" in lines[0]
    assert "'secret' does not end in an audio or video extension" in lines[1]
    assert "s3.example.com" not in result.output
