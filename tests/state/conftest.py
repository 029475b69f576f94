from __future__ import annotations

from pathlib import Path

import pytest

from tests.state.kits import Kit, LocalKit, PostgresKit


@pytest.fixture(params=["local", "postgresql"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Kit:
    """Each store-independent test runs against the local file store and the PostgreSQL one."""
    if request.param == "local":
        return LocalKit(tmp_path)
    return PostgresKit(tmp_path, request.getfixturevalue("pg_url"))
