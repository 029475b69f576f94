"""The running controller: its workspaces' reconcilers, the web server, and a graceful stop.

SIGTERM (or SIGINT): /readyz turns 503, no new run or job starts, the runs applying go on to
record what they sent (their jobs are journaled before they are sent), and the process exits
within `grace` seconds; what is still running then is picked up by the next start (the state's
journal), exactly as after an interrupted `apply`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

import uvicorn

from descript_iac.controller.callbacks import Callbacks
from descript_iac.controller.logs import about
from descript_iac.controller.metrics import Metrics
from descript_iac.controller.reconciler import Reconciler
from descript_iac.controller.runs import OPEN, RunBook, RunStore
from descript_iac.controller.settings import (
    DATABASE_ENV,
    TOKEN_ENV,
    WEBHOOK_SECRET_ENV,
    ControllerSettings,
)
from descript_iac.controller.sources import Source, public_url
from descript_iac.controller.webhooks import watches
from descript_iac.errors import DescriptIacError

if TYPE_CHECKING:
    from descript_iac.controller.replicas import Ownership

log = logging.getLogger("descript_iac.controller")


class Controller:
    def __init__(self, settings: ControllerSettings, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ if env is None else env)
        self.settings = settings
        self.token = env.get(TOKEN_ENV) or None
        self.hook_secret = env.get(WEBHOOK_SECRET_ENV) or None
        database = env.get(DATABASE_ENV) or None
        self.ownership: Ownership | None = None
        self.book: RunStore
        if database:  # replicas share the runs and take the workspaces in turn
            # (psycopg is loaded only then)
            from descript_iac.controller.replicas import Ownership, PostgresRunBook

            self.book = PostgresRunBook(database)
            self.ownership = Ownership(database)
        else:
            self.book = RunBook(settings.data_dir / "runs.json")
        self.metrics = Metrics()
        self.callbacks = Callbacks(settings.base_url, self.book)
        self.stopping = threading.Event()
        self.reconcilers = {
            name: Reconciler(
                Source(name, watched, settings.data_dir),
                self.book,
                self.callbacks,
                self.metrics,
                settings.data_dir,
                settings.fetch_interval,
                settings.poll_interval,
                self.ownership,
                settings.drift_interval,
            )
            for name, watched in settings.workspaces.items()
        }

    # --- what the web surface asks ---------------------------------------------------------

    def workspaces(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "source": r.source.describe(),
                "revision": r.status.revision,
                "checked_at": r.status.checked_at,
                "error": r.status.error,
                "owned_here": r._owned,
                "drift": list(r.status.drift),
                "drift_checked_at": r.status.drift_at,
                "drift_error": r.status.drift_error,
                "open_intents": r.status.open_intents,
                "in_doubt_intents": r.status.in_doubt,
            }
            for name, r in self.reconcilers.items()
        ]

    def intents(self) -> dict[str, tuple[int, int]]:
        """Each workspace's (open intents, in doubt), as of its last check."""
        return {n: (r.status.open_intents, r.status.in_doubt) for n, r in self.reconcilers.items()}

    def queue_depth(self) -> int:
        return sum(1 for r in self.book.all() if r.status in OPEN)

    def approved(self, run_id: str) -> None:
        run = self.book.get(run_id)
        if run is not None and run.workspace in self.reconcilers:
            self.reconcilers[run.workspace].wake()

    def pushed(self, urls: set[str], branch: str | None) -> list[str]:
        """Wake the git workspaces a push concerns; their names."""
        woken = []
        for name, r in self.reconcilers.items():
            watched = r.source.watched
            if watched.git and watched.branch == branch and watches(watched.git, urls):
                r.wake()
                woken.append(name)
        return woken

    # --- running -----------------------------------------------------------------------------

    def serve(self, grace: float = 30.0) -> None:
        """Run until SIGTERM or SIGINT; then stop within about `grace` seconds."""
        from descript_iac.controller.web import build_app

        config = uvicorn.Config(
            build_app(self),
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            log_config=None,  # its loggers write through the controller's (logs.py)
            lifespan="off",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="controller-web", daemon=True)
        stop = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        thread.start()
        while not server.started:  # the address may be taken: say so, never serve nothing
            if not thread.is_alive():
                raise DescriptIacError(
                    f"cannot listen on {self.settings.listen} (in use, or not an address of this "
                    "machine); give another with `listen:` or --listen"
                )
            time.sleep(0.05)
        for name, r in self.reconcilers.items():
            log.info("watching %s: %s", name, public_url(r.source.describe()), extra=about(name))
            r.start()
        stop.wait()
        log.info("stopping: no new runs; waiting up to %g s for the runs applying", grace)
        self.stop(grace)
        server.should_exit = True
        thread.join(5)

    def stop(self, grace: float) -> None:
        self.stopping.set()
        for r in self.reconcilers.values():
            r.stopping.set()
            r.trigger.set()
        self.callbacks.wake_all()
        per = grace / max(1, len(self.reconcilers))
        for r in self.reconcilers.values():
            r.stop(per)
