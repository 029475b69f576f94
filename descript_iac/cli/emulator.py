"""`descript-iac emulator serve`: run the local Descript API emulator."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from descript_iac.cli.context import echo
from descript_iac.emulator import EmulatorConfig
from descript_iac.emulator.backend import IMPORT_INTO_EXISTING
from descript_iac.emulator.faults import Faults
from descript_iac.emulator.server import make_backend, serve_forever


@click.group()
def emulator() -> None:
    """The local Descript API emulator (no credits spent, no network needed)."""


@emulator.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep projects and jobs here across restarts (default: memory only).",
)
@click.option("--token", help="API token clients must send (default: a new random token).")
@click.option(
    "--job-seconds", default=2.0, show_default=True, type=float, help="How long a job runs."
)
@click.option(
    "--manual-clock", is_flag=True, help="Time moves only via POST /_emulator/clock/advance."
)
@click.option(
    "--capability",
    "capabilities",
    multiple=True,
    type=click.Choice([IMPORT_INTO_EXISTING]),
    help="Enable an API capability Descript has not shipped yet.",
)
@click.option("--rate-limit", type=int, help="Fault: N requests per --rate-window per token.")
@click.option("--rate-window", default=1.0, show_default=True, type=float, help="Seconds.")
@click.option("--error-rate", default=0.0, type=float, help="Fault: fraction answered 500.")
@click.option("--latency", default=0.0, type=float, help="Fault: seconds added to each request.")
@click.option(
    "--lose-response-rate",
    default=0.0,
    type=float,
    help="Fault: fraction of job POSTs whose reply is lost after the job was created.",
)
@click.option(
    "--job-failure-rate", default=0.0, type=float, help="Fault: fraction of jobs failing."
)
@click.option("--fail-media", help="Fault: regex; matching media URLs fail to import.")
@click.option("--fail-prompt", help="Fault: regex; matching prompts fail.")
@click.option("--credit-budget", type=float, help="Fault: AI credits before 402 is returned.")
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
    job_seconds: float,
    manual_clock: bool,
    capabilities: tuple[str, ...],
    rate_limit: int | None,
    rate_window: float,
    error_rate: float,
    latency: float,
    lose_response_rate: float,
    job_failure_rate: float,
    fail_media: str | None,
    fail_prompt: str | None,
    credit_budget: float | None,
    seed: int,
    allow_callback_host: tuple[str, ...],
) -> None:
    """Serve the emulated Descript API on HOST:PORT until Ctrl-C.

    Point descript-iac at it with the printed --api-url and DESCRIPT_API_TOKEN. The emulator's
    own inspection API lives under /_emulator (projects, clock, faults, stats, reset).
    """
    token = token or f"emu_{secrets.token_hex(12)}"
    faults = Faults(
        rate_limit=rate_limit,
        rate_window=rate_window,
        error_rate=error_rate,
        latency=latency,
        lose_response_rate=lose_response_rate,
        job_failure_rate=job_failure_rate,
        fail_media_pattern=fail_media,
        fail_prompt_pattern=fail_prompt,
        credit_budget=credit_budget,
        seed=seed,
    )
    config = EmulatorConfig(
        tokens=(token,),
        job_seconds=job_seconds,
        capabilities=frozenset(capabilities),
        faults=faults,
        allow_callback_hosts=allow_callback_host,
    )
    backend = make_backend(config, data_dir, manual_clock)
    if host not in ("127.0.0.1", "localhost", "::1"):
        echo(f"Warning: binding {host}: the emulator is reachable from other machines.", err=True)
    # The emulator's token is a local test token, so printing it is the point.
    click.echo(f"Descript API emulator on http://{host}:{port}/v1")
    click.echo(f"  export DESCRIPT_API_URL=http://{host}:{port}/v1")
    click.echo(f"  export DESCRIPT_API_TOKEN={token}")
    click.echo("Inspection API: /_emulator/projects, /_emulator/stats; Ctrl-C stops.")
    serve_forever(backend, host, port)
