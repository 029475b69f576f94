"""No secret at rest, and none printed: EVERY command of the CLI runs against an emulator that
echoes secrets back, and every output and every file written is searched for them.

The sentinels: the API token; a pre-signed media URL and a prompt value from `${env:}`; a literal
signed URL written in a workspace file; the emulator's agent echoes the prompt (with its secret)
in `agent_response`; a media import fails with a message quoting its URL without a scheme and the
token as `Bearer ...`; every error the emulator answers quotes an upper-case `HTTPS://...?sig=`
URL and the token; callback URLs carry a query string; the PostgreSQL URL has a password. Runs
are SIGKILLed before they fold their journal or right after they journal an intent, so journals
and open intents are searched too.

Searched: stdout and stderr of every command (all with `-v`: the request log), the state, its
backup, the journal, saved plans, the job cache, the workspace cache and the drive directories
under the user's cache directory, the one-off state, subtitles written, the data directory of the
emulator (in-process and `emulator serve`) and what `emulator serve` prints.

`test_every_command_is_covered` walks the CLI: a new command fails it until it is run here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest

from descript_iac.cli import main
from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator import exceptions as emulator_exceptions
from descript_iac.emulator import imports as emulator_imports
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.server import make_backend, start_background
from descript_iac.state.lock import FileLock
from tests.builders import run_cli, write_workspace
from tests.e2e.conftest import _serve, cli

pytestmark = pytest.mark.e2e

TOKEN = "SENTINEL-tok-77aa31c9e0"
SIGNED = "https://bucket.example.com/ep/host.wav?X-Amz-Signature=SIGSECRET-4471"
FAILING = "HTTPS://cdn.example.com/fail/b.wav?sig=UPPERSIG-5521"
# Given on the command line (not from the environment): its host may be shown, its query never.
ONEOFF = "https://oneoff.example.com/ep/host.wav?X-Amz-Signature=SIGSECRET-4471"
TITLE = "PROMPTSECRET-90ab12"
CALLBACK = "http://127.0.0.1:9/hook?token=CBSECRET-1234"
ERROR_TAIL = f" (see HTTPS://err.example.com/x?sig=ERRSIG-6612; request had Bearer {TOKEN})"
# What the emulator's patched media probe answers (a server that quotes what it was sent).
QUOTED_FAILURE = (
    f"Failed to download {FAILING.split('://', 1)[1]}: 403 (sent Authorization: Bearer {TOKEN})"
)
SECRETS = (
    TOKEN,
    "SIGSECRET",
    "UPPERSIG",
    "PROMPTSECRET",
    "CBSECRET",
    "ERRSIG",
    "LITSECRET",
    "bucket.example",
)

WORKSPACE = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "${env:HOST_URL}"}
    steps:
      - {id: title, prompt: "Add a title card saying ${env:TITLE_SECRET}"}
    callback_url: "http://127.0.0.1:9/hook?token=CBSECRET-1234"
  broken:
    media:
      b.wav: {url: "${env:FAILING_URL}"}
  literal:
    media:
      c.wav: {url: "https://cdn.example.com/lit/c.wav?token=LITSECRET-3141"}
"""

# Every command of the CLI, as the words that name it; the test below runs each.
COVERED = {
    ("agent",),
    ("approve",),
    ("apply",),
    ("costs",),
    ("config", "set", "api-key"),
    ("doctor",),
    ("edit-link",),
    ("emulator", "serve"),
    ("fmt",),
    ("force-unlock",),
    ("import",),
    ("import-media",),
    ("init",),
    ("jobs", "cancel"),
    ("jobs", "get"),
    ("jobs", "list"),
    ("jobs", "wait"),
    ("plan",),
    ("published",),
    ("schema",),
    ("serve",),
    ("show",),
    ("state", "adopt"),
    ("state", "drop-intent"),
    ("state", "drop-job"),
    ("state", "list"),
    ("state", "mv"),
    ("state", "pull"),
    ("state", "push"),
    ("state", "rebuild"),
    ("state", "recover"),
    ("state", "rm"),
    ("state", "show"),
    ("status",),
    ("validate",),
}


def cli_commands() -> set[tuple[str, ...]]:
    """Every command the CLI has (the lazily loaded `COMMANDS` and each group's subcommands)."""
    ctx = click.Context(main)
    found: set[tuple[str, ...]] = set()

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                walk(sub, (*path, name))
        else:
            found.add(path)

    walk(main, ())
    return found


