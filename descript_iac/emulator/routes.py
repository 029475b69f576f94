"""HTTP routes of the emulator: thin handlers over `Backend`, plus injected faults.

`/v1/...` is the emulated Descript API at the level the settings name (`api_level`): an
operation of the 2026 level answers 404 at the seed level, as the older API does, and a method a
path does not serve answers 405 with `Allow`. `/_emulator/...` is the emulator's own inspection
API (see `inspection`). Every response carries a `Date` header from the emulator's clock, so a
client can estimate the server's time even under the manual clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from descript_iac.emulator import request_faults
from descript_iac.emulator.backend import Backend
from descript_iac.emulator.callbacks import deliver
from descript_iac.emulator.clock import Clock, http_date
from descript_iac.emulator.exceptions import EmulatorError, InvalidInput, RateLimited
from descript_iac.emulator.faults import OK, retry_after
from descript_iac.emulator.hostile import HOSTILE_TEXT
from descript_iac.emulator.inspection import inspection_routes
from descript_iac.emulator.openapi import openapi_document

Handler = Callable[[Request, str], Awaitable[Any]]
PUBLISHED_LIMIT = 1000  # requests per hour per token, as documented
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY"]


@dataclass(frozen=True)
class Operation:
    handler: Handler
    status: int = 200
    job_type: str | None = None  # set on job-creating POSTs
    level: str = "seed"  # the first API level that serves it


class LostReply(Response):
    """Sends the status line and half a body, then stops: the client sees a dropped connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"512")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"job_id": "', "more_body": True})


class DateHeader:
    """Stamps every response with `Date` from the emulator's clock (uvicorn's is turned off)."""

    def __init__(self, app: ASGIApp, clock: Clock, offset: Callable[[], float]) -> None:
        self.app = app
        self.clock = clock
        self.offset = offset  # the `date_offset` fault: `Date` ahead of the job clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", http_date(self.clock.now() + self.offset()).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_dated)


def _error(exc: EmulatorError, extra: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        exc.body(), status_code=exc.status, headers={**(extra or {}), **exc.headers}
    )


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise InvalidInput("request body must be JSON")
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("request body is not valid JSON") from None


class Resource:
    """One /v1 path: dispatches on the method; 405 for a method it does not serve."""

    def __init__(self, backend: Backend, path: str, operations: dict[str, Operation]) -> None:
        self.backend = backend
        self.path = path
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        level = self.backend.level
        served = {m: op for m, op in self.operations.items() if op.level in ("seed", level)}
        allow = {"Allow": ", ".join(sorted(served))}
        method = request.method
        if method in served:
            return await _call(self.backend, served[method], request)
        if not served or method in self.operations:  # an operation of a newer API level
            message = f"{method} {request.url.path}: Not Found"
            return JSONResponse({"error": "not_found", "message": message}, 404)
        if method == "OPTIONS":
            return Response(status_code=204, headers=allow)
        message = f"{method} {request.url.path}: method not allowed; allowed: {allow['Allow']}"
        body = {"error": "method_not_allowed", "message": message}
        return JSONResponse(body, 405, headers=allow)


async def _call(backend: Backend, op: Operation, request: Request) -> Response:
    """Run one /v1 operation behind auth, throttling, latency and the injected faults."""
    faults = backend.config.faults
    backend.stats["requests"] += 1
    headers: dict[str, str] = {}
    outcome = OK
    try:
        token = backend.authenticate(request.headers.get("authorization"))
        headers = request_faults.throttle(backend, token)
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if op.job_type is not None:
            outcome = request_faults.next_outcome(backend, op.job_type)
        request_faults.before_commit(backend, outcome)
        _send_later(backend, backend.tick())
        body = await op.handler(request, token)
        if op.job_type is not None:
            after = request_faults.after_commit(backend, outcome)
            if after == "lose":
                return LostReply()
            if after == "drip":  # the job is made; its reply never quite ends
                backend.stats[f"status:{op.status}"] += 1
                return _dripped(body, op.status, headers, faults.drip_seconds or 1.0)
            if isinstance(after, EmulatorError):
                raise after
    except EmulatorError as exc:
        backend.stats[f"status:{exc.status}"] += 1
        if faults.hostile_text:  # a server's message is untrusted text too
            return _error(type(exc)(exc.message + HOSTILE_TEXT, exc.headers), headers)
        return _error(exc, headers)
    backend.stats[f"status:{op.status}"] += 1
    if op.status == 204:
        return Response(status_code=204, headers=headers)
    if faults.drip_seconds:
        return _dripped(body, op.status, headers, faults.drip_seconds)
    return JSONResponse(body, status_code=op.status, headers=headers)


