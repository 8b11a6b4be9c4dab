"""A tiny HTTP(S) server on 127.0.0.1 that answers what a test tells it and records every request:
a redirecting endpoint, the place a redirect points to, an internal service with a chatty error
page, an endpoint with an endless answer. ``FakeDNS`` makes a name resolve where a test says
(DNS is not what these tests are about), and ``self_signed_certificate`` lets the stub speak TLS."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reason: str | None = None  # the reason phrase; the standard one when None
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes

    @classmethod
    def json(cls, status: int, data: Any, **kwargs: Any) -> Answer:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return cls(status, json.dumps(data).encode(), headers, **kwargs)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StubServer:
    """Answers every request with ``answer(received)`` (a fixed ``Answer`` by default)."""

    def __init__(self, *, tls: ssl.SSLContext | None = None):
        self.requests: list[Received] = []
        self.answer: Callable[[Received], Answer] = lambda received: Answer()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(self.command, self.path, dict(self.headers), self.rfile.read(length))
                stub.requests.append(received)
                answer = stub.answer(received)
                self.send_response(answer.status, answer.reason)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.content_length:
                    self.send_header("Content-Length", str(len(answer.body)))
                else:
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def always(self, answer: Answer) -> None:
        self.answer = lambda received: answer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fake_cloud(received: Received) -> Answer:
    """IAM and GeminiDB in one: a token for any sign-in, an empty instance list."""
    if received.path.startswith("/v3/auth/tokens"):
        token = {"token": {"expires_at": "2099-01-01T00:00:00Z"}}
        return Answer.json(201, token, headers={"X-Subject-Token": "stub-token"})
    return Answer.json(200, {"instances": [], "total_count": 0})


class FakeDNS:
    """``socket.getaddrinfo`` answering ``names`` from a dict (None: no such name) and everything
    else from the real resolver, and remembering every name it was asked for."""

    def __init__(self, monkeypatch: Any):
        self.names: dict[str, str | None] = {}
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
            self.lookups.append(host)
            if host not in self.names:
                return real(host, port, family, type, proto, flags)
            address = self.names[host]
            if address is None:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            if ":" in address:
                return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port), 0, 0))]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for ``host`` that is its own CA, and its key: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{host}.pem", directory / f"{host}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def tls_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
