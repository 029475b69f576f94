"""Run the emulator: in the foreground (`emulator serve`) or embedded on a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from descript_iac.emulator.backend import Backend, EmulatorConfig
from descript_iac.emulator.callbacks import deliver
from descript_iac.emulator.clock import Clock, ManualClock, RealClock
from descript_iac.emulator.persistence import DiskStore
from descript_iac.emulator.routes import build_app

TICK_SECONDS = 0.2


def make_backend(
    config: EmulatorConfig, data_dir: Path | None = None, manual_clock: bool = False
) -> Backend:
    clock: Clock = ManualClock() if manual_clock else RealClock()
    store = DiskStore(data_dir) if data_dir is not None else None
    return Backend(config, clock, store)


def _ticker(backend: Backend, stop: threading.Event) -> None:
    """Finalize stopped jobs and send their callbacks even when nobody is polling."""
    while not stop.wait(TICK_SECONDS):
        deliver(backend.tick(), backend.config.allow_callback_hosts)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _quiet_logs() -> None:
    # A lost reply is an injected fault; uvicorn's "incomplete response" error is expected.
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.access").setLevel(logging.CRITICAL)


class _PromptServer(uvicorn.Server):
    """Notices `should_exit` within 10 ms instead of uvicorn's 100 ms, so tests that start and
    stop an emulator each (hundreds of them) do not wait on it. Nothing else in uvicorn's tick
    is used here: the Date header comes from the app, and there is no request limit."""

    async def main_loop(self) -> None:
        while not self.should_exit:
            await asyncio.sleep(0.01)


@dataclass
class RunningEmulator:
    """An emulator serving on a real socket from a background thread."""

    backend: Backend
    host: str
    port: int
    token: str
    _server: uvicorn.Server
    _thread: threading.Thread
    _stop: threading.Event

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._stop.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self.backend.store is not None:
            self.backend.store.close()


def start_background(backend: Backend, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    """Serve `backend` on host:port (0 = any free port) until `.stop()`."""
    _quiet_logs()
    port = port or _free_port(host)
    config = uvicorn.Config(
        build_app(backend),
        host=host,
        port=port,
        log_level="critical",
        lifespan="off",
        date_header=False,  # the app sets Date from the emulator's clock
    )
    server = _PromptServer(config)
    stop = threading.Event()

    def run() -> None:
        asyncio.run(server.serve())

    thread = threading.Thread(target=run, name="descript-emulator", daemon=True)
    thread.start()
    threading.Thread(target=_ticker, args=(backend, stop), daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the emulator could not start on {host}:{port}")
        time.sleep(0.01)
    return RunningEmulator(backend, host, port, backend.config.tokens[0], server, thread, stop)


def serve_forever(backend: Backend, host: str, port: int) -> None:
    """Serve in the foreground until Ctrl-C."""
    _quiet_logs()
    stop = threading.Event()
    threading.Thread(target=_ticker, args=(backend, stop), daemon=True).start()
    try:
        uvicorn.run(
            build_app(backend),
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            date_header=False,  # the app sets Date from the emulator's clock
        )
    finally:
        stop.set()
        if backend.store is not None:
            backend.store.close()
