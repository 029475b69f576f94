"""The emulator's own API under `/_emulator` (not part of Descript), for tests and curious users:

- `GET  /_emulator/projects`: every project with its media, compositions, edits and jobs
- `GET  /_emulator/clock`, `POST /_emulator/clock/advance {"seconds": N}` (manual clock)
- `GET|POST /_emulator/faults`: read or change any setting at run time (see `faults.Faults`)
- `POST /_emulator/foreign {"kind": ...}`: another client of the drive makes a job now
- `POST /_emulator/projects/{id}/publish`: give a project a published-project slug
- `GET  /_emulator/stats`, `POST /_emulator/reset` (projects, jobs and settings; with a
  `--data-dir` only as `POST /_emulator/reset?delete_data=true`)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from descript_iac.emulator.callbacks import deliver
from descript_iac.emulator.clock import iso
from descript_iac.emulator.exceptions import EmulatorError, InvalidInput

if TYPE_CHECKING:
    from descript_iac.emulator.backend import Backend


def _error(exc: EmulatorError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        raise InvalidInput("request body is not valid JSON") from None


def project_report(backend: Backend) -> list[dict[str, Any]]:
    """Every project with its media, compositions, edits, publishes and jobs (prompts included
    while the emulator runs: this is the emulator's own view, never stored)."""
    backend.tick()
    with backend.lock:
        now = backend.clock.now()
        out = []
        for project in sorted(backend.projects.values(), key=lambda p: p.created_at):
            jobs = [backend.jobs[j] for j in project.job_ids]
            out.append(
                {
                    "project_id": project.project_id,
                    "name": project.name,
                    "team_access": project.team_access,
                    "folder_path": project.folder_path,
                    "foreign": project.foreign,
                    "created_at": iso(project.created_at),
                    "media": project.media,
                    "compositions": project.compositions,
                    "edits": project.edits,
                    "published_slug": project.published_slug,
                    "publishes": project.publishes,
                    "jobs": [
                        {
                            "job_id": j.job_id,
                            "job_type": j.job_type,
                            "job_state": j.state_at(now),
                            "prompt": j.prompt,
                        }
                        for j in jobs
                    ],
                }
            )
        return out


def inspection_routes(backend: Backend) -> list[Route]:
    def tick() -> None:
        callbacks = backend.tick()
        if callbacks:
            deliver(callbacks, backend.config.allow_callback_hosts)

    def now() -> dict[str, Any]:
        seconds = backend.clock.now()
        return {"now": seconds, "iso": iso(seconds)}

    async def projects(request: Request) -> Response:
        tick()
        return JSONResponse({"projects": project_report(backend)})

    async def clock(request: Request) -> Response:
        return JSONResponse(now())

    async def advance(request: Request) -> Response:
        try:
            body = await _body(request)
            seconds = body.get("seconds", 0) if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                raise InvalidInput('give the seconds to advance: {"seconds": N}')
            callbacks = backend.advance_clock(float(seconds))
        except ValueError as exc:
            return _error(InvalidInput(str(exc)))
        except EmulatorError as exc:
            return _error(exc)
        deliver(callbacks, backend.config.allow_callback_hosts)
        return JSONResponse(now())

    async def publish(request: Request) -> Response:
        try:
            slug = backend.publish(request.path_params["project_id"])
        except EmulatorError as exc:
            return _error(exc)
        return JSONResponse({"slug": slug})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                return JSONResponse(backend.update_faults(await _body(request)))
            except EmulatorError as exc:
                return _error(exc)
        return JSONResponse(backend.config.faults.as_dict())

    async def foreign(request: Request) -> Response:
        try:
            tick()
            job = backend.make_foreign(await _body(request))
        except EmulatorError as exc:
            return _error(exc)
        return JSONResponse(job, status_code=201)

    async def stats(request: Request) -> Response:
        return JSONResponse(dict(backend.stats))

    async def reset(request: Request) -> Response:
        try:
            backend.reset(delete_data=request.query_params.get("delete_data") == "true")
        except EmulatorError as exc:
            return _error(exc)
        return JSONResponse({"reset": True})

    return [
        Route("/_emulator/projects", projects, methods=["GET"]),
        Route("/_emulator/clock", clock, methods=["GET"]),
        Route("/_emulator/clock/advance", advance, methods=["POST"]),
        Route("/_emulator/projects/{project_id}/publish", publish, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        Route("/_emulator/foreign", foreign, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
    ]
