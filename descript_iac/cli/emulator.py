"""`descript-iac emulator serve`: run the local Descript API emulator."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click

from descript_iac.cli.context import echo
from descript_iac.cli.durations import Duration
from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator.exceptions import EmulatorError
from descript_iac.emulator.faults import API_LEVELS, Faults
from descript_iac.emulator.imports import IMPORT_INTO_EXISTING
from descript_iac.emulator.server import make_backend, serve_forever
from descript_iac.errors import DescriptIacError


@click.group()
def emulator() -> None:
    """The local Descript API emulator (no credits spent, no network needed)."""


FRACTION = click.FloatRange(0, 1)
SECONDS = Duration()  # 10s, 5m, 500ms or plain seconds


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep projects and jobs here across restarts (default: memory only). Prompts and "
    "callback URL query strings are never written there.",
)
@click.option("--token", help="API token clients must send (default: a new random token).")
@click.option(
    "--also-token",
    "also_tokens",
    multiple=True,
    help="Another token of the same drive (one person's two tokens): it sees the same projects "
    "and jobs.",
)
@click.option(
    "--job-seconds",
    default=2.0,
    show_default=True,
    type=SECONDS,
    help="How long a job runs (2, 2s, 1m, 500ms).",
)
@click.option(
    "--manual-clock", is_flag=True, help="Time moves only via POST /_emulator/clock/advance."
)
@click.option(
    "--api-level",
    type=click.Choice(API_LEVELS),
    default="seed",
    show_default=True,
    help="seed: the documented API. 2026: adds GET /v1/projects, GET /v1/projects/{id}, "
    "POST /v1/jobs/publish, DELETE /v1/jobs/{id}, folder_name and composition_id.",
)
@click.option(
    "--capability",
    "capabilities",
    multiple=True,
    type=click.Choice([IMPORT_INTO_EXISTING]),
    help="Enable an API capability Descript has not shipped yet (seed level).",
)
@click.option(
    "--publish-access-levels",
    default="unlisted,drive,private",
    show_default=True,
    help="Publish access levels the drive permits (others answer 403).",
)
@click.option("--rate-limit", type=int, help="Fault: N requests per --rate-window per token.")
@click.option(
    "--rate-window",
    default=1.0,
    show_default=True,
    type=SECONDS,
    help="The window of --rate-limit (1, 1s, 1m).",
)
@click.option(
    "--rate-window-kind",
    type=click.Choice(["fixed", "sliding"]),
    default="fixed",
    show_default=True,
    help="Count the rate limit in a window fixed from its first request, or sliding (the last "
    "--rate-window seconds).",
)
@click.option(
    "--rate-reset",
    type=click.Choice(["seconds", "epoch"]),
    default="seconds",
    show_default=True,
    help="X-RateLimit-Reset as seconds until the window resets, or as its epoch time.",
)
@click.option(
    "--rate-headers",
    multiple=True,
    metavar="NAME=VALUE",
    help="Fault: send VALUE as it is for this rate-limit header (Retry-After, X-RateLimit-Limit, "
    "-Remaining, -Consumed, -Reset) on every reply that carries one: nan, 1e12, -5, a date. "
    "Repeatable.",
)
@click.option(
    "--retry-after",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Retry-After (seconds) of throttling storms and scripted 429s.",
)
@click.option("--error-rate", default=0.0, type=FRACTION, help="Fault: fraction answered 500.")
@click.option("--latency", default=0.0, type=SECONDS, help="Fault: seconds added to each request.")
@click.option(
    "--lose-response-rate",
    default=0.0,
    type=FRACTION,
    help="Fault: fraction of job POSTs whose reply is lost after the job was created.",
)
@click.option(
    "--error-after-commit-rate",
    default=0.0,
    type=FRACTION,
    help="Fault: fraction of job POSTs answered 500/502/503 after the job was created.",
)
@click.option(
    "--history-lag",
    default=0.0,
    type=SECONDS,
    help="Fault: seconds before a new job appears in GET /v1/jobs (GET /v1/jobs/{id} is not "
    "lagged).",
)
@click.option(
    "--projects-lag",
    default=0.0,
    type=SECONDS,
    help="Fault: seconds before a new project appears in GET /v1/projects.",
)
@click.option(
    "--date-offset",
    default=0.0,
    type=float,
    help="Fault: seconds the Date header runs ahead of (negative: behind) the clock that stamps "
    "jobs, as a load balancer or CDN with its own clock would make it.",
)
@click.option(
    "--job-failure-rate", default=0.0, type=FRACTION, help="Fault: fraction of jobs failing."
)
@click.option("--fail-media", help="Fault: regex; matching media URLs fail to import.")
@click.option("--fail-prompt", help="Fault: regex; matching prompts fail.")
@click.option("--credit-budget", type=float, help="Fault: AI credits before 402 is returned.")
@click.option(
    "--drip-seconds",
    type=SECONDS,
    default=0.0,
    help="Fault: every reply's body comes one byte per this many seconds (a reply that never "
    "quite ends).",
)
@click.option(
    "--hostile-text",
    is_flag=True,
    help="Fault: agent replies and error messages carry escape sequences, carriage returns, "
    "bidi overrides and very long lines (untrusted text, as a model or a proxy can send).",
)
@click.option(
    "--hostile-numbers",
    is_flag=True,
    help="Fault: agent results report ai_credits_used as -1e9 (a number that is not sane).",
)
@click.option(
    "--echo-prompt",
    is_flag=True,
    help="Fault: agent replies quote their prompt (a secret in a prompt comes back in the job "
    "history).",
)
@click.option(
    "--read-media",
    is_flag=True,
    help="Read each media file's duration from the file (downloaded, as the service does) "
    "instead of making one up from its URL: imports bill what the files hold.",
)
@click.option(
    "--foreign-client",
    default=0.0,
    type=SECONDS,
    help="Fault: look-alike jobs per emulator-minute made by another client of the token's "
    "drive (prompt-only creates, imports, agent jobs on its projects).",
)
@click.option(
    "--foreign-media",
    default="host.wav,guest.wav",
    show_default=True,
    help="Comma-separated media names of the other client's imports.",
)
@click.option(
    "--foreign-composition",
    default="Full episode",
    show_default=True,
    help="Comma-separated composition names of the other client's imports.",
)
@click.option(
    "--foreign-user",
    type=click.Choice(["same", "other"]),
    default="same",
    show_default=True,
    help="Whether the other client uses this token's user (as a second workspace or CI job "
    "would) or another user of the drive (then created_by=me tells them apart).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of random faults.")
@click.option(
    "--allow-callback-host",
    multiple=True,
    help="Non-loopback host that callbacks may be sent to.",
)
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    token: str | None,
    also_tokens: tuple[str, ...],
    job_seconds: float,
    manual_clock: bool,
    capabilities: tuple[str, ...],
    allow_callback_host: tuple[str, ...],
    **settings: Any,
) -> None:
    """Serve the emulated Descript API on HOST:PORT until Ctrl-C.

    Point descript-iac at it with the printed --api-url and DESCRIPT_API_TOKEN. The emulator's
    own inspection API lives under /_emulator: projects, clock, clock/advance, faults (read or
    change any option above at run time, plus next_posts, throttle_until and throttle_next),
    foreign, stats and reset.
    """
    token = token or f"emu_{secrets.token_hex(12)}"
    renamed = {"fail_media": "fail_media_pattern", "fail_prompt": "fail_prompt_pattern"}
    settings["foreign_same_user"] = settings.pop("foreign_user") == "same"
    pairs = [entry.partition("=") for entry in settings.pop("rate_headers")]
    if any(not sep for _, sep, _ in pairs):
        raise DescriptIacError("emulator serve: give --rate-headers as NAME=VALUE")
    settings["rate_headers"] = {name.strip(): value for name, _, value in pairs}
    try:
        faults = Faults(**{renamed.get(k, k): v for k, v in settings.items()})
    except EmulatorError as exc:
        raise DescriptIacError(f"emulator serve: {exc.message}") from None
    config = EmulatorConfig(
        tokens=(token, *also_tokens),
        job_seconds=job_seconds,
        capabilities=frozenset(capabilities),
        faults=faults,
        allow_callback_hosts=allow_callback_host,
        shared_drives=dict.fromkeys(also_tokens, token),
    )
    backend = make_backend(config, data_dir, manual_clock)
    if host not in ("127.0.0.1", "localhost", "::1"):
        echo(f"Warning: binding {host}: the emulator is reachable from other machines.", err=True)
    # The emulator's token is a local test token, so printing it is the point.
    click.echo(f"Descript API emulator ({faults.api_level} level) on http://{host}:{port}/v1")
    click.echo(f"  export DESCRIPT_API_URL=http://{host}:{port}/v1")
    click.echo(f"  export DESCRIPT_API_TOKEN={token}")
    click.echo(
        "Inspection API: /_emulator/projects, /_emulator/faults, /_emulator/stats; Ctrl-C stops."
    )
    serve_forever(backend, host, port)
