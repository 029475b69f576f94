"""Reusable builders for tests: workspaces on disk, CLI runs."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from descript_iac.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


# One project of one medium and one composition: what most end-to-end tests apply.
ONE_IMPORT = """
version: 1
projects:
  ep:
    media:
      host.wav: {url: "https://cdn.example.com/ep/host.wav"}
    compositions:
      - name: Full
        clips: [{media: host.wav}]
"""


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
    tokens: tuple[str, ...] = (TOKEN,),
    shared_drives: dict[str, str] | None = None,
    **faults: object,
):  # type: ignore[no-untyped-def]
    """An emulator on a real loopback socket, in a background thread (call `.stop()`).

    `tokens` it accepts; `shared_drives` maps a token to another whose drive it reaches.

    `faults` are the emulator's settings (`descript_iac.emulator.faults.Faults`), e.g.
    `api_level="2026"`, `history_lag=75`, `projects_lag=30`, `error_after_commit_rate=1.0`,
    `next_posts=["lose", "ok"]`, `throttle_next=3`, `retry_after=60`, `foreign_client=2`,
    `foreign_media=["host.wav"]`, `foreign_composition=["Full episode"]`,
    `publish_access_levels=["unlisted"]`, plus the older rate/error/lose/failure knobs.
    """
    from descript_iac.emulator import EmulatorConfig
    from descript_iac.emulator.faults import Faults
    from descript_iac.emulator.server import make_backend, start_background

    config = EmulatorConfig(
        tokens=tokens,
        job_seconds=job_seconds,
        capabilities=capabilities,
        faults=Faults(**faults),  # type: ignore[arg-type]
        shared_drives=shared_drives or {},
    )
    return start_background(make_backend(config, data_dir, manual_clock))


# --- desired and recorded state, built in memory (no I/O) -------------------------------------

IMPORT_JOB = "import/project_media"


def desired_project(address: str = "ep", defaults: dict | None = None, **spec: object):  # type: ignore[no-untyped-def]
    """A DesiredProject from a plain dict, as if loaded from a file."""
    from descript_iac.config.desired import DesiredProject
    from descript_iac.config.model import Defaults, Project

    return DesiredProject(
        address=address,
        spec=Project.model_validate(spec),
        defaults=Defaults.model_validate(defaults or {}),
        file="ws/main.yaml",
        line=3,
    )


def record_apply(  # type: ignore[no-untyped-def]
    doc,
    project,
    *,
    import_status: str = "success",
    failed_media: tuple[str, ...] = (),
    steps: dict[str, str] | None = None,
    job_state: str = "stopped",
):
    """Record in `doc`, through the journal's own events, that `project` was applied.

    `steps` maps step id -> result status ("success", "error") or "running"; by default every
    step of the project succeeded.
    """
    import uuid

    from descript_iac.plan import digests, shown
    from descript_iac.state.events import (
        JobSubmitted,
        JobUpdated,
        apply_event,
        parse_event,
    )

    salt = doc.salt
    address = project.address
    facets = digests.recorded_facets(salt, project)
    project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"project:{address}"))
    steps = {s.id: "success" for s in project.spec.steps} if steps is None else steps
    first_step_creates = not project.spec.media

    def job(job_id: str, job_type: str, status: str, extra: dict) -> dict:
        state = "running" if status == "running" else job_state
        body = {
            "job_id": job_id,
            "job_type": job_type,
            "job_state": state,
            "project_id": project_id,
        }
        if state == "stopped":
            body["result"] = {"status": status, **extra}
        return body

    def submit(action: str, job_type: str, step_id: str | None = None) -> str:
        intent_id, job_id = str(uuid.uuid4()), str(uuid.uuid4())
        step = next((s for s in project.spec.steps if s.id == step_id), None)
        intent = {
            "intent_id": intent_id,
            "action": action,
            "step_id": step_id,
            "fingerprint": "sha256:x",
            "sent_at": 1000.0,
            "job_type": job_type,
            "facets": facets.to_json(),
            "media": dict(facets.media) if job_type == IMPORT_JOB else {},
            "step_digest": digests.step_digest(salt, project, step) if step else None,
            "step_prompt": shown.step_prompt(project, step) if step else None,
            "step_model": shown.step_model(project, step) if step else None,
        }
        apply_event(
            doc, parse_event({"type": "intent_opened", "address": address, "intent": intent})
        )
        apply_event(
            doc,
            JobSubmitted(
                address=address,
                intent_id=intent_id,
                job_id=job_id,
                project_id=project_id,
                project_url=f"https://web.descript.com/{project_id}",
            ),
        )
        return job_id

    if not first_step_creates:
        job_id = submit("create", IMPORT_JOB)
        media_status = {
            n: {"status": "failed", "error_message": "Unsupported file type"}
            if n in failed_media
            else {"status": "success", "duration_seconds": 10.0}
            for n in project.spec.media
        }
        extra = {
            "media_status": media_status,
            "media_seconds_used": 10,
            "created_compositions": [
                {"id": str(uuid.uuid4()), "name": c.name} for c in project.spec.compositions
            ],
        }
        if import_status == "error":
            extra["error_message"] = "Import failed"
        apply_event(
            doc, JobUpdated(address=address, job=job(job_id, IMPORT_JOB, import_status, extra))
        )
        if import_status != "success":
            return doc
    for index, (step_id, status) in enumerate(steps.items()):
        action = "create" if first_step_creates and index == 0 else "step"
        job_id = submit(action, "agent", step_id)
        extra = {"agent_response": "Done!", "ai_credits_used": 10, "media_seconds_used": 0}
        if status == "error":
            extra["error_message"] = "The agent could not complete the request"
        apply_event(doc, JobUpdated(address=address, job=job(job_id, "agent", status, extra)))
    return doc


@functools.lru_cache(maxsize=1)
def _tls():  # type: ignore[no-untyped-def]
    """One TLS context for every test client: building one costs ~0.1 s (the emulator is http)."""
    import ssl

    return ssl.create_default_context()


@contextlib.contextmanager
def serving(**settings: object):  # type: ignore[no-untyped-def]
    """`start_emulator(**settings)` and an httpx client of its /v1 API with the token; stops it."""
    import httpx

    running = start_emulator(**settings)  # type: ignore[arg-type]
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=running.base_url, headers=headers, verify=_tls()) as api:
            yield running, api
    finally:
        running.stop()


def inspect(running, path: str, body: object = None):  # type: ignore[no-untyped-def]
    """GET (or, given a body, POST) the emulator's inspection API: `inspect(running, "stats")`."""
    import httpx

    url = f"{running.root_url}/_emulator/{path}"
    with httpx.Client(verify=_tls()) as client:
        return client.get(url) if body is None else client.post(url, json=body)


