"""The cost forecast of a plan (plan/forecast.py), with its I/O: the media the plan imports are
probed (api/media_probe.py, in parallel, each bounded, cached by file), and the credits of the
steps this drive already ran are read from the state. A forecast never fails a plan: a media
host that cannot be read gives an unknown duration, said as such."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures import as_completed as futures_completed
from pathlib import Path
from typing import TYPE_CHECKING

from descript_iac.config.desired import Workspace
from descript_iac.config.model import SequenceMedia, UrlMedia
from descript_iac.plan.forecast import Budget, Forecast, MediaFact, forecast
from descript_iac.plan.model import ActionKind, Plan
from descript_iac.plan.samples import StepSample
from descript_iac.userdirs import cache_root

if TYPE_CHECKING:
    from descript_iac.api.media_probe import Probe

PARALLEL = 8  # probes at once
DEADLINE = 30.0  # seconds for all the probes of one plan

Prober = Callable[[str], "Probe"]


def _imported_media(workspace: Workspace, plan: Plan) -> dict[tuple[str, str], str | None]:
    """(address, media name) -> the URL to probe (None: a sequence) of every import's media."""
    wanted: dict[tuple[str, str], str | None] = {}
    for project in plan.projects:
        desired = workspace.projects.get(project.address)
        if desired is None:
            continue
        for action in project.actions:
            if action.kind not in (ActionKind.CREATE, ActionKind.REPLACE, ActionKind.UPDATE):
                continue
            for name in action.media:
                item = desired.spec.media.get(name)
                if isinstance(item, UrlMedia):
                    wanted[(project.address, name)] = item.url
                elif isinstance(item, SequenceMedia):
                    wanted[(project.address, name)] = None
    return wanted


def media_facts(
    workspace: Workspace, plan: Plan, prober: Prober | None = None
) -> dict[tuple[str, str], MediaFact]:
    """What is known of the duration of every media item the plan imports."""
    wanted = _imported_media(workspace, plan)
    urls = sorted({u for u in wanted.values() if u is not None})
    if not urls:
        return {k: MediaFact(None, sequence=True) for k in wanted}
    if prober is None:
        with _default_prober() as probe:
            probes = _probe_all(urls, probe)
    else:
        probes = _probe_all(urls, prober)
    facts: dict[tuple[str, str], MediaFact] = {}
    for key, url in wanted.items():
        if url is None:
            facts[key] = MediaFact(None, sequence=True)
        else:
            found = probes[url]
            facts[key] = MediaFact(found.seconds, found.reason)
    return facts


def _probe_all(urls: list[str], probe: Prober) -> dict[str, Probe]:
    """Each URL probed, 8 at once, within `DEADLINE` in all: a plan of thousands of new media on
    an unreachable host must not wait for each (what is left is unknown, and says so)."""
    from descript_iac.api.media_probe import Probe

    pool = ThreadPoolExecutor(max_workers=min(PARALLEL, len(urls)))
    futures = {pool.submit(probe, url): url for url in urls}
    found: dict[str, Probe] = {}
    try:
        for future in futures_completed(futures, timeout=DEADLINE):
            found[futures[future]] = future.result()
    except FuturesTimeout:
        pass
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    late = Probe(None, f"not probed: the forecast's {DEADLINE:.0f} s were spent")
    return {url: found.get(url, late) for url in urls}


@contextlib.contextmanager
def _default_prober(cache_dir: Path | None = None) -> Iterator[Prober]:
    """A prober with one HTTP client and the user's media cache, closed together. (httpx is
    imported only here: a plan with no media to probe loads no network stack.)"""
    from descript_iac.api.media_probe import probe_client, probe_duration
    from descript_iac.state.mediacache import MediaCache

    client = probe_client()
    cache = MediaCache((cache_dir or cache_root()) / "media")
    try:
        yield lambda url: probe_duration(client, url, cache)
    finally:
        client.close()
        cache.close()


def step_models(workspace: Workspace, plan: Plan) -> dict[tuple[str, str], str]:
    models: dict[tuple[str, str], str] = {}
    for project in plan.projects:
        desired = workspace.projects.get(project.address)
        if desired is None:
            continue
        for step in desired.spec.steps:
            models[(project.address, step.id)] = desired.step_model(step) or "default"
    return models


def forecast_plan(
    workspace: Workspace, plan: Plan, samples: Sequence[StepSample], prober: Prober | None = None
) -> Forecast:
    """The plan's forecast; `samples`: what the state's recorded steps cost (`step_samples`)."""
    return forecast(
        plan, media_facts(workspace, plan, prober), samples, step_models(workspace, plan)
    )


def workspace_budget(
    workspace: Workspace, ai_credits: float | None = None, media_seconds: float | None = None
) -> Budget:
    """The budget of one apply: the options where given, else the workspace's `budget:`; and
    each project's own `budget:` (which the options leave as they are)."""
    block = workspace.budget
    return Budget(
        ai_credits if ai_credits is not None else (block.ai_credits if block else None),
        media_seconds if media_seconds is not None else (block.media_seconds if block else None),
        tuple(
            (address, Budget(own.ai_credits, own.media_seconds))
            for address, project in sorted(workspace.projects.items())
            if (own := project.spec.budget) is not None
            and (own.ai_credits is not None or own.media_seconds is not None)
        ),
    )
