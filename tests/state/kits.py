"""One state-store test suite, two stores: what a test needs to reach behind a store's back.

Each kit builds the store the way a run does (`RunSettings.store()`), and can replace the stored
document or the journal directly (a teammate's state pulled from git, a crash at a chosen
moment), which the store's interface rightly does not allow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from descript_iac.state.store import StateStore
from descript_iac.workspace import RunSettings

STATE_NAME = "ws"  # the workspace directory's name: the PostgreSQL state's default name


class LocalKit:
    name = "local"

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / STATE_NAME
        self.root.mkdir(exist_ok=True)
        self.path = tmp_path / "state" / "ws.json"

    def settings(self) -> RunSettings:
        return RunSettings(root=self.root, state_path=self.path)

    def spec(self) -> tuple[str, str, str]:
        """Picklable: where a child process finds the same store."""
        return ("local", str(self.root), str(self.path))

    def store(self) -> StateStore:
        return self.settings().store()

    def write_raw(self, data: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))

    def raw(self) -> Any:
        return json.loads(self.path.read_text())

    def journal(self) -> Any:
        journal = self.path.with_name("ws.json.journal")
        return journal.read_bytes() if journal.exists() else None

    def restore_journal(self, saved: Any) -> None:
        self.path.with_name("ws.json.journal").write_bytes(saved)

    def append_raw(self, record: dict[str, Any]) -> None:
        with open(self.path.with_name("ws.json.journal"), "ab") as handle:
            handle.write(json.dumps(record).encode() + b"\n")


class PostgresKit:
    name = "postgresql"

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.root = tmp_path / STATE_NAME
        self.root.mkdir(exist_ok=True)
        self.url = url

    def settings(self) -> RunSettings:
        return RunSettings(root=self.root, backend_url=self.url)

    def spec(self) -> tuple[str, str, str]:
        return ("postgresql", str(self.root), self.url)

    def store(self) -> StateStore:
        return self.settings().store()

    def _sql(self, text: str, params: Any = ()) -> list[Any]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(text, params)
            return cursor.fetchall() if cursor.description else []

    def _state_id(self) -> int:
        query = "SELECT id FROM descript_iac.states WHERE name = %s"
        try:
            rows = self._sql(query, [STATE_NAME])
        except psycopg.errors.UndefinedTable:
            rows = []
        if not rows:
            with self.store().lock("test", timeout=10):
                pass  # the schema and the state's row exist once a store took the lock
            rows = self._sql(query, [STATE_NAME])
        return int(rows[0][0])

    def write_raw(self, data: Any) -> None:
        self._sql(
            "UPDATE descript_iac.states SET document_text = %s WHERE id = %s",
            [json.dumps(data), self._state_id()],
        )

    def raw(self) -> Any:
        return self._sql(
            "SELECT document FROM descript_iac.states WHERE id = %s", [self._state_id()]
        )[0][0]

    def journal(self) -> Any:
        state_id = self._state_id()
        header = self._sql(
            "SELECT journal_id, lineage, base_serial FROM descript_iac.journals "
            "WHERE state_id = %s",
            [state_id],
        )
        events = self._sql(
            "SELECT seq, event FROM descript_iac.journal_events WHERE state_id = %s ORDER BY seq",
            [state_id],
        )
        return (header, events) if header else None

    def restore_journal(self, saved: Any) -> None:
        header, events = saved
        state_id = self._state_id()
        self._sql(
            "INSERT INTO descript_iac.journals (state_id, journal_id, lineage, base_serial) "
            "VALUES (%s, %s, %s, %s)",
            [state_id, *header[0]],
        )
        for seq, event in events:
            self._sql(
                "INSERT INTO descript_iac.journal_events (state_id, seq, event) "
                "VALUES (%s, %s, %s)",
                [state_id, seq, Jsonb(event)],
            )

    def append_raw(self, record: dict[str, Any]) -> None:
        state_id = self._state_id()
        self._sql(
            "INSERT INTO descript_iac.journal_events (state_id, seq, event) VALUES (%s, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM descript_iac.journal_events "
            "WHERE state_id = %s), %s)",
            [state_id, state_id, Jsonb(record)],
        )


Kit = LocalKit | PostgresKit


def store_from_spec(spec: tuple[str, str, str]) -> StateStore:
    """The store a kit describes, rebuilt in another process."""
    backend, root, where = spec
    if backend == "local":
        return RunSettings(root=Path(root), state_path=Path(where)).store()
    return RunSettings(root=Path(root), backend_url=where).store()