def command_of(args: tuple[str, ...]) -> tuple[str, ...]:
    """The command that `args` (verb first) runs."""
    ctx = click.Context(main)
    command: click.Command = main
    path: list[str] = []
    for word in args:
        if not isinstance(command, click.Group) or word not in command.list_commands(ctx):
            break
        sub = command.get_command(ctx, word)
        assert sub is not None
        command, path = sub, [*path, word]
    return tuple(path)


def test_every_command_is_covered() -> None:
    missing = cli_commands() - COVERED
    assert missing == set(), f"add each to the sentinel run below: {sorted(missing)}"
    assert COVERED - cli_commands() == set()


@pytest.fixture
def echoing_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    def probe_quoting(url: str, pattern: str | None) -> tuple[float | None, str | None]:
        if "/fail/" in url:
            return None, QUOTED_FAILURE
        return 42.0, None

    def body(self: emulator_exceptions.EmulatorError) -> dict[str, str]:
        return {"error": self.code, "message": self.message + ERROR_TAIL}

    # The emulator's agent quotes the prompt in agent_response by itself, as Descript's does.
    monkeypatch.setattr(emulator_imports, "probe", probe_quoting)
    monkeypatch.setattr(emulator_exceptions.EmulatorError, "body", body)
    config = EmulatorConfig(tokens=(TOKEN,), job_seconds=0.05, faults=Faults(api_level="2026"))
    running = start_background(make_backend(config, tmp_path / "emulator-data"))
    yield running
    running.stop()


def _leaks(data: str | bytes, secrets: tuple[str, ...]) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [s for s in secrets if s.encode() in raw]


def _api(running: Any, method: str, path: str, body: object = None) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    reply = httpx.request(method, f"{running.base_url}/{path}", json=body, headers=headers)
    reply.raise_for_status()
    return reply.json()


def _with_step(ws: Path, step: str) -> None:
    """Add an agent step (its prompt quoting the `${env:}` secret) after ep's last step."""
    text = (ws / "main.yaml").read_text()
    anchor = '    callback_url: "http://127.0.0.1:9/hook'
    line = f'      - {{id: {step}, prompt: "Say ${{env:TITLE_SECRET}} in {step}"}}\n'
    (ws / "main.yaml").write_text(text.replace(anchor, line + anchor))


