"""`descript-iac serve` (the controller) and `descript-iac approve RUN` (a verdict on a run)."""

from __future__ import annotations

import getpass
import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.cli.durations import Duration
from descript_iac.errors import DescriptIacError

log = logging.getLogger("descript_iac.controller")
TOKEN_ENV = "DESCRIPT_IAC_CONTROLLER_TOKEN"  # the same name as descript_iac.controller.settings


@click.command()
@click.argument("config_file", type=click.Path(path_type=Path), default=Path("controller.yaml"))
@click.option("--listen", help="HOST:PORT to serve on (overrides the file's `listen:`).")
@click.option(
    "--grace",
    type=Duration(),
    default=30.0,
    show_default=True,
    help="How long a stop (SIGTERM) waits for the running jobs to be recorded (30, 30s, 2m).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Logs on standard error: text lines, or one JSON object a line (time, level, event, "
    "workspace, run).",
)
def serve(config_file: Path, listen: str | None, grace: float, log_format: str) -> None:
    """Watch the workspaces CONFIG_FILE names (default: controller.yaml), plan each new revision,
    apply what its policy allows and hold the rest for approval; serve the dashboard, the JSON
    API, webhooks and callbacks. The Descript token is DESCRIPT_API_TOKEN; approvals need
    DESCRIPT_IAC_CONTROLLER_TOKEN; webhooks DESCRIPT_IAC_WEBHOOK_SECRET."""
    from descript_iac.controller.logs import configure
    from descript_iac.controller.service import Controller
    from descript_iac.controller.settings import load_settings

    settings = load_settings(config_file)
    if listen:
        settings = settings.model_copy(update={"listen": listen})
        settings = type(settings).model_validate(settings.model_dump())
    configure("json" if log_format == "json" else "text")
    controller = Controller(settings)
    if controller.token is None:
        log.warning("%s is not set: the controller is read-only (no approvals)", TOKEN_ENV)
    echo(f"Serving on http://{settings.listen} ({len(settings.workspaces)} workspace(s))")
    controller.serve(grace)


@click.command()
@click.argument("run_id")
@click.option(
    "--url",
    envvar="DESCRIPT_IAC_CONTROLLER_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The controller's address (or DESCRIPT_IAC_CONTROLLER_URL).",
)
@click.option("--reject", is_flag=True, help="Reject the run instead of approving it.")
@click.option("--by", default=None, help="Who gives the verdict (default: your user name).")
def approve(run_id: str, url: str, reject: bool, by: str | None) -> None:
    """Approve (or --reject) the held run RUN_ID of a `serve` controller; the token is
    DESCRIPT_IAC_CONTROLLER_TOKEN."""
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise DescriptIacError(f"set {TOKEN_ENV} to the controller's token to give a verdict")
    verdict = "reject" if reject else "approve"
    who = by or getpass.getuser()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/runs/{run_id}/{verdict}",
        data=json.dumps({"by": who}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read() or b"{}").get("error", exc.reason)
        except ValueError:
            detail = exc.reason
        raise DescriptIacError(f"run {run_id}: {detail}") from None
    except (OSError, ValueError) as exc:
        raise DescriptIacError(f"cannot reach the controller at {url}: {exc}") from None
    echo(f"Run {run_id}: {answer.get('status', '?')} by {who}")
