"""Reusable builders for tests: workspaces on disk, CLI runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from descript_iac.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def write_workspace(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run_cli(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


TOKEN = "test-token-0123456789"


def start_emulator(
    *,
    job_seconds: float = 0.05,
    manual_clock: bool = False,
    data_dir: Path | None = None,
    capabilities: frozenset[str] = frozenset(),
    **faults: object,
):  # type: ignore[no-untyped-def]
    """An emulator on a real loopback socket, in a background thread (call `.stop()`)."""
    from descript_iac.emulator import EmulatorConfig
    from descript_iac.emulator.faults import Faults
    from descript_iac.emulator.server import make_backend, start_background

    config = EmulatorConfig(
        tokens=(TOKEN,),
        job_seconds=job_seconds,
        capabilities=capabilities,
        faults=Faults(**faults),  # type: ignore[arg-type]
    )
    return start_background(make_backend(config, data_dir, manual_clock))
