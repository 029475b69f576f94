"""Terraform's command-line conventions where users bring them (issue #19): exit codes that a
CI script can trust, durations with units, hints for single-dash options, `plan --json`, one way
to name the workspace, suggested commands that can be pasted, a closed pipe that ends quietly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from descript_iac.cli import main as cli_main
from descript_iac.cli.durations import Duration, parse_duration
from descript_iac.cli.suggestions import complete
from tests.builders import REPO, run_cli, write_workspace

ENV = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's code in a subprocess
VALID = "version: 1\nprojects:\n  ep:\n    name: Ep\n    steps:\n      - {id: a, prompt: Hi}\n"


def _ws(tmp_path: Path, text: str = VALID) -> str:
    return str(write_workspace(tmp_path / "ws", {"main.yaml": text}))


@pytest.mark.parametrize(
    ("case", "args", "code"),
    [
        ("usage error", ["plan", "WS", "--detailed-exitcode", "--taget", "x"], 1),
        ("bad option value", ["plan", "WS", "--detailed-exitcode", "--format", "yaml"], 1),
        ("unknown command", ["plam", "WS"], 1),
        ("invalid workspace", ["plan", "BAD", "--detailed-exitcode"], 1),
        ("changes", ["plan", "WS", "--detailed-exitcode", "--forecast", "off"], 2),
        ("changes, no detailed exit code", ["plan", "WS", "--forecast", "off"], 0),
        ("no changes", ["plan", "EMPTY", "--detailed-exitcode"], 0),
    ],
)
def test_exit_codes(tmp_path: Path, case: str, args: list[str], code: int) -> None:
    ws = _ws(tmp_path)
    bad = str(write_workspace(tmp_path / "bad", {"main.yaml": "version: 1\nprojects: 3\n"}))
    empty = str(write_workspace(tmp_path / "empty", {"main.yaml": "version: 1\n"}))
    argv = [{"WS": ws, "BAD": bad, "EMPTY": empty}.get(a, a) for a in args]
    argv = ["--state", str(tmp_path / "s.json"), *argv]
    # A subprocess: click's own exit (not the test runner's) is what a CI script sees.
    done = subprocess.run(
        [sys.executable, "-m", "descript_iac", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    assert done.returncode == code, (case, done.stdout, done.stderr)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("0.5", 0.5), ("10s", 10), ("5m", 300), ("1h", 3600), ("1h30m", 5400),
     ("500ms", 0.5), (" 2M ", 120)],
)  # fmt: skip
def test_durations_take_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m", "1h 30m", "nan", "inf", "-"])
def test_a_bad_duration_is_refused_with_the_forms_it_takes(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration"):
        parse_duration(text)


def test_lock_timeout_takes_a_unit_and_refuses_a_bad_one(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    ok = run_cli("--lock-timeout=10s", "plan", ws, "--forecast", "off")
    assert ok.exit_code == 0, ok.output
    bad = run_cli("plan", ws, "--lock-timeout", "5x")
    assert bad.exit_code == 1 and "write seconds (90, 0.5) or a number with a unit" in bad.output


@pytest.mark.parametrize(
    ("word", "hint"),
    [("-out=x", "Did you mean --out=x?"), ("-target", "Did you mean --target?")],
)
def test_a_single_dash_long_option_gets_a_hint(tmp_path: Path, word: str, hint: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "descript_iac", "plan", _ws(tmp_path), word],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert done.returncode == 1
    assert hint in done.stderr


def test_plan_json_is_the_json_format(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    flag = run_cli("--state", str(tmp_path / "s.json"), "plan", ws, "--json", "--forecast", "off")
    long = run_cli(
        "--state", str(tmp_path / "s.json"), "plan", ws, "--format", "json", "--forecast", "off"
    )
    assert flag.exit_code == 0 and long.exit_code == 0
    a, b = json.loads(flag.output), json.loads(long.output)  # (a new state's salt each time)
    assert a.keys() == b.keys() and a["text_summary"] == b["text_summary"]
    assert [x["action"] for x in a["actions"]] == [x["action"] for x in b["actions"]]


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{ws}"],
        ["validate", "--workspace", "{ws}"],
        ["validate", "-w", "{ws}"],
        ["state", "list", "--workspace", "{ws}"],
        ["costs", "-w", "{ws}"],
        ["show", "--workspace", "{ws}"],
        ["plan", "-w", "{ws}", "--forecast", "off"],
    ],
)
def test_every_command_takes_the_workspace_as_an_option(tmp_path: Path, args: list[str]) -> None:
    ws = _ws(tmp_path)
    done = run_cli("--state", str(tmp_path / "s.json"), *[a.format(ws=ws) for a in args])
    assert done.exit_code == 0, done.output


def test_the_workspace_given_twice_differently_is_refused(tmp_path: Path) -> None:
    done = run_cli("validate", _ws(tmp_path), "--workspace", str(tmp_path))
    assert done.exit_code == 1 and "the workspace is given twice" in done.output


def test_suggested_commands_are_completed_with_the_runs_workspace_and_state() -> None:
    import click

    from descript_iac.cli.context import Globals

    ctx = click.Context(click.Command("x"))
    ctx.obj = Globals(None, Path("st/ws.json"), False, 0.0, None, workspace_dir=Path("shows"))
    text = (
        "adopt it with `descript-iac import ep PROJECT_ID`, or `descript-iac apply --refresh`; "
        "then `descript-iac state rebuild --mark-applied STEP_ID ...`; "
        "`descript-iac config set api-key` and `descript-iac plan shows` stay as they are"
    )
    assert complete(text, ctx) == (
        "adopt it with `descript-iac import ep PROJECT_ID --workspace shows --state "
        "st/ws.json`, or `descript-iac apply --refresh --workspace shows --state st/ws.json`; "
        "then `descript-iac state rebuild --mark-applied STEP_ID [--mark-applied STEP_ID ...] "
        "--workspace shows --state st/ws.json`; `descript-iac config set api-key` and "
        "`descript-iac plan shows --state st/ws.json` stay as they are"
    )


def test_a_suggested_command_runs_when_pasted_from_where_the_command_ran(tmp_path: Path) -> None:
    """A refresh that found drift says `descript-iac apply --refresh`; pasted as printed, from the
    same directory, it names the same workspace and state."""
    text = complete(
        "accept it with `descript-iac apply --refresh`",
        _context(tmp_path / "ws", tmp_path / "state.json"),
    )
    pasted = text.split("`")[1].split()[1:]
    assert pasted == [
        "apply", "--refresh", "--workspace", str(tmp_path / "ws"), "--state",
        str(tmp_path / "state.json"),
    ]  # fmt: skip


def _context(workspace: Path, state: Path):  # type: ignore[no-untyped-def]
    import click

    from descript_iac.cli.context import Globals

    ctx = click.Context(click.Command("x"))
    ctx.obj = Globals(None, state, False, 0.0, None, workspace_dir=workspace)
    return ctx


def test_a_closed_pipe_ends_quietly_and_successfully(tmp_path: Path) -> None:
    """`descript-iac show PLAN | head -c 10` under `set -o pipefail` (a saved plan larger than a
    pipe's buffer): no error, exit 0."""
    body = "".join(
        f"  ep-{i}:\n    name: Episode {i}\n    steps:\n      - {{id: a, prompt: Say {i}}}\n"
        for i in range(2000)
    )
    ws = _ws(tmp_path, "version: 1\nprojects:\n" + body)
    saved = tmp_path / "big.plan"
    made = run_cli("--state", str(tmp_path / "s.json"), "plan", ws, "--forecast", "off", "--out",
                   str(saved))  # fmt: skip
    assert made.exit_code == 0, made.output
    script = (
        f"set -o pipefail; {sys.executable} -m descript_iac show {saved} | head -c 10 >/dev/null"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def _all_commands(group: click.Command, path: str = "") -> list[tuple[str, click.Command]]:
    found = [(path, group)]
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            assert sub is not None, name
            found += _all_commands(sub, f"{path} {name}".strip())
    return found


# Options whose value is a time span. Retry-After is a whole number of seconds by HTTP's
# definition, and the emulator writes it into the header as given.
TIME_SPAN = re.compile(r"seconds|lag|window|latency|timeout|deadline|span|interval|wait|grace")


def test_every_time_span_option_of_every_command_takes_a_unit() -> None:
    """`--job-seconds 500ms` or `--history-lag 5m` work wherever a time span is asked for:
    walks the whole CLI, so a new option is covered as it is added."""
    spans = []
    for path, command in _all_commands(cli_main):
        for param in command.params:
            name = (param.opts or [""])[0]
            if (
                isinstance(param, click.Option)
                and TIME_SPAN.search(name)
                and not param.is_flag
                and not isinstance(param.type, click.Choice)  # a kind of window, not a span
            ):
                spans.append((path, name, param.type))
    assert len(spans) >= 8, spans
    wrong = [(p, n, t) for p, n, t in spans if not isinstance(t, Duration)]
    assert wrong == [], f"time spans that refuse units: {wrong}"
    served = run_cli("emulator", "serve", "--job-seconds", "2x")
    assert served.exit_code == 1 and "is not a duration" in served.output


def test_apply_that_needs_attention_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job left running past the longest wait is listed under "Needs attention": the run did
    not finish its work, so a CI script must not read it as a success (exit 1, as a job left in
    doubt). The emulator's clock stands still, so its job never stops; the longest wait is cut
    to a fraction of a second."""
    import functools

    from descript_iac.apply import ApplyOptions
    from tests.builders import TOKEN, start_emulator

    monkeypatch.setattr(
        "descript_iac.apply.ApplyOptions", functools.partial(ApplyOptions, max_job_wait=0.3)
    )
    ws = _ws(tmp_path)
    running = start_emulator(manual_clock=True)
    try:
        env = {"DESCRIPT_API_URL": running.base_url, "DESCRIPT_API_TOKEN": TOKEN}
        args = ["--state", str(tmp_path / "s.json"), "apply", ws, "--auto-approve"]
        done = run_cli(*args, "--poll-interval", "0.05", "--forecast", "off", env=env)
    finally:
        running.stop()
    assert "Needs attention:" in done.output and "still running after" in done.output
    assert "Apply finished with problems" in done.output
    assert done.exit_code == 1, done.output
    recorded = json.loads((tmp_path / "s.json").read_text())
    assert recorded["projects"]["ep"]["steps"][0]["job_id"]  # left running, and recorded
