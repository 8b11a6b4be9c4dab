"""The soak run's people: operators in the web pages (signed in with a session, a real form POST
with its CSRF token) and pipelines on the API (a bearer token, an Idempotency-Key retried on a
network error), each asking for a backup at a steady pace; and the webhook receiver the
projects' channels send to.

Nothing here touches the database: every request goes over HTTP to gunicorn, as a browser's or
a pipeline's would. Which instance is free is the pool's business (one active backup per
instance is the console's rule); `soak.py` releases an instance once its backup has ended.
"""

import contextlib
import random
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HTTP_TIMEOUT = 30
API_ATTEMPTS = 3
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM_ERROR = re.compile(r'<(?:ul class="errorlist[^"]*"|div class="alert alert-error"[^>]*)>\s*<(?:li|p)>(.*?)</', re.S)
BACKUP_PATH = re.compile(r"/backups/(\d+)/$")
TERMINAL = ("completed", "failed", "unknown")


@dataclass
class Request:
    """One backup request as its sender saw it."""

    user: str
    door: str  # "web" or "api"
    instance: int
    name: str
    sent_at: float  # wall clock, seconds
    backup: int | None = None  # the console's id, when the answer named it
    outcome: str = "error"  # "accepted", "refused" (the console said no) or "error" (no usable answer)
    detail: str = ""


@dataclass
class Claim:
    request: Request
    since: float = field(default_factory=time.monotonic)


class InstancePool:
    """The instances users may ask a backup of, each held from the request until its backup ends."""

    def __init__(self, instances: list[int], seed: int = 16):
        self._free = list(instances)
        self._claims: dict[int, Claim] = {}
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - a fair spread, not a secret
        self.requests: list[Request] = []
        self.skipped = 0  # ticks when every instance was busy

    def take(self) -> int | None:
        with self._lock:
            if not self._free:
                self.skipped += 1
                return None
            return self._free.pop(self._random.randrange(len(self._free)))

    def hold(self, request: Request) -> None:
        """Record the request; its instance stays busy while it may still lead to a backup."""
        with self._lock:
            self.requests.append(request)
            if request.outcome == "refused":
                self._free.append(request.instance)
            else:
                self._claims[request.instance] = Claim(request)

    def claims(self) -> list[Claim]:
        with self._lock:
            return list(self._claims.values())

    def release(self, instance: int) -> None:
        with self._lock:
            if self._claims.pop(instance, None) is not None:
                self._free.append(instance)


class WebUser:
    """An operator in the pages: signs in, opens the instances page now and then, opens the
    create-backup form, posts it, and lands on the backup's page."""

    door = "web"

    def __init__(self, base_url: str, username: str, password: str):
        self.base_url = base_url
        self.username = username
        self._password = password
        self.session = requests.Session()
        self.pages = Counter()  # answers by status code
        self.cycles = 0

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        answer = self.session.request(
            method, self.base_url + path, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs
        )
        # Browsers send Secure cookies to http://127.0.0.1 (a secure context to them); requests
        # never does, so the console's Secure session and CSRF cookies (DEBUG off) are kept plain here.
        for cookie in self.session.cookies:
            cookie.secure = False
        self.pages[answer.status_code] += 1
        return answer

    def _get(self, path: str) -> requests.Response:
        answer = self._send("GET", path)
        if answer.status_code == 302 and "/accounts/login/" in answer.headers.get("Location", ""):
            self.sign_in()  # the session ended: sign in again, as a person would
            answer = self._send("GET", path)
        return answer

    def sign_in(self) -> None:
        form = self._send("GET", "/accounts/login/")
        data = {"username": self.username, "password": self._password, "next": "", "csrfmiddlewaretoken": _csrf(form)}
        answer = self._send("POST", "/accounts/login/", data=data)
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: {answer.status_code}")

    def request_backup(self, instance: int, name: str) -> Request:
        self.cycles += 1
        request = Request(self.username, self.door, instance, name, time.time())
        try:
            if self.cycles % 4 == 1:  # now and then, a look at the lists first
                self._get("/instances/")
                self._get("/history/")
            path = f"/instances/{instance}/backup/"
            form = self._get(path)
            data = {"name": name, "description": f"Soak run by {self.username}", "csrfmiddlewaretoken": _csrf(form)}
            request.sent_at = time.time()
            answer = self._send("POST", path, data=data)
        except (requests.RequestException, RuntimeError) as error:
            request.detail = type(error).__name__
            return request
        if answer.status_code == 302 and (found := BACKUP_PATH.search(answer.headers.get("Location", ""))):
            request.backup, request.outcome = int(found.group(1)), "accepted"
            with contextlib.suppress(requests.RequestException):
                self._get(answer.headers["Location"])  # the backup's page, where the browser goes next
        elif answer.status_code == 200:
            request.outcome = "refused"
            found = FORM_ERROR.search(answer.text)
            request.detail = unescape(found.group(1)).strip()[:120] if found else "form shown again"
        else:
            request.detail = f"HTTP {answer.status_code}"
        return request


