"""A tiny threaded HTTP server on 127.0.0.1 that serves one folder, with scripted failures.

``voxrepro demo`` downloads through it and the download tests use it, so that the whole
download path (yt-dlp, retries, state) runs without the internet. It binds only to the loopback
address on an ephemeral port, serves files under its root and nothing else, and logs every
request so that a test can prove that a rerun made no request at all.

Behaviours are scripted per URL path as a sequence of HTTP status codes consumed one per
request ("429 twice then serve the file" is ``[429, 429]``); when the sequence is used up the
``then`` status applies (``None``: serve the file normally). ``DROP`` closes the connection
without any response, which clients see as a connection error.
"""

from __future__ import annotations

import http.server
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from voxrepro.types import Pathlike

logger = logging.getLogger("voxrepro")

LOOPBACK_HOST = "127.0.0.1"
#: Pseudo status: close the connection without sending a response (a "connection error").
DROP = 0


@dataclass
class Behaviour:
    """What one URL path answers: ``statuses`` in order, one per request, then ``then``.

    Attributes:
        statuses: status codes still to answer, consumed from the front.
        then: status once ``statuses`` is used up; ``None`` serves the file normally.
        delay: seconds to wait before answering each request (a slow server).
    """

    statuses: list[int] = field(default_factory=list)
    then: int | None = None
    delay: float = 0.0

    def next_status(self) -> int | None:
        if self.statuses:
            return self.statuses.pop(0)
        return self.then


@dataclass(frozen=True)
class RequestRecord:
    """One request the server saw: method, path (no query), status answered, time (epoch s),
    and its Cookie header (None when absent)."""

    method: str
    path: str
    status: int
    time: float
    cookie: str | None = None


class LoopbackServer:
    """Serve ``root`` on ``http://127.0.0.1:<ephemeral port>/`` from a background thread.

    Use as a context manager (``with LoopbackServer(folder) as server: server.url("a.mp4")``)
    or call ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        root: Pathlike,
        behaviours: dict[str, Behaviour | int | Sequence[int]] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root}: not a folder to serve")
        self._lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        self._log: list[RequestRecord] = []
        self._active = 0
        self._peak_active = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for path, behaviour in (behaviours or {}).items():
            self.set_behaviour(path, behaviour)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        if self._server is not None:
            return self
        handler = _make_handler(self)
        server = _QuietThreadingServer((LOOPBACK_HOST, 0), handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown waits up to one poll
            name="voxrepro-loopback",
            daemon=True,
        )
        self._thread.start()
        logger.debug("loopback server serving %s on %s", self.root, self.base_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("loopback server is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (relative to the served root)."""
        return f"{self.base_url}/{quote(path.lstrip('/'))}"

    # -- behaviours and log ------------------------------------------------------------------
    def set_behaviour(self, path: str, behaviour: Behaviour | int | Sequence[int]) -> None:
        """Script what ``path`` answers: an int (always), a sequence (in order), or a Behaviour."""
        if isinstance(behaviour, int):
            behaviour = Behaviour(statuses=[], then=behaviour)
        elif not isinstance(behaviour, Behaviour):
            behaviour = Behaviour(statuses=list(behaviour), then=None)
        with self._lock:
            self._behaviours[_normalise_path(path)] = behaviour

    def clear_behaviours(self) -> None:
        with self._lock:
            self._behaviours.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of every request seen so far, in arrival order."""
        with self._lock:
            return list(self._log)

    def request_count(self, path: str | None = None) -> int:
        """How many requests arrived (for ``path`` only, when given)."""
        wanted = None if path is None else _normalise_path(path)
        with self._lock:
            return sum(1 for r in self._log if wanted is None or r.path == wanted)

    @property
    def peak_concurrency(self) -> int:
        """The most requests that were being answered at the same time."""
        with self._lock:
            return self._peak_active

    def clear_log(self) -> None:
        """Forget the request log and the peak concurrency."""
        with self._lock:
            self._log.clear()
            self._peak_active = 0

    # -- used by the handler -----------------------------------------------------------------
    def _begin(self, path: str) -> float:
        """Count a request in flight; return its scripted delay."""
        with self._lock:
            self._active += 1
            self._peak_active = max(self._peak_active, self._active)
            behaviour = self._behaviours.get(path)
            return 0.0 if behaviour is None else behaviour.delay

    def _end(self) -> None:
        with self._lock:
            self._active -= 1

    def _scripted_status(self, path: str) -> int | None:
        with self._lock:
            behaviour = self._behaviours.get(path)
            return None if behaviour is None else behaviour.next_status()

    def _record(self, method: str, path: str, status: int, cookie: str | None = None) -> None:
        with self._lock:
            self._log.append(RequestRecord(method, path, status, time.time(), cookie))


class _QuietThreadingServer(http.server.ThreadingHTTPServer):
    """socketserver prints a traceback per error; clients hanging up early are normal here
    (yt-dlp's generic extractor reads only the start of a file in its first request)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("loopback: client %s hung up (%s)", client_address, error)
        else:
            logger.warning("loopback: error answering %s: %r", client_address, error)


def _normalise_path(path: str) -> str:
    return "/" + urlsplit(path).path.lstrip("/")


def _make_handler(owner: LoopbackServer) -> type[http.server.SimpleHTTPRequestHandler]:
    class _Handler(http.server.SimpleHTTPRequestHandler):
        # HTTP/1.0 closes after each response: simplest for DROP and for a clean shutdown.
        protocol_version = "HTTP/1.0"

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._scripted = False
            super().__init__(*args, directory=str(owner.root), **kwargs)

        def _answer_scripted(self) -> bool:
            path = _normalise_path(self.path)
            status = owner._scripted_status(path)
            if status is None:
                return False
            # Recorded here, not in log_request, so that DROP (no response) is logged too.
            self._scripted = True
            owner._record(self.command, path, status, self.headers.get("Cookie"))
            if status == DROP:
                self.close_connection = True
                return True
            body = f"{status} {_phrase(status)}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return True

        def _handle(self, serve: Callable[[], None]) -> None:
            delay = owner._begin(_normalise_path(self.path))
            try:
                if delay > 0:
                    time.sleep(delay)
                if not self._answer_scripted():
                    serve()
            finally:
                owner._end()

        def do_GET(self) -> None:
            self._handle(super().do_GET)

        def do_HEAD(self) -> None:
            self._handle(super().do_HEAD)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if not self._scripted:
                status = int(code) if str(code).isdigit() else 0
                path = _normalise_path(self.path)
                owner._record(self.command, path, status, self.headers.get("Cookie"))
            logger.debug("loopback %s %s -> %s", self.command, self.path, code)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("loopback: " + format, *args)

    return _Handler


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"