def _dripped(body: Any, status: int, headers: dict[str, str], every: float) -> Response:
    """The reply's headers at once, then its body one byte every `every` seconds (a server or
    proxy that never quite ends: issue #21's deadline tests)."""
    from starlette.responses import StreamingResponse

    data = json.dumps(body).encode()

    async def drip() -> Any:
        for i in range(len(data)):
            yield data[i : i + 1]
            await asyncio.sleep(every)

    return StreamingResponse(drip(), status, headers, media_type="application/json")


def api_routes(backend: Backend) -> list[Route]:
    async def status(request: Request, token: str) -> Any:
        return {"status": "ok"}

    async def import_media(request: Request, token: str) -> Any:
        return backend.create_import(token, await _json(request))

    async def agent(request: Request, token: str) -> Any:
        return backend.create_agent(token, await _json(request))

    async def publish(request: Request, token: str) -> Any:
        return backend.create_publish(token, await _json(request))

    async def get_job(request: Request, token: str) -> Any:
        return backend.get_job(token, request.path_params["job_id"])

    async def cancel_job(request: Request, token: str) -> Any:
        backend.cancel_job(token, request.path_params["job_id"])

    async def list_jobs(request: Request, token: str) -> Any:
        return backend.list_jobs(token, dict(request.query_params))

    async def list_projects(request: Request, token: str) -> Any:
        return backend.list_projects(token, dict(request.query_params))

    async def get_project(request: Request, token: str) -> Any:
        return backend.get_project(token, request.path_params["project_id"])

    async def edit_in_descript(request: Request, token: str) -> Any:
        return backend.edit_in_descript(token, await _json(request))

    async def published(request: Request, token: str) -> Any:
        ok, remaining, consumed, reset_in = backend.published_rate.hit(
            token, PUBLISHED_LIMIT, 3600.0, backend.clock.now()
        )
        if not ok:
            raise RateLimited(
                "Rate limit exceeded for published projects (1000 requests per hour)",
                headers={
                    "Retry-After": retry_after(reset_in),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Consumed": str(consumed),
                },
            )
        return backend.published(token, request.path_params["slug"])

    new = "2026"
    table: dict[str, dict[str, Operation]] = {
        "/status": {"GET": Operation(status)},
        "/jobs/import/project_media": {
            "POST": Operation(import_media, 201, job_type="import/project_media")
        },
        "/jobs/agent": {"POST": Operation(agent, 201, job_type="agent")},
        "/jobs/publish": {"POST": Operation(publish, 201, job_type="publish", level=new)},
        "/jobs": {"GET": Operation(list_jobs)},
        "/jobs/{job_id}": {
            "GET": Operation(get_job),
            "DELETE": Operation(cancel_job, 204, level=new),
        },
        "/projects": {"GET": Operation(list_projects, level=new)},
        "/projects/{project_id}": {"GET": Operation(get_project, level=new)},
        "/edit_in_descript/schema": {"POST": Operation(edit_in_descript, 201)},
        "/published_projects/{slug}": {"GET": Operation(published)},
    }
    return [
        Route(f"/v1{path}", Resource(backend, path, ops), methods=METHODS)
        for path, ops in table.items()
    ]


def build_app(backend: Backend) -> Starlette:
    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(backend.level))

    routes = [
        *api_routes(backend),
        Route("/openapi.json", openapi, methods=["GET"]),
        *inspection_routes(backend),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = "not_found" if exc.status_code == 404 else "method_not_allowed"
        body = {"error": code, "message": f"{request.method} {request.url.path}: {exc.detail}"}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error},
        middleware=[
            Middleware(
                DateHeader,
                clock=backend.clock,
                offset=lambda: backend.config.faults.date_offset,
            )
        ],
    )


def _send_later(backend: Backend, callbacks: list[tuple[str, dict[str, Any]]]) -> None:
    if callbacks:
        deliver(callbacks, backend.config.allow_callback_hosts)
