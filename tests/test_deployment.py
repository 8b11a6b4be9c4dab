"""Deployment defaults: what goes into the image, Redis behind a password, which proxy header is
trusted, and the settings a production instance refuses to start with."""

import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import RequestFactory
from django.urls import reverse

from tests.test_foundation import PRODUCTION_ENV, run_manage

REPO = Path(__file__).resolve().parent.parent


# --- start-up refusals --------------------------------------------------------------------


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_production_refuses_the_placeholder_secret_key_of_env_example():
    placeholder = env_example()["SECRET_KEY"]
    result = run_manage("check", env=PRODUCTION_ENV | {"SECRET_KEY": placeholder})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is still the placeholder from .env.example" in result.stderr


@pytest.mark.parametrize("key", ["short-key", "x" * 60, "django-insecure-" + "k3y" * 20])
def test_production_refuses_a_short_or_plain_secret_key(key):
    result = run_manage("check", env=PRODUCTION_ENV | {"SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is too short or too plain" in result.stderr


def test_development_still_runs_on_a_short_key():
    result = run_manage("check", env=PRODUCTION_ENV | {"DEBUG": "true", "SECRET_KEY": "short"})
    assert result.returncode == 0, result.stderr


def test_demo_mode_with_debug_off_is_refused_unless_explicitly_allowed():
    demo = PRODUCTION_ENV | {"GEMINIDB_SIMULATOR_URL": "http://127.0.0.1:8001"}
    result = run_manage("check", env=demo)
    assert result.returncode != 0
    assert "ImproperlyConfigured: GEMINIDB_SIMULATOR_URL switches on demo mode" in result.stderr
    assert "ALLOW_DEMO_MODE_IN_PRODUCTION=true" in result.stderr
    allowed = run_manage("check", env=demo | {"ALLOW_DEMO_MODE_IN_PRODUCTION": "true"})
    assert allowed.returncode == 0, allowed.stderr
    assert run_manage("check", env=demo | {"DEBUG": "true"}).returncode == 0


@pytest.mark.django_db
def test_a_demo_with_debug_off_says_so_on_every_page(client, settings):
    settings.DEMO_MODE = True
    html = client.get(reverse("login")).content.decode()
    assert "Demo mode on a production setup." in html
    assert 'class="alert alert-error" role="alert"' in html
    settings.DEBUG = True
    assert "Demo mode on a production setup." not in client.get(reverse("login")).content.decode()
    settings.DEBUG, settings.DEMO_MODE = False, False
    assert "Demo mode on a production setup." not in client.get(reverse("login")).content.decode()


# --- the proxy header ---------------------------------------------------------------------


def setting_in_production(name: str, **env) -> str:
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = run_manage("shell", "-c", code, env=PRODUCTION_ENV | env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_x_forwarded_proto_is_trusted_only_when_a_proxy_is_declared(settings):
    assert setting_in_production("SECURE_PROXY_SSL_HEADER") == "None"
    declared = setting_in_production("SECURE_PROXY_SSL_HEADER", BEHIND_TLS_PROXY="true")
    assert declared == "('HTTP_X_FORWARDED_PROTO', 'https')"
    # The test settings are the defaults: a client claiming HTTPS over plain HTTP is not believed.
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert not RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https").is_secure()


# --- what goes into the image -------------------------------------------------------------


def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """`.dockerignore` as Docker reads it: (excludes?, pattern), the last match wins."""
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
        rules.append((not negated, re.compile(regex)))
    return rules


def excluded(path: str) -> bool:
    parts = path.split("/")
    verdict = False
    for excludes, pattern in dockerignore_rules():
        # A pattern that matches a folder excludes everything in it.
        if any(pattern.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            verdict = excludes
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        "deploy/.env",
        "var/console.sqlite3",
        "var/cache/token.djcache",
        ".venv/bin/python",
        ".git/config",
        "access/__pycache__/models.cpython-311.pyc",
        "backups/services/__pycache__/sync.cpython-311.pyc",
        ".pytest_cache/README.md",
        "test-results/trace.zip",
        "console.sqlite3",
    ],
)
def test_the_image_leaves_out_secrets_local_state_and_test_outputs(path):
    assert excluded(path), path


@pytest.mark.parametrize("path", [".env.example", "manage.py", "webapp/settings.py", "simulator/server.py"])
def test_the_image_keeps_the_code(path):
    assert not excluded(path), path


# --- Redis behind a password in docker-compose.yml ----------------------------------------


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_redis_requires_a_password_that_every_url_to_it_carries():
    stack = compose()
    redis = stack["services"]["redis"]
    assert re.search(r'--requirepass "\$\{REDIS_PASSWORD:\?[^}]+\}"', redis["command"])
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")
    assert "grep -q PONG" in redis["healthcheck"]["test"][1]  # NOAUTH would exit 0 too
    urls = [
        value
        for service in [stack["x-app"], *stack["services"].values()]
        for value in (service.get("environment") or {}).values()
        if isinstance(value, str) and "redis" in value and "://" in value
    ]
    assert len(set(urls)) == 2  # the broker and the cache, in every app service
    for url in urls:
        assert re.fullmatch(r"(redis|rediscache)://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/\d", url), url


@pytest.mark.skipif(not shutil.which("check-jsonschema", path=str(REPO / ".venv/bin")), reason="no check-jsonschema")
def test_compose_file_is_valid_against_the_compose_specification():
    tool = shutil.which("check-jsonschema", path=str(REPO / ".venv/bin"))
    result = subprocess.run(
        [tool, "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- serving, migrations and health checks in docker-compose.yml --------------------------


def test_migrations_run_once_in_a_one_off_service_the_app_waits_for():
    services = compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == "python manage.py migrate --no-input"
    assert migrate["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert "migrate" not in str(services[name]["command"]), name


def test_web_serves_through_gunicorn_conf_in_the_image_and_in_compose():
    assert compose()["services"]["web"]["command"] == "gunicorn webapp.wsgi -c gunicorn.conf.py"
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "webapp.wsgi", "-c", "gunicorn.conf.py"]' in dockerfile
    assert not excluded("gunicorn.conf.py")


def test_health_checks_use_liveness_for_web_and_the_heartbeat_for_beat():
    services = compose()["services"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"] == ["CMD", "python", "manage.py", "beat_alive"]


def test_postgres_17_and_a_shared_metrics_volume():
    stack = compose()
    assert stack["services"]["postgres"]["image"] == "postgres:17-alpine"
    assert "metrics" in stack["volumes"]
    for name in ("web", "worker", "beat"):
        service = stack["services"][name]
        assert "metrics:/app/var/metrics" in service["volumes"], name
        assert service["environment"]["PROMETHEUS_MULTIPROC_DIR"] == "/app/var/metrics", name


def gunicorn_settings(**env) -> dict:
    """gunicorn.conf.py's values as gunicorn would read them, in a process with only `env`."""
    code = (
        "import json, runpy; conf = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: v for k, v in conf.items() if isinstance(v, str | int | float | list)}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gunicorn_uses_threads_and_outlasts_a_long_export():
    conf = gunicorn_settings()
    assert conf["worker_class"] == "gthread"
    assert (conf["workers"], conf["threads"]) == (2, 4)
    assert conf["timeout"] >= 300
    assert conf["graceful_timeout"] >= 60
    assert conf["max_requests"]
    assert conf["max_requests_jitter"]
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert conf["accesslog"] == "-"
    assert conf["bind"] == ["0.0.0.0:8000"]


def test_gunicorn_takes_its_numbers_and_trusted_proxies_from_the_environment():
    conf = gunicorn_settings(WEB_CONCURRENCY="5", GUNICORN_THREADS="8", FORWARDED_ALLOW_IPS="10.0.0.2,10.0.0.3")
    assert (conf["workers"], conf["threads"], conf["forwarded_allow_ips"]) == (5, 8, "10.0.0.2,10.0.0.3")


def test_gunicorn_child_exit_hands_over_to_the_metrics_when_they_exist():
    hook = runpy.run_path(str(REPO / "gunicorn.conf.py"))["child_exit"]
    hook(None, type("Worker", (), {"pid": 999999})())  # neither raises nor needs a server