class ApiUser:
    """A pipeline on the API: POST /api/v1/backups with an Idempotency-Key, the same key again
    after a network error or a 5xx/429, and a look at one of its backups each turn, as a job
    that waits for its backup would."""

    door = "api"

    def __init__(self, base_url: str, username: str, token: str):
        self.base_url = base_url
        self.username = username
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.pages = Counter()
        self.replayed = 0
        self._waiting: list[int] = []

    def request_backup(self, instance: int, name: str) -> Request:
        self._follow_one()
        request = Request(self.username, self.door, instance, name, time.time())
        body = {"instance": instance, "name": name, "description": f"Soak run by {self.username}"}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(API_ATTEMPTS):
            if attempt:
                time.sleep(2 * attempt)
            try:
                answer = self.session.post(
                    f"{self.base_url}/api/v1/backups", json=body, headers=headers, timeout=HTTP_TIMEOUT
                )
            except requests.RequestException as error:
                request.detail = type(error).__name__
                continue
            self.pages[answer.status_code] += 1
            if answer.status_code == 202:
                request.backup, request.outcome, request.detail = answer.json()["id"], "accepted", ""
                self.replayed += answer.headers.get("Idempotent-Replayed") == "true"
                self._waiting.append(request.backup)
                return request
            request.detail = f"HTTP {answer.status_code}"
            if answer.status_code < 500 and answer.status_code != 429:
                request.outcome = "refused"
                request.detail += f" {_api_message(answer)}"
                return request
        return request

    def _follow_one(self) -> None:
        if not self._waiting:
            return
        backup = self._waiting[0]
        try:
            answer = self.session.get(f"{self.base_url}/api/v1/backups/{backup}", timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            return
        self.pages[answer.status_code] += 1
        if answer.status_code != 200 or answer.json()["status"] in TERMINAL:
            self._waiting.pop(0)


def run_user(user, pool: InstancePool, stop: threading.Event, interval: float, first_at: float) -> None:
    """Ask for a backup every `interval` seconds from `first_at` (monotonic) until `stop`."""
    due, sequence = first_at, 0
    while not stop.wait(max(0.0, due - time.monotonic())):
        due += interval
        instance = pool.take()
        if instance is None:
            continue
        sequence += 1
        pool.hold(user.request_backup(instance, f"soak-{user.username}-{sequence:05d}"))


class WebhookReceiver:
    """The projects' webhook channels send here. Answers 500 to a share of deliveries (a
    receiver having a bad moment), so the console's retries run too; counts deliveries and
    repeated delivery ids."""

    def __init__(self, failure_rate: float = 0.05):
        self.received = Counter()  # delivery id -> attempts that reached us
        self.answered = Counter()  # status -> count
        self._random = random.Random(7)  # noqa: S311
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = 500 if receiver._random.random() < failure_rate else 204
                    receiver.answered[status] += 1
                    if status == 204:
                        receiver.received[self.headers.get("X-Console-Delivery", "")] += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _csrf(page: requests.Response) -> str:
    found = CSRF_INPUT.search(page.text)
    if not found:
        raise RuntimeError(f"no CSRF token in {page.url} ({page.status_code})")
    return found.group(1)


def _api_message(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("code") or body.get("detail") or "")[:80]
