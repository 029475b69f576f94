from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from descript_iac.redact import forget_secrets


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep tests away from the real home directory, the real API and each other's secrets."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("DESCRIPT_API_TOKEN", "DESCRIPT_API_KEY", "DESCRIPT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    forget_secrets()
    yield
    forget_secrets()


@pytest.fixture
def emulator() -> Iterator[object]:
    from tests.builders import start_emulator

    running = start_emulator()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL server of our own for the whole session (started on first use). A server
    that cannot start fails the tests that need it: it is never a skip."""
    from tests.postgres_server import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server: object) -> str:
    """The URL (with its password) of a fresh, empty database."""
    from tests.postgres_server import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    return postgres_server.new_database()
