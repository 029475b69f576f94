"""The workspace's `state:` block: one per workspace, resolved against its own file, the URL a
secret; `--state` and `--backend-url` override it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from descript_iac.config import load_workspace
from descript_iac.config.loader import read_state_setting
from descript_iac.config.schema import workspace_schema
from descript_iac.errors import ConfigError, DescriptIacError
from descript_iac.state.store import LocalStateStore
from descript_iac.workspace import RunSettings
from tests.builders import run_cli, write_workspace

PROJECT = """version: 1
projects:
  ep:
    media:
      a.wav: {url: "https://cdn.example.com/a.wav"}
"""
URL = "postgresql://ci:s3cret-pw-9f1@db.example.com:5433/media"


def test_the_schema_offers_both_backends() -> None:
    state = workspace_schema()["properties"]["state"]
    text = str(state) + str(workspace_schema()["$defs"])
    assert "'local'" in text and "'postgresql'" in text
    assert "relative to the file that declares" in text


def test_a_local_path_is_resolved_against_the_declaring_file(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "shows",
        {
            "a.yaml": PROJECT,
            "state.yaml": "version: 1\nstate: {backend: local, path: ../st/shows.json}\n",
        },
    )
    expected = tmp_path / "st" / "shows.json"
    seen = []
    for cwd in (tmp_path, root, tmp_path / "elsewhere"):
        cwd.mkdir(exist_ok=True)
        os.chdir(cwd)
        relative = Path(os.path.relpath(root))
        workspace = load_workspace(relative)
        assert workspace.state is not None and workspace.state.path == expected
        assert read_state_setting(relative) == workspace.state
        store = RunSettings(root=relative).store()
        assert isinstance(store, LocalStateStore)
        seen.append(store.path)
    assert seen == [expected] * 3
    # plan finds it from any working directory too
    os.chdir(tmp_path / "elsewhere")
    applied = run_cli("plan", str(root))
    assert applied.exit_code == 0, applied.output


def test_a_postgresql_block_interpolates_its_url_and_keeps_it_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOWS_PG", URL)
    root = write_workspace(
        tmp_path / "shows",
        {
            "a.yaml": PROJECT,
            "b.yaml": 'version: 1\nstate: {backend: postgresql, url: "${env:SHOWS_PG}"}\n',
        },
    )
    state = load_workspace(root).state
    assert state is not None and state.url == URL
    assert state.name == "shows" and state.schema is None and state.where.endswith("b.yaml:2")
    assert "s3cret" not in repr(state)
    store = RunSettings(root=root).store()
    assert store.location() == "postgresql state 'shows' on db.example.com:5433/media"
    named = write_workspace(
        tmp_path / "other",
        {
            "a.yaml": PROJECT + 'state: {backend: postgresql, url: "${env:SHOWS_PG}", name: ads, '
            "schema: team_b}\n"
        },
    )
    assert RunSettings(root=named).store().location() == (
        "postgresql state 'ads' (schema team_b) on db.example.com:5433/media"
    )
    from descript_iac.redact import redact

    assert "s3cret" not in redact(f"url {URL} and password s3cret-pw-9f1")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "state: {backend: s3, path: x}",
            "2:8: 'backend' of the state must be 'local' or 'postgresql'",
        ),
        ("state: {backend: local}", "2:1: missing required key 'path'"),
        ("state: {backend: local, path: x, nmae: y}", "2:34: unknown key 'nmae'"),
        (
            'state: {backend: postgresql, url: "mysql://u:hidden-pw@h/db"}',
            "2:35: 'url' must be a postgresql:// URL",
        ),
        (
            'state: {backend: postgresql, url: "postgresql://h/db", nmae: x}',
            "unknown key 'nmae'; did you mean 'name'?",
        ),
        (
            'state: {backend: postgresql, url: "postgresql://h/db", schema: Team}',
            "'schema' may hold lowercase letters, digits and '_'",
        ),
        ('state: {backend: postgresql, url: "${env:NOT_SET_PG}"}', "NOT_SET_PG is not set"),
        (
            'state: {backend: postgresql, url: "postgresql://u:hidden-pw@h/db"}',
            "2:35: the database password is written in the file",
        ),
        (
            'state: {backend: postgresql, url: "postgresql://u@[bad/db"}',
            "2:35: 'url' is not a valid URL (Invalid IPv6 URL)",
        ),
    ],
)
def test_a_bad_state_block_is_reported_where_it_is(
    tmp_path: Path, block: str, message: str
) -> None:
    root = write_workspace(tmp_path / "ws", {"a.yaml": PROJECT, "s.yaml": f"version: 1\n{block}\n"})
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    assert message in str(info.value)
    assert "hidden-pw" not in str(info.value)
    with pytest.raises(ConfigError) as light:
        read_state_setting(root)
    assert message in str(light.value)
    checked = run_cli("validate", str(root))  # validate checks the block without the models
    assert checked.exit_code == 1 and message in checked.output
    assert "hidden-pw" not in checked.output


def test_one_state_block_per_workspace(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": PROJECT + "state: {backend: local, path: a.json}\n",
            "b.yaml": "version: 1\nstate: {backend: local, path: b.json}\n",
        },
    )
    with pytest.raises(
        ConfigError, match=r"b\.yaml:2:1: the state is already declared at .*a\.yaml:6"
    ):
        load_workspace(root)
    result = run_cli("validate", str(root))
    assert result.exit_code == 1 and "declare it in one file of the workspace" in result.output


def test_the_state_block_alone_is_read_for_state_commands(tmp_path: Path) -> None:
    """`state show` and friends read the block without loading (or needing) the projects."""
    root = write_workspace(
        tmp_path / "ws",
        {
            "broken.yaml": 'version: 1\nprojects:\n  ep: {media: {a.wav: {url: "${env:UNSET_X}"}}}\n',
            "state.yaml": "version: 1\nstate: {backend: local, path: kept/ws.json}\n",
        },
    )
    setting = read_state_setting(root)
    assert setting is not None and setting.path == root / "kept" / "ws.json"
    assert read_state_setting(tmp_path / "no-such-dir") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert read_state_setting(empty) is None


def test_overrides_come_first(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws", {"a.yaml": PROJECT + "state: {backend: local, path: declared.json}\n"}
    )
    assert RunSettings(root=root).store().location() == str(root / "declared.json")
    assert RunSettings(root=root, state_path=Path("x.json")).store().location() == "x.json"
    pg = RunSettings(root=root, backend_url=URL).store()
    assert pg.location() == "postgresql state 'ws' on db.example.com:5433/media"
    with pytest.raises(DescriptIacError, match="give one of them"):
        RunSettings(root=root, state_path=Path("x.json"), backend_url=URL).store()
    plain = write_workspace(tmp_path / "plain", {"a.yaml": PROJECT})
    assert RunSettings(root=plain).store().location() == "state/plain.json"
