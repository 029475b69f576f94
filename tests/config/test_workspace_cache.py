"""The workspace cache serves a file only when its bytes, the code reading it and the values of
the environment variables it uses are the ones it was stored with; it never holds a secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from descript_iac.config import load_workspace, yamlsource
from descript_iac.errors import ConfigError
from descript_iac.redact import forget_secrets, redact
from tests.builders import run_cli, write_workspace

# No query string: only its registration as a secret can get it redacted.
SECRET = "https://bucket.example.com/s3cr3tsig/host.wav"
EP = """version: 1
projects:
  {address}:
    media:
      host.wav: {{url: "{url}"}}
    steps: [{{id: s1, prompt: "{prompt}"}}]
"""


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed (not served from the cache), by name."""
    names: list[str] = []
    original = yamlsource.read_source

    def counting(file: Path, display: str):  # type: ignore[no-untyped-def]
        names.append(file.name)
        return original(file, display)

    monkeypatch.setattr(yamlsource, "read_source", counting)
    return names


def load(root: Path, cache: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_workspace(root, {**os.environ, **env}, cache_dir=cache)


def workspace(tmp_path: Path) -> Path:
    return write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": EP.format(address="ep-a", url="https://cdn.example.com/a.wav", prompt="p"),
            "b.yaml": EP.format(address="ep-b", url="${env:HOST_URL}", prompt="p"),
        },
    )


def test_a_second_load_of_unchanged_files_is_served_whole(
    tmp_path: Path, parsed: list[str]
) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    first = load(root, cache, HOST_URL=SECRET)
    assert sorted(parsed) == ["a.yaml", "b.yaml"]
    parsed.clear()
    second = load(root, cache, HOST_URL=SECRET)
    assert parsed == []
    assert second.projects == first.projects
    assert second.projects["ep-b"].is_secret("media", "host.wav", "url")
    assert second.projects["ep-a"].where == first.projects["ep-a"].where


def test_any_byte_change_misses_even_with_the_same_size_and_mtime(
    tmp_path: Path, parsed: list[str]
) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    load(root, cache, HOST_URL=SECRET)
    file = root / "a.yaml"
    stat = file.stat()
    file.write_text(file.read_text().replace('prompt: "p"', 'prompt: "q"'))
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file.stat().st_size == stat.st_size
    parsed.clear()
    again = load(root, cache, HOST_URL=SECRET)
    assert parsed == ["a.yaml"]
    assert again.projects["ep-a"].spec.steps[0].prompt == "q"


def test_added_and_removed_files_are_seen(tmp_path: Path, parsed: list[str]) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    load(root, cache, HOST_URL=SECRET)
    (root / "c.yaml").write_text(EP.format(address="ep-c", url="https://x.io/c", prompt="p"))
    parsed.clear()
    assert set(load(root, cache, HOST_URL=SECRET).projects) == {"ep-a", "ep-b", "ep-c"}
    assert parsed == ["c.yaml"]
    (root / "a.yaml").unlink()
    assert set(load(root, cache, HOST_URL=SECRET).projects) == {"ep-b", "ep-c"}


def test_a_changed_or_unset_env_value_misses(tmp_path: Path, parsed: list[str]) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    load(root, cache, HOST_URL=SECRET)
    parsed.clear()
    rotated = SECRET.replace("s3cr3tsig", "r0tat3d")
    again = load(root, cache, HOST_URL=rotated)
    assert parsed == ["b.yaml"]
    assert again.projects["ep-b"].url_media()["host.wav"].url == rotated
    env = {k: v for k, v in os.environ.items() if k != "HOST_URL"}
    with pytest.raises(
        ConfigError, match=r"b\.yaml:5:23: environment variable HOST_URL is not set"
    ):
        load_workspace(root, env, cache_dir=cache)


def test_the_cache_holds_no_secret_and_a_hit_still_redacts_it(tmp_path: Path) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    load(root, cache, HOST_URL=SECRET)
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert b"s3cr3tsig" not in stored and b"bucket.example.com" not in stored
    assert b"${env:HOST_URL}" in stored  # the text as written stands in its place
    forget_secrets()
    hit = load(root, cache, HOST_URL=SECRET)
    assert hit.projects["ep-b"].url_media()["host.wav"].url == SECRET
    assert redact(f"url {SECRET}") == "url ***"


def test_broken_files_are_never_cached_and_keep_their_positions(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "ws", {"a.yaml": "version: 1\nprojects:\n  ep:\n    nmae: x\n"}
    )
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"a\.yaml:4:5: unknown key 'nmae'"):
            load(root, tmp_path / "cache")


