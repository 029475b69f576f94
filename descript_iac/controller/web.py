"""The controller's HTTP surface: the dashboard, the JSON API under /api/, push webhooks, job
callbacks, health and metrics. Routes only unpack requests; the controller decides."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from descript_iac.controller import dashboard
from descript_iac.controller.approvals import ApprovalRefused, authorized, give_verdict
from descript_iac.controller.webhooks import github_signed, gitlab_signed, pushed

if TYPE_CHECKING:
    from descript_iac.controller.service import Controller

MAX_BODY = 5 * 1024 * 1024  # a push payload is far smaller


def build_app(controller: Controller) -> Starlette:
    book = controller.book

    async def index(request: Request) -> Response:
        return HTMLResponse(dashboard.index_page(controller.workspaces(), book.all()))

    async def run_page(request: Request) -> Response:
        run = book.get(request.path_params["run_id"])
        if run is None:
            return HTMLResponse("<!doctype html><p>No such run.</p>", status_code=404)
        return HTMLResponse(dashboard.run_page(run))

    async def api_workspaces(request: Request) -> Response:
        return JSONResponse({"workspaces": controller.workspaces()})

    async def workspace_page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in controller.reconcilers:
            return HTMLResponse("<!doctype html><p>No such workspace.</p>", status_code=404)
        reconciler = controller.reconcilers[name]
        projects = await run_in_threadpool(reconciler.projects)
        spend = await run_in_threadpool(reconciler.spend)
        runs = [r for r in book.all() if r.workspace == name]
        status = next(w for w in controller.workspaces() if w["name"] == name)
        return HTMLResponse(dashboard.workspace_page(name, projects, runs, status, spend))

    async def api_projects(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in controller.reconcilers:
            return JSONResponse({"error": "no such workspace"}, status_code=404)
        projects = await run_in_threadpool(controller.reconcilers[name].projects)
        return JSONResponse({"workspace": name, "projects": projects})

    async def api_spend(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in controller.reconcilers:
            return JSONResponse({"error": "no such workspace"}, status_code=404)
        days = await run_in_threadpool(controller.reconcilers[name].spend)
        return JSONResponse({"workspace": name, "days": days})

    async def api_runs(request: Request) -> Response:
        return JSONResponse({"runs": [r.public() for r in book.all()]})

    async def api_run(request: Request) -> Response:
        run = book.get(request.path_params["run_id"])
        if run is None:
            return JSONResponse({"error": "no such run"}, status_code=404)
        return JSONResponse(run.public())

    async def api_verdict(request: Request) -> Response:
        if request.path_params["verdict"] not in ("approve", "reject"):
            return JSONResponse({"error": "POST .../approve or .../reject"}, status_code=404)
        if not authorized(request.headers.get("authorization"), controller.token):
            return JSONResponse(
                {"error": "approving needs the controller's token (Authorization: Bearer)"},
                status_code=401,
            )
        body = await _json(request)
        by = body.get("by") if isinstance(body, dict) else None
        approve = request.path_params["verdict"] == "approve"
        try:
            status = give_verdict(book, request.path_params["run_id"], approve, str(by or "api"))
        except ApprovalRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        controller.approved(request.path_params["run_id"])
        return JSONResponse({"status": status})

    async def github(request: Request) -> Response:
        body = await request.body()
        signature = request.headers.get("x-hub-signature-256")
        if not github_signed(body, signature, controller.hook_secret):
            controller.metrics.count(controller.metrics.webhooks, "refused")
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return _push(body)

    async def gitlab(request: Request) -> Response:
        body = await request.body()
        if not gitlab_signed(request.headers.get("x-gitlab-token"), controller.hook_secret):
            controller.metrics.count(controller.metrics.webhooks, "refused")
            return JSONResponse({"error": "bad token"}, status_code=401)
        return _push(body)

    def _push(body: bytes) -> Response:
        urls, branch = pushed(body)
        woken = controller.pushed(urls, branch)
        controller.metrics.count(controller.metrics.webhooks, "accepted" if woken else "ignored")
        return JSONResponse({"woken": woken}, status_code=202)

    async def callback(request: Request) -> Response:
        # The body is not read: a callback only says "look now".
        ok = controller.callbacks.receive(
            request.path_params["run_id"], request.path_params["secret"]
        )
        controller.metrics.count(controller.metrics.callbacks, "accepted" if ok else "refused")
        if not ok:
            return JSONResponse({"error": "unknown callback"}, status_code=404)
        return JSONResponse({"woken": True}, status_code=202)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        if controller.stopping.is_set():
            return PlainTextResponse("stopping\n", status_code=503)
        return PlainTextResponse("ready\n")

    async def metrics(request: Request) -> Response:
        text = controller.metrics.render(book, controller.queue_depth(), controller.intents())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    routes = [
        Route("/", index),
        Route("/runs/{run_id}", run_page),
        Route("/workspaces/{name}", workspace_page),
        Route("/api/workspaces", api_workspaces),
        Route("/api/workspaces/{name}/projects", api_projects),
        Route("/api/workspaces/{name}/spend", api_spend),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id}", api_run),
        Route("/api/runs/{run_id}/{verdict:str}", api_verdict, methods=["POST"]),
        Route("/hooks/github", github, methods=["POST"]),
        Route("/hooks/gitlab", gitlab, methods=["POST"]),
        Route("/callbacks/{run_id}/{secret}", callback, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    return Starlette(routes=routes)


async def _json(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None