def advance_clock(running, seconds: float) -> float:  # type: ignore[no-untyped-def]
    """Move a `manual_clock` emulator's time forward; returns its new time."""
    reply = inspect(running, "clock/advance", {"seconds": seconds})
    reply.raise_for_status()
    return float(reply.json()["now"])


class ManualTime:
    """The tool's sleep and clocks on a `manual_clock` emulator: every wait of the tool is time
    passing, for the API (its clock is moved) and for this machine alike (the clocks handed to
    the client and the engine count it), so minutes of a run pass in a moment."""

    def __init__(self, running: Any, least: float = 0.05) -> None:
        self.running = running
        self.least = least  # the shortest wait (a zero wait would never move the clock)
        self.waited = 0.0

    def wait(self, seconds: float) -> None:
        seconds = max(seconds, self.least)
        self.waited += seconds
        advance_clock(self.running, seconds)

    def wall(self) -> float:
        return time.time() + self.waited

    def monotonic(self) -> float:
        return time.monotonic() + self.waited


def set_faults(running, **faults: object) -> dict:  # type: ignore[no-untyped-def]
    """Change a running emulator's settings through its inspection API."""
    reply = inspect(running, "faults", faults)
    reply.raise_for_status()
    return dict(reply.json())


def wait_for_job(api, job_id: str, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
    """Poll GET /jobs/{id} with a plain httpx client until the job stops."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"jobs/{job_id}").json()
        if job["job_state"] == "stopped":
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not stop within {timeout}s")


# --- a small or read-only disk (a real tmpfs when the tests may mount one) --------------------


@contextlib.contextmanager
def tmpfs(path: Path, size_kb: int = 64, *, read_only: bool = False) -> Iterator[Path]:
    """Mount a tmpfs of `size_kb` at `path` (root only; skips the test otherwise)."""
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kb}k" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, capture_output=True)


def fill_disk(path: Path, leave_bytes: int = 0) -> None:
    """Fill the file system of `path`, leaving about `leave_bytes` free."""
    free = os.statvfs(path).f_bavail * os.statvfs(path).f_frsize
    with open(path / ".filler", "wb") as handle:
        try:
            handle.write(b"\0" * max(0, free - leave_bytes))
            handle.flush()
        except OSError:
            pass


# --- a hostile or broken API server on a real socket -------------------------------------------


class HostileServer:
    """A bare HTTP server in a background thread whose replies a test scripts: `reply(method,
    path)` returns (status, headers, body chunks). It counts requests and body bytes sent."""

    def __init__(self, reply) -> None:  # type: ignore[no-untyped-def]
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append(f"{self.command} {self.path}")
                status, headers, chunks = reply(self.command, self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        server.bytes_sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = _answer

        self.requests: list[str] = []
        self.bytes_sent = 0
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class FakeApi:
    """A scripted Descript API behind an httpx transport, for unit tests of what reads it
    (import, rebuild, drift): the job history and, with `projects_api`, the 2026 projects
    endpoints. Times are real (within the 30-day history); `requests` lists what was asked."""

    def __init__(self, projects_api: bool = True) -> None:
        import time

        self.projects_api = projects_api
        self.projects: dict[str, dict] = {}
        self.jobs: list[dict] = []
        self.requests: list[str] = []
        self.clock = time.time() - 3600.0

    def _tick(self) -> float:
        self.clock += 10.0
        return self.clock

    @staticmethod
    def _iso(ts: float) -> str:
        from datetime import datetime, timezone

        return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    def project(
        self, name: str, media: tuple[str, ...] = (), compositions: tuple[str, ...] = ()
    ) -> str:
        """A project made by an import of `media` and `compositions` (or, without media, by an
        agent job); returns its id."""
        import uuid

        project_id = str(uuid.uuid4())
        created = self._tick()
        self.projects[project_id] = {
            "id": project_id,
            "name": name,
            "created_at": self._iso(created),
            "updated_at": self._iso(created),
            "drive_id": "drive-1",
            "media_files": {m: {"type": "audio", "duration": 12.5} for m in media},
            "compositions": [{"id": f"c-{c}", "name": c} for c in compositions],
        }
        if media:
            self.job(
                project_id,
                "import/project_media",
                media=media,
                compositions=compositions,
                at=created,
            )
        else:
            self.job(project_id, "agent", at=created)
        return project_id

    def job(
        self,
        project_id: str,
        job_type: str,
        status: str = "success",
        media: tuple[str, ...] = (),
        compositions: tuple[str, ...] = (),
        at: float | None = None,
    ) -> dict:
        import uuid

        created = at if at is not None else self._tick()
        result: dict = {"status": status}
        if job_type == "import/project_media":
            result["media_status"] = {
                m: {"status": "success", "duration_seconds": 12.5} for m in media
            }
            result["created_compositions"] = [{"id": f"c-{c}", "name": c} for c in compositions]
            result["media_seconds_used"] = 12.5 * len(media)
        else:
            result.update(agent_response="Done", ai_credits_used=3)
        job = {
            "job_id": str(uuid.uuid4()),
            "job_type": job_type,
            "job_state": "stopped",
            "created_at": self._iso(created),
            "stopped_at": self._iso(created + 5),
            "project_id": project_id,
            "drive_id": "drive-1",
            "project_url": f"https://web.descript.com/{project_id}",
            "result": result,
        }
        self.jobs.append(job)
        if project_id in self.projects:
            self.projects[project_id]["updated_at"] = self._iso(created + 5)
        return job

    def handle(self, request):  # type: ignore[no-untyped-def]
        import httpx

        path = request.url.path.removeprefix("/v1")
        params = dict(request.url.params)
        self.requests.append(f"{request.method} {path}")
        if path == "/status":
            return httpx.Response(200, json={"status": "ok"})
        if path.startswith("/projects"):
            if not self.projects_api:
                return httpx.Response(404, json={"error": "not_found", "message": "no route"})
            if path == "/projects":
                name = params.get("name", "").casefold()
                rows = [
                    {k: p[k] for k in ("id", "name", "created_at", "updated_at")}
                    for p in self.projects.values()
                    if name in p["name"].casefold()
                ]
                return httpx.Response(200, json={"data": rows, "pagination": {}})
            found = self.projects.get(path.rsplit("/", 1)[-1])
            if found is None:
                return httpx.Response(404, json={"error": "not_found", "message": "no project"})
            return httpx.Response(200, json=found)
        if path == "/jobs":
            rows = [
                j
                for j in reversed(self.jobs)
                if params.get("project_id") in (None, j["project_id"])
                and params.get("type") in (None, j["job_type"])
            ]
            return httpx.Response(200, json={"data": rows, "pagination": {}})
        if path.startswith("/jobs/"):
            job_id = path.rsplit("/", 1)[-1]
            for job in self.jobs:
                if job["job_id"] == job_id:
                    return httpx.Response(200, json=job)
        return httpx.Response(404, json={"error": "not_found", "message": path})

    def client(self):  # type: ignore[no-untyped-def]
        import httpx

        from descript_iac.api import DescriptClient, Token
        from descript_iac.api.ratelimit import RateLimiter

        return DescriptClient(
            "https://api.test/v1",
            Token("fake-api-token"),
            transport=httpx.MockTransport(self.handle),
            limiter=RateLimiter(sleep=lambda s: None),
            sleep=lambda s: None,
        )


# --- the whole Descript surface (issue #12) ------------------------------------------------------


def cli_env(running, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Environment for `run_cli` against a `start_emulator` server: its URL and token, and short
    evidence windows (its job history never lags unless told to)."""
    return {
        "DESCRIPT_API_URL": running.base_url,
        "DESCRIPT_API_TOKEN": TOKEN,
        "DESCRIPT_IAC_COMMIT_SPAN": "1",
        "DESCRIPT_IAC_HISTORY_LAG": "0",
        **extra,
    }


def emulator_jobs(running) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every job the emulator made, as (project, job) views from its inspection API."""
    import httpx

    projects = httpx.get(f"{running.root_url}/_emulator/projects").json()["projects"]
    return [{**job, "project": p} for p in projects for job in p["jobs"]]


PUBLISHED_WORKSPACE = """
version: 1
projects:
  ep-1:
    name: Episode 1
    media:
      host.wav: {url: "https://cdn.example.com/ep1/host.wav"}
    compositions:
      - name: Full episode
        clips: [{media: host.wav}]
        publish: {media_type: Video, resolution: 1080p, access_level: unlisted}
    steps:
      - id: clean
        prompt: Remove filler words
"""


# --- a real terminal: the CLI in a pseudo-terminal, its output on a virtual screen ------------


def run_in_terminal(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    columns: int,
    rows: int,
    timeout: float = 120,
    on_output=None,  # type: ignore[no-untyped-def]
) -> tuple[int, bytes]:
    """Run `python -m descript_iac ARGS` with a pseudo-terminal of `columns` x `rows` as its
    stdin, stdout and stderr (TERM=xterm-256color, no COLUMNS/LINES to go by); return its exit
    code and every byte it wrote. `on_output(everything so far)` is called after each read (a
    test moves a manual clock once the display showed what it waits for)."""
    import fcntl
    import select
    import struct
    import sys
    import termios
    import time

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    child_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    child_env.update({"TERM": "xterm-256color", **env})
    process = subprocess.Popen(
        [sys.executable, "-m", "descript_iac", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
                if on_output is not None:
                    on_output(bytes(out))
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"{args} did not finish within {timeout}s:\n{out.decode()}")
        return process.wait(timeout=30), bytes(out)
    finally:
        os.close(master)


def terminal_lines(raw: bytes, columns: int, rows: int) -> list[str]:
    """What a terminal of `columns` x `rows` shows after `raw`: its scrollback, then its screen
    (pyte, a VT100 emulator), each line without trailing blanks; the empty rows below the last
    line written are left out."""
    import pyte

    screen = pyte.HistoryScreen(columns, rows, history=100_000)
    stream = pyte.ByteStream(screen)
    stream.feed(raw)

    def text(line: object) -> str:
        return "".join(line[x].data for x in range(columns)).rstrip()  # type: ignore[index]

    lines = [text(line) for line in screen.history.top] + [
        text(screen.buffer[y]) for y in range(rows)
    ]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def run_engine(client: Any, doc: Any, workspace: Any, timing: Any, sleep: Any) -> Any:
    """Plan `workspace` against `doc` and apply it through `client` (polls every 2 s, the
    evidence spans of `timing`, `sleep` for every wait), recording into `doc`: the result."""
    from descript_iac.apply import ApplyOptions, Engine
    from descript_iac.apply.reporting import SilentReporter
    from descript_iac.plan import PlanOptions, compute_plan
    from descript_iac.state.events import apply_event

    plan = compute_plan(workspace.projects, doc, PlanOptions())
    options = ApplyOptions(poll_interval=2.0, timing=timing)
    engine = Engine(
        client,
        doc,
        workspace,
        plan,
        SilentReporter(),
        lambda event: apply_event(doc, event),
        options,
        sleep=sleep,
    )
    return engine.run()
