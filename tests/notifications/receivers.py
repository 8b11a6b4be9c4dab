"""Real local receivers for the channels' tests: an HTTP server that checks the console's
signature as README tells receivers to, and an SMTP server (aiosmtpd)."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 300  # seconds: older signatures are refused (README, "Notifications")


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """README's check: the HMAC of "<t>.<body>" in constant time, and a timestamp at most 5 minutes old."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp, signature = int(parts["t"]), parts["v1"]
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs((time.time() if now is None else now) - timestamp) <= TOLERANCE
    return fresh and hmac.compare_digest(expected, signature)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the server got, and how it answers: `secret` set, it checks signatures (401 when
    wrong or stale, 409 for a signature it saw before: a replay); `status` is its answer
    otherwise; `hold` (an Event) makes it wait before answering."""

    secret: str = ""
    status: int = 200
    hold: threading.Event | None = None
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> int:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {key.lower(): value for key, value in handler.headers.items()}
        if self.secret:
            signature = headers.get("x-console-signature", "")
            if not verify(self.secret, signature, body):
                self.refused.append("signature")
                return 401
            if signature in self.seen:
                self.refused.append("replay")
                return 409
            self.seen.add(signature)
        self.received.append(Received(handler.path, headers, body))
        if self.hold is not None:
            self.hold.wait(30)
        return self.status


def start_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            status = receiver.handle(self)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/console"
    return server
