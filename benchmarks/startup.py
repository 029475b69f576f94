"""Start-up against the cost of the dependencies (issue #13), each run in a fresh process:

    python benchmarks/startup.py [--runs 10]

The bound is `python -c "import click, pydantic, ruamel.yaml"`: the interpreter and the
libraries every command needs. Measured: `descript-iac --help` and `descript-iac validate` of a
one-project workspace. Prints medians (and minimums, steadier on a busy machine).

The package's bytecode is compiled first, as pip does when it installs it: with
PYTHONDONTWRITEBYTECODE set (as on this project's machines), a checkout would otherwise compile
every module of descript_iac at every start, which the bound, whose libraries were installed
compiled, never does.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import CLI, load_note, print_table, run_process

ONE = 'version: 1\nprojects:\n  ep:\n    media:\n      a.wav: {url: "https://cdn.example.com/a.wav"}\n'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    spec = importlib.util.find_spec("descript_iac")
    assert spec is not None and spec.origin is not None
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)
    with tempfile.TemporaryDirectory() as name:
        root = Path(name) / "ws"
        root.mkdir()
        (root / "main.yaml").write_text(ONE)
        # As `init` writes a workspace: with a `state:` block.
        inited = Path(name) / "inited"
        inited.mkdir()
        (inited / "main.yaml").write_text(f"{ONE}state: {{backend: local, path: state.json}}\n")
        cache = Path(name) / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}

        def wipe() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        validate = [CLI, "validate", str(root)]
        edits = iter(range(1_000_000))

        def touch() -> None:  # a new comment: a new file for the cache, which stays warm
            (root / "main.yaml").write_text(f"{ONE}# edit {next(edits)}\n")

        def touch_inited() -> None:
            text = (inited / "main.yaml").read_text().split("# edit")[0]
            (inited / "main.yaml").write_text(f"{text}# edit {next(edits)}\n")

        commands = {
            "bound: import click, pydantic, ruamel.yaml": (
                [sys.executable, "-c", "import click, pydantic, ruamel.yaml"],
                None,
            ),
            "descript-iac --help": ([CLI, "--help"], None),
            "descript-iac validate (1 project), first run": (validate, wipe),
            "descript-iac validate (1 project), file changed": (validate, touch),
            "descript-iac validate (1 project), again": (validate, None),
            "descript-iac validate (1 project, state: block), file changed": (
                [CLI, "validate", str(inited)],
                touch_inited,
            ),
            "descript-iac plan --help": ([CLI, "plan", "--help"], None),
        }
        print(load_note())
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):  # interleaved, so that a busy moment hits every command
            for label, (argv, before) in commands.items():
                if before:
                    before()
                times[label].append(run_process(argv, env=env).seconds)
        print(f"after: {load_note()}")
    bound = statistics.median(times[next(iter(commands))])
    rows = []
    for label, samples in times.items():
        median = statistics.median(samples)
        is_bound = label.startswith("bound")
        rows.append(
            (
                label,
                f"{median * 1000:.0f} ms (min {min(samples) * 1000:.0f})",
                "" if is_bound else f"{bound * 1000:.0f} ms",
                "" if is_bound else f"{median / bound:.2f}x",
                "" if is_bound or "plan" in label else "<= 1.3x",
            )
        )
    print_table(rows)


if __name__ == "__main__":
    main()