@pytest.fixture
def common_umask() -> Iterator[None]:
    """The umask most users have (022): what the commands write must be private anyway."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_no_secret_in_any_output_or_file(
    echoing_api: Any, tmp_path: Path, pg_url: str, common_umask: None
) -> None:
    """Also issue #27's walk: every file and directory every command wrote, under umask 022, is
    the user's alone (0600 / 0700)."""
    root = write_workspace(tmp_path / "ws", {"main.yaml": WORKSPACE})
    ws = str(root)
    password = pg_url.split(":")[2].split("@")[0]
    secrets = (*SECRETS, password)
    env = {
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_API_URL": echoing_api.base_url,
        "HOST_URL": SIGNED,
        "FAILING_URL": FAILING,
        "TITLE_SECRET": TITLE,
        "DESCRIPT_IAC_INTENT_GRACE": "1",
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
    }
    saved = str(tmp_path / "saved.plan")
    state_path = tmp_path / "state" / "ws.json"
    outputs: dict[str, str | bytes] = {}
    ran: set[tuple[str, ...]] = set()

    def run(*args: str, code: int | tuple[int, ...] = 0, **extra: Any) -> str:
        result = run_cli(*args, "--verbose", env={**env, **extra.pop("env", {})}, **extra)
        codes = (code,) if isinstance(code, int) else code
        assert result.exit_code in codes, (args, result.output)
        assert "Traceback" not in result.output and "This is a bug" not in result.output
        outputs[" ".join(args)] = result.output
        ran.add(command_of(args))
        return result.output

    def killed(point: str, *args: str) -> None:
        done = cli(*args, env={**env, "DESCRIPT_IAC_FAILPOINT": point}, cwd=tmp_path)
        assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
        outputs[f"{point} {' '.join(args)}"] = done.stdout + done.stderr
        ran.add(command_of(args))

    # --- a workspace: start, check, plan, apply -----------------------------------------------
    run("init", str(tmp_path / "fresh"))
    run("schema")
    run("validate", ws)
    run("fmt", ws, "--check", "--diff", code=(0, 1))
    run("plan", ws)
    run("plan", ws, "--format", "json")
    run("plan", ws, "--format", "markdown", "--out", saved)
    run("show", saved)
    run("apply", saved, "--poll-interval", "0.05", code=1)  # the broken import fails
    doc = json.loads(state_path.read_text())
    step = doc["projects"]["ep"]["steps"][0]
    assert '("Add a title card saying ***")' in step["agent_response"]  # echoed, masked
    failed = doc["projects"]["broken"]["import"]["media"]["b.wav"]["error_message"]
    assert "Failed to download cdn.example.com/fail/b.wav?***" in failed
    run("plan", ws, "--refresh")  # the failed import is a replacement now
    run("show", ws)
    run("costs", ws)
    run("costs", ws, "--format", "json")
    run("costs", ws, "--format", "markdown")
    run("show", ws, "--json")

    # --- the API: status, jobs, one-off jobs, the 2026 surface --------------------------------
    run("status")
    listed = run("jobs", "list")
    run("jobs", "list", "--json")
    job_id = next(line.split()[0] for line in listed.splitlines() if " agent " in line)
    run("jobs", "get", job_id)
    run("jobs", "wait", job_id, "--interval", "0.05")
    assert "ERRSIG" not in run("jobs", "get", "missing-job", code=1)  # a server error, quoted
    run("jobs", "cancel", job_id, code=1)  # stopped already: the server's 409, quoted
    made = run(
        "import-media", "--name", "One-off", "--media", f"host.wav={ONEOFF}",
        "--composition", "Full", "--callback-url", CALLBACK, "--poll-interval", "0.05",
    )  # fmt: skip
    project_id = next(line for line in made.splitlines() if line.startswith("Project "))
    project_id = project_id.split()[2]
    run(
        "agent", "--project-id", project_id, "--prompt", "Tidy it up",
        "--callback-url", CALLBACK, "--poll-interval", "0.05", "--json",
    )  # fmt: skip
    run("agent", "--new", "--name", "Scratch", "--prompt", "Write a haiku", "--no-wait")
    run("edit-link", "--file", ONEOFF, "--name", "host")
    published = httpx.post(
        f"{echoing_api.root_url}/_emulator/projects/{project_id}/publish", json={}
    )
    slug = published.json()["slug"]
    run("published", slug, "--subtitles", str(tmp_path / "subtitles" / "ep.vtt"))
    run("published", "no-such-slug", code=1)
    run("doctor", "--workspace", ws, code=(0, 1))

    # --- the state: inspect, edit, adopt, rebuild, recover, move to PostgreSQL ----------------
    run("state", "list", ws)
    run("state", "show", "--workspace", ws)
    run("state", "show", "ep", "--workspace", ws, "--json")
    run("state", "mv", "literal", "literal-2", "--workspace", ws)
    run("state", "mv", "literal-2", "literal", "--workspace", ws)
    other = _api(
        echoing_api, "POST", "jobs/import/project_media",
        {"project_name": "Elsewhere", "add_media": {"x.wav": {"url": SIGNED}}},
    )  # fmt: skip
    (root / "adopted.yaml").write_text(
        "version: 1\nprojects:\n  adopted:\n    name: Elsewhere\n    media:\n"
        '      x.wav: {url: "${env:HOST_URL}"}\n'
    )
    run("jobs", "wait", other["job_id"], "--interval", "0.05")
    run("import", "adopted", other["project_id"], "--workspace", ws)
    run("state", "rm", "adopted", "--workspace", ws)
    (root / "adopted.yaml").unlink()
    broken_job = doc["projects"]["broken"]["import"]["job_id"]
    run("state", "drop-job", "broken", broken_job, "--workspace", ws)
    apply_ep = ("apply", ws, "--auto-approve", "--target", "ep", "--poll-interval", "0.05")
    # A step's POST sent, its job id never journaled: adopted by hand.
    _with_step(root, "again")
    killed("after_post:1", *apply_ep)
    agent_jobs = [j for j in _api(echoing_api, "GET", "jobs?type=agent")["data"]]
    newest = max(agent_jobs, key=lambda j: j["created_at"])["job_id"]
    run("state", "adopt", "ep", newest, "--workspace", ws)
    # A step's intent journaled, nothing sent: dropped by hand.
    _with_step(root, "third")
    killed("after_intent:1", *apply_ep)
    run("state", "drop-intent", "ep", "--workspace", ws)
    # A run killed just before it folds its journal; the state restored from its backup.
    killed("before_fold:1", *apply_ep)
    journal = state_path.with_name(state_path.name + ".journal")
    assert journal.exists() and '(\\"Say *** in third\\")' in journal.read_text()
    outputs["the journal, before recovery"] = journal.read_bytes()
    shutil.copy(state_path.with_name(state_path.name + ".backup"), state_path)
    run("state", "recover", "--workspace", ws)
    run("apply", ws, "--auto-approve", "--target", "ep", "--poll-interval", "0.05")
    run("state", "rebuild", ws, "--auto-approve", "--state", str(tmp_path / "rebuilt.json"))
    pg = {"DESCRIPT_IAC_BACKEND_URL": pg_url}
    run("state", "push", str(state_path), "--workspace", ws, env=pg)
    run("state", "pull", str(tmp_path / "pulled.json"), "--workspace", ws, env=pg)
    run("plan", ws, "--refresh", env=pg)
    holder = FileLock(state_path.with_name(state_path.name + ".lock")).acquire("apply elsewhere")
    run("apply", ws, "--auto-approve", code=1)  # the lock holder is named; no secret
    run("force-unlock", holder.lock_id, "--workspace", ws)
    run("config", "set", "api-key", input=TOKEN + "\n")
    # The controller: its refusals here (its pages, logs and metrics are searched for sentinels
    # by tests/controller, over a real server)
    run("serve", str(tmp_path / "no-such-controller.yaml"), code=1)
    run("approve", "no-such-run", "--url", "http://127.0.0.1:9", code=1)

    # --- `emulator serve` with a data directory: what it keeps and what it prints -------------
    served_out = _serve_and_apply(tmp_path, env)
    outputs["emulator serve"] = served_out
    ran.add(("emulator", "serve"))

    assert ran == COVERED, sorted(COVERED ^ ran)
    everything = {f"output of {k}": v for k, v in outputs.items()}
    for file in tmp_path.rglob("*"):
        # Not the workspaces (the user wrote them) nor the token's own file.
        if file.is_file() and file.name != "config.json" and not _users(file, tmp_path):
            everything[str(file.relative_to(tmp_path))] = file.read_bytes()
    names = list(everything)
    for kind in (".backup", "emulator-data/", "serve-data/", ".cache/descript-iac/jobs",
                 ".cache/descript-iac/workspaces", ".cache/descript-iac/drives",
                 "oneoff.json", "saved.plan", "ep.vtt", "pulled.json"):  # fmt: skip
        assert any(kind in name for name in names), kind  # each place was searched
    leaks = {name: _leaks(_as_searched(name, data), secrets) for name, data in everything.items()}
    found_leaks = {name: found for name, found in leaks.items() if found}
    assert found_leaks == {}, json.dumps(found_leaks, indent=1)
    # ... and private: nothing a command wrote is readable by the group or others
    readable = {
        str(path.relative_to(tmp_path)): oct(path.stat().st_mode & 0o777)
        for path in tmp_path.rglob("*")
        if not path.is_symlink()
        and path != tmp_path / "home"  # the test's HOME (made by the fixture), not the tool's
        and not _users(path, tmp_path)
        and path.parts[len(tmp_path.parts)] not in ("ws", "serve-ws", "emulator-data")
        and path.stat().st_mode & 0o077
    }
    assert readable == {}, json.dumps(readable, indent=1)


