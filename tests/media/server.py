"""A media host on a loopback socket, for the probe tests: files served with or without HTTP
ranges, and the hostile cases (endless streams, a 10 GB file, redirects, a 403). Every request
is counted by path, and its query string and headers kept, so a test can tell what reached it."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class MediaHost:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: Counter[str] = Counter()
        self.queries: list[str] = []
        self.headers: list[str] = []  # every request's headers, as sent
        self.redirect_to = ""  # where /redirect-other sends clients
        self.stop_streams = threading.Event()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                host.requests[parts.path] += 1
                host.queries.append(parts.query)
                host.headers.append(str(self.headers))
                route = parts.path.split("/")[1]
                getattr(self, f"_{route.replace('-', '_')}", self._missing)(parts.path)

            def _missing(self, path: str) -> None:
                self.send_error(404)

            def _files(self, path: str) -> None:
                data = host.files.get(path.split("/", 2)[2])
                if data is None:
                    self._send(404, b"NoSuchKey", {})
                    return
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                found = RANGE.fullmatch(self.headers.get("Range", ""))
                if found is None:
                    self._send(200, data, {"ETag": etag})
                    return
                start = int(found.group(1))
                end = min(int(found.group(2) or len(data) - 1), len(data) - 1)
                if start >= len(data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                headers = {"ETag": etag, "Content-Range": f"bytes {start}-{end}/{len(data)}"}
                self._send(206, data[start : end + 1], headers)

            def _norange(self, path: str) -> None:
                self._send(200, host.files[path.split("/", 2)[2]], {})

            def _forbidden(self, path: str) -> None:
                self._send(403, b"AccessDenied", {})

            def _redirect_same(self, path: str) -> None:
                self._send(302, b"", {"Location": "/files/" + path.split("/", 2)[2]})

            def _redirect_other(self, path: str) -> None:
                self._send(302, b"", {"Location": host.redirect_to})

            def _forever(self, path: str) -> None:
                """Headers, then a byte every 0.2 s, until the test ends."""
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.end_headers()
                while not host.stop_streams.is_set():
                    try:
                        self.wfile.write(b"R")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.2)

            def _huge(self, path: str) -> None:
                """A 10 GB file of nothing a parser can read, ranges ignored."""
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 1024**3))
                self.end_headers()
                block = b"\0" * 65536
                try:
                    for _ in range(10 * 1024**3 // len(block)):
                        if host.stop_streams.is_set():
                            return
                        self.wfile.write(block)
                except OSError:
                    return

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stop_streams.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def media_host(files: dict[str, bytes] | None = None) -> Iterator[MediaHost]:
    host = MediaHost()
    host.files.update(files or {})
    host.start()
    try:
        yield host
    finally:
        host.stop()
