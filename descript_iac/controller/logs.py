"""The controller's logs on standard error: `text` lines (time level logger message) or `json`,
one object a line (time, level, event, workspace, run, logger) for log collectors.

The messages name workspaces, runs, revisions and public URLs only; the tokens, the webhook
secret and the callback secrets are never passed to a log call. An exception is logged by its
type and message (no traceback, whose frames could quote a request)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
            "workspace": getattr(record, "workspace", None),
            "run": getattr(record, "run", None),
            "logger": record.name,
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line["error"] = f"{type(error).__name__}: {error}"
        return json.dumps(line, ensure_ascii=False)


def configure(fmt: LogFormat) -> None:
    """Every logger of the process (the web server's too) writes in `fmt` to standard error."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def about(workspace: str, run: str | None = None) -> dict[str, str | None]:
    """The `extra=` of a log call about a workspace (and a run of it)."""
    return {"workspace": workspace, "run": run}