def _as_searched(name: str, data: str | bytes) -> str | bytes:
    """What is searched of a file or an output. The emulator stands in for Descript, which keeps
    what it was sent in its public form (scheme://host/path: the host of the `${env:}` URL is not
    a secret there) and its own messages (the patched probe's quoted failure is the test's
    invention, cut out; whatever else the emulator kept is still searched)."""
    if not name.startswith(("emulator-data/", "serve-data/")):
        return data
    raw = data.encode() if isinstance(data, str) else data
    return raw.replace(QUOTED_FAILURE.encode(), b"").replace(b"bucket.example", b"")


def _users(file: Path, root: Path) -> bool:
    """A file the user wrote (a workspace), not one the tool wrote."""
    parts = file.relative_to(root).parts
    return parts[0] in ("ws", "serve-ws") and file.suffix in (".yaml", ".yml")


def _serve_and_apply(tmp_path: Path, env: dict[str, str]) -> str:
    """`emulator serve --data-dir` in its own process; a workspace applied against it; its data
    directory and its output are searched with the rest."""
    data_dir = str(tmp_path / "serve-data")
    serving = _serve("--job-seconds", "0.05", "--fail-media", "/fail/", "--data-dir", data_dir)
    served = next(serving)
    try:
        ws = write_workspace(tmp_path / "serve-ws", {"main.yaml": WORKSPACE})
        state = str(tmp_path / "serve-state.json")
        done = cli(
            "apply", str(ws), "--auto-approve", "--poll-interval", "0.05", "--state", state,
            env={**env, **served.env()}, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr  # the broken import fails
    finally:
        next(serving, None)  # stops the server
    return served.output + done.stdout + done.stderr
