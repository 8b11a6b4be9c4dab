"""The HTTP side: parse requests, apply the injected latency, answer or drop, log each call."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import app
from .messages import ApiError, Request, Response
from .world import World

log = logging.getLogger("simulator")

MAX_BODY_BYTES = 1 << 20


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that serves one World."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], world: World):
        super().__init__(address, RequestHandler)
        self.world = world


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GeminiDB-Simulator"
    server: SimulatorServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        started = time.monotonic()
        # A fresh random id per call: nothing about the caller or its token goes into it.
        request_id = uuid.uuid4().hex
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            too_large = ApiError(413, "APIG.0201", "Request entity too large.", gateway=True)
            self._send(too_large.to_response(request_id), request_id)
            self._log(413, started, request_id)
            return
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query={key: values[0] for key, values in parse_qs(url.query, keep_blank_values=True).items()},
            headers=self.headers,
            body=self.rfile.read(length) if length else b"",
            base_url=f"http://{self.headers.get('Host') or self._own_address()}",
            request_id=request_id,
        )
        delay = app.latency_seconds(self.server.world, request)
        if delay:
            time.sleep(delay)
        try:
            response = app.handle(self.server.world, request)
        except Exception:
            log.exception("simulator bug while answering %s %s", self.command, url.path)
            response = Response(
                500, {"error_code": "DBS.200998", "error_msg": "Simulator internal error, see its log."}
            )
        if response.drop:
            # Close the socket without a byte of answer: the client cannot tell what happened.
            self.close_connection = True
            self._log("dropped", started, request_id)
            return
        self._send(response, request_id)
        self._log(response.status, started, request_id)

    def _own_address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def _send(self, response: Response, request_id: str) -> None:
        # A 204 has no body and no Content-Length (RFC 9110): a client would read the bytes
        # as the start of the next answer on the connection.
        payload = b"" if response.status == 204 else json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-Id", request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _log(self, outcome: int | str, started: float, request_id: str) -> None:
        # Method, path and query only: tokens travel in headers and passwords in bodies,
        # neither of which is logged.
        elapsed_ms = (time.monotonic() - started) * 1000
        log.info(
            '%s "%s %s" %s %.0fms request_id=%s',
            self.client_address[0],
            self.command,
            self.path,
            outcome,
            elapsed_ms,
            request_id,
        )

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silenced: every call is logged once by ``_log`` with its timing."""

    def log_message(self, format: str, *args: object) -> None:
        log.warning("%s %s", self.client_address[0], format % args)


def make_server(host: str, port: int, world: World) -> SimulatorServer:
    """Bind the server (port 0 picks a free port); ``server_address`` tells the real one."""
    return SimulatorServer((host, port), world)


def serve_until_signalled(server: SimulatorServer, on_ready: Callable[[], None]) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting, finish and close the socket.

    ``on_ready`` runs once the signal handlers are in place, so whoever it tells that the
    server is up can stop it cleanly from then on.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True)
    thread.start()
    on_ready()
    stop.wait()
    log.info("stopping")
    server.shutdown()
    server.server_close()
