"""HTTP routes of the emulator: thin handlers over `Backend`, plus injected faults.

`/v1/...` is the emulated Descript API. `/_emulator/...` is the emulator's own inspection API
(not part of Descript): list projects, advance the clock, publish, set faults, reset.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from descript_iac.emulator.backend import Backend
from descript_iac.emulator.callbacks import deliver
from descript_iac.emulator.exceptions import (
    EmulatorError,
    InvalidInput,
    RateLimited,
    ServerError,
)
from descript_iac.emulator.faults import retry_after
from descript_iac.emulator.openapi import openapi_document

Handler = Callable[[Request, str], Awaitable[Any]]
PUBLISHED_LIMIT = 1000  # requests per hour per token, as documented


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


def _error(exc: EmulatorError, extra: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        exc.body(), status_code=exc.status, headers={**exc.headers, **(extra or {})}
    )


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise InvalidInput("request body must be JSON")
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("request body is not valid JSON") from None


def _api(backend: Backend, handler: Handler, *, creates_job: bool = False, status: int = 200):  # type: ignore[no-untyped-def]
    """Wrap a /v1 handler with auth, rate limit, latency, injected errors and lost replies."""

    async def endpoint(request: Request) -> Response:
        faults = backend.config.faults
        backend.stats["requests"] += 1
        rate_headers: dict[str, str] = {}
        try:
            token = backend.authenticate(request.headers.get("authorization"))
            if faults.rate_limit:
                allowed, remaining, consumed, reset_in = backend.rate.hit(
                    token, faults.rate_limit, faults.rate_window, backend.clock.now()
                )
                rate_headers = {
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Consumed": str(consumed),
                }
                if not allowed:
                    backend.stats["rate_limited"] += 1
                    raise RateLimited(
                        "Rate limit exceeded: retry after the number of seconds in Retry-After",
                        headers={"Retry-After": retry_after(reset_in)},
                    )
            if faults.latency:
                await asyncio.sleep(faults.latency)
            if backend.dice.roll(faults.error_rate):
                backend.stats["errors_injected"] += 1
                raise ServerError("Internal server error (injected by the emulator)")
            _send_later(backend, backend.tick())
            body = await handler(request, token)
        except EmulatorError as exc:
            backend.stats[f"status:{exc.status}"] += 1
            return _error(exc, rate_headers)
        if creates_job and backend.dice.roll(faults.lose_response_rate):
            backend.stats["replies_lost"] += 1
            return LostReply()
        backend.stats[f"status:{status}"] += 1
        return JSONResponse(body, status_code=status, headers=rate_headers)

    return endpoint


def build_app(backend: Backend) -> Starlette:
    async def status(request: Request, token: str) -> Any:
        return {"status": "ok"}

    async def import_media(request: Request, token: str) -> Any:
        return backend.create_import(token, await _json(request))

    async def agent(request: Request, token: str) -> Any:
        return backend.create_agent(token, await _json(request))

    async def get_job(request: Request, token: str) -> Any:
        return backend.get_job(token, request.path_params["job_id"])

    async def list_jobs(request: Request, token: str) -> Any:
        return backend.list_jobs(token, dict(request.query_params))

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

    def api(path: str, handler: Handler, method: str, **kw: Any) -> Route:
        return Route(f"/v1{path}", _api(backend, handler, **kw), methods=[method])

    routes = [
        api("/status", status, "GET"),
        api("/jobs/import/project_media", import_media, "POST", creates_job=True, status=201),
        api("/jobs/agent", agent, "POST", creates_job=True, status=201),
        api("/jobs", list_jobs, "GET"),
        api("/jobs/{job_id}", get_job, "GET"),
        api("/edit_in_descript/schema", edit_in_descript, "POST", status=201),
        api("/published_projects/{slug}", published, "GET"),
        Route("/openapi.json", lambda r: JSONResponse(openapi_document()), methods=["GET"]),
        *inspection_routes(backend),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = "not_found" if exc.status_code == 404 else "method_not_allowed"
        body = {"error": code, "message": f"{request.method} {request.url.path}: {exc.detail}"}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def inspection_routes(backend: Backend) -> list[Route]:
    """Emulator-only endpoints, outside /v1, for tests and curious users."""

    async def projects(request: Request) -> Response:
        _send_later(backend, backend.tick())
        return JSONResponse({"projects": backend.inspect_projects()})

    async def advance(request: Request) -> Response:
        body = await request.json()
        try:
            backend.clock.advance(float(body.get("seconds", 0)))
        except ValueError as exc:
            return _error(InvalidInput(str(exc)))
        callbacks = backend.tick()
        _send_later(backend, callbacks)
        return JSONResponse({"now": backend.clock.now()})

    async def publish(request: Request) -> Response:
        try:
            slug = backend.publish(request.path_params["project_id"])
        except EmulatorError as exc:
            return _error(exc)
        return JSONResponse({"slug": slug})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                backend.config.faults.update(await request.json())
            except EmulatorError as exc:
                return _error(exc)
        return JSONResponse(backend.config.faults.as_dict())

    async def stats(request: Request) -> Response:
        return JSONResponse(dict(backend.stats))

    async def reset(request: Request) -> Response:
        backend.reset()
        return JSONResponse({"reset": True})

    return [
        Route("/_emulator/projects", projects, methods=["GET"]),
        Route("/_emulator/clock/advance", advance, methods=["POST"]),
        Route("/_emulator/projects/{project_id}/publish", publish, methods=["POST"]),
        Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
    ]


def _send_later(backend: Backend, callbacks: list[tuple[str, dict[str, Any]]]) -> None:
    if callbacks:
        deliver(callbacks, backend.config.allow_callback_hosts)