def test_plan_uses_the_cache_under_the_user_cache_dir(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    env = {"HOST_URL": SECRET}
    assert run_cli("plan", str(root), env=env).exit_code == 0
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "descript-iac" / "workspaces"
    assert any(cache.iterdir())
    second = run_cli("plan", str(root), env=env)
    assert second.exit_code == 0 and "2 projects to create" in second.output


def test_a_damaged_cache_is_moved_aside_and_made_anew(tmp_path: Path, parsed: list[str]) -> None:
    """The cache's writes do not wait for the disk, so an operating system crash may leave it
    damaged: a plan then reads the files itself, moves the damaged cache aside and makes a new
    one, which the next plan uses."""
    root, cache = workspace(tmp_path), tmp_path / "cache"
    first = load(root, cache, HOST_URL=SECRET)
    for leftover in cache.glob("cache.db-*"):
        leftover.unlink()
    db = cache / "cache.db"
    db.write_bytes(os.urandom(db.stat().st_size))
    parsed.clear()
    again = load(root, cache, HOST_URL=SECRET)
    assert sorted(parsed) == ["a.yaml", "b.yaml"] and again.projects == first.projects
    assert [p.name.split("-")[0] for p in tmp_path.glob("cache.corrupt-*")] == ["cache.corrupt"]
    parsed.clear()
    assert load(root, cache, HOST_URL=SECRET).projects == first.projects
    assert parsed == []  # the new cache serves them


def test_a_cache_that_cannot_be_opened_is_an_empty_one(tmp_path: Path, parsed: list[str]) -> None:
    root, cache = workspace(tmp_path), tmp_path / "cache"
    cache.write_text("a file where the cache's directory should be")
    for _ in range(2):
        parsed.clear()
        loaded = load(root, cache, HOST_URL=SECRET)
        assert sorted(parsed) == ["a.yaml", "b.yaml"] and sorted(loaded.projects) == [
            "ep-a",
            "ep-b",
        ]
    assert cache.read_text() == "a file where the cache's directory should be"


def test_a_plan_with_a_damaged_cache_is_the_plan_without_one(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    env = {"HOST_URL": SECRET}
    assert run_cli("plan", str(root), env=env).exit_code == 0
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "descript-iac" / "workspaces"
    (cache / "cache.db").write_bytes(b"\x00" * 8192)
    damaged = run_cli("plan", str(root), env=env)
    assert damaged.exit_code == 0, damaged.output
    assert "2 projects to create" in damaged.output and "unexpected" not in damaged.output


@pytest.mark.parametrize(
    "state",
    [
        "",
        "state: {backend: local, path: ../state/ws.json}\n",  # as `init` writes it
        'state: {backend: postgresql, url: "${env:PG_URL}", schema: team}\n',
    ],
)
def test_validate_builds_no_model_and_reads_no_yaml_when_cached(tmp_path: Path, state: str) -> None:
    """A valid file new to the cache is checked against the JSON Schema, without pydantic's
    models (a `state:` block too); once cached, not even parsed."""
    import subprocess
    import sys

    root = workspace(tmp_path)
    (root / "state.yaml").write_text(f"version: 1\n{state}")
    env = {**os.environ, "HOST_URL": SECRET, "PG_URL": "postgresql://u:pw-0af3@db/x"}
    code = (
        "import sys; from descript_iac.cli import main\n"
        f"try: main(['validate', {str(root)!r}])\n"
        "except SystemExit: pass\n"
        "print('MODELS', 'pydantic.main' in sys.modules, 'YAML', 'yaml' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    assert all("valid (2 projects in 3 file(s))" in r.stdout for r in runs)
    assert "MODELS False YAML True" in runs[0].stdout  # parsed, checked by the schema
    assert "MODELS False YAML False" in runs[1].stdout  # answered from the cache


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (EP.format(address="ep-a", url="https://x.io/b", prompt="p"), "also defined at"),
        ("version: 1\ndefaults: {team_access: edit}\n", "defaults are already set"),
    ],
)
def test_files_valid_alone_but_not_together_stay_invalid(
    tmp_path: Path, second: str, message: str
) -> None:
    first = "version: 1\ndefaults: {team_access: view}\n" + EP.format(
        address="ep-a", url="https://x.io/a", prompt="p"
    ).removeprefix("version: 1\n")
    root = write_workspace(tmp_path / "ws", {"a.yaml": first, "b.yaml": second})
    for _ in range(2):  # each file is cached alone; together they are still refused
        result = run_cli("validate", str(root))
        assert result.exit_code == 1 and message in result.output


def test_a_file_with_a_literal_query_string_is_never_cached(
    tmp_path: Path, parsed: list[str]
) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {
            "a.yaml": EP.format(address="ep-a", url="https://x.io/a.wav?sig=L1TERAL", prompt="p"),
            "b.yaml": EP.format(address="ep-b", url="https://x.io/b.wav", prompt="p?"),
        },
    )
    cache = tmp_path / "cache"
    load(root, cache)
    parsed.clear()
    again = load(root, cache)
    assert parsed == ["a.yaml"]  # b.yaml (a question in a prompt is no secret) was cached
    assert again.projects["ep-a"].url_media()["host.wav"].url.endswith("?sig=L1TERAL")
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert b"L1TERAL" not in stored


def test_a_query_string_from_the_environment_is_cached_as_its_template(
    tmp_path: Path, parsed: list[str]
) -> None:
    root = write_workspace(
        tmp_path / "ws",
        {"a.yaml": EP.format(address="ep-a", url="https://x.io/a.wav?${env:SIG}", prompt="p")},
    )
    cache = tmp_path / "cache"
    load(root, cache, SIG="sig=ENVS1G")
    parsed.clear()
    again = load(root, cache, SIG="sig=ENVS1G")
    assert parsed == []
    assert again.projects["ep-a"].url_media()["host.wav"].url == "https://x.io/a.wav?sig=ENVS1G"
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert b"ENVS1G" not in stored
