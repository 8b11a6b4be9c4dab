"""Settings for the GeminiDB Backup Console.

Every value that differs between a laptop and production comes from an environment
variable (see the table in README.md and `.env.example`). The defaults are the embedded
ones `make run` uses: SQLite and a filesystem broker under `var/`, no servers needed.

This is the settings module manage.py, gunicorn, Celery and the tests name. Two subjects that
are read as a whole live beside it: webapp/security_settings.py (HTTPS, cookies, HSTS, CSP) and
webapp/celery_settings.py (broker, tasks, beat schedule); webapp/base_settings.py holds what all
three read (the folders, `env`, DEBUG). Their settings are imported here by name, not with `*`,
so this module still lists every setting and where it comes from: a setting added to one of them
is added to its import below too.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from webapp.base_settings import BASE_DIR, DEBUG, VAR_DIR, env
from webapp.celery_settings import (  # noqa: F401 - Django and Celery read them from this module
    BEAT_HEARTBEAT_MAX_AGE_SECONDS,
    CELERY_BEAT_SCHEDULE,
    CELERY_BEAT_SCHEDULE_FILENAME,
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP,
    CELERY_BROKER_CONNECTION_TIMEOUT,
    CELERY_BROKER_FOLDER,
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    CELERY_TASK_ACKS_LATE,
    CELERY_TASK_ALWAYS_EAGER,
    CELERY_TASK_IGNORE_RESULT,
    CELERY_TASK_PUBLISH_RETRY_POLICY,
    CELERY_TASK_REJECT_ON_WORKER_LOST,
    CELERY_TASK_SOFT_TIME_LIMIT,
    CELERY_TASK_TIME_LIMIT,
    CELERY_WORKER_PREFETCH_MULTIPLIER,
)
from webapp.security_settings import (  # noqa: F401 - Django reads them from this module
    BEHIND_TLS_PROXY,
    CONTENT_SECURITY_POLICY,
    CSRF_COOKIE_HTTPONLY,
    CSRF_COOKIE_SECURE,
    SECURE_CONTENT_TYPE_NOSNIFF,
    SECURE_CROSS_ORIGIN_OPENER_POLICY,
    SECURE_HSTS_INCLUDE_SUBDOMAINS,
    SECURE_HSTS_PRELOAD,
    SECURE_HSTS_SECONDS,
    SECURE_PROXY_SSL_HEADER,
    SECURE_REFERRER_POLICY,
    SECURE_SSL_REDIRECT,
    SESSION_COOKIE_HTTPONLY,
    SESSION_COOKIE_SAMESITE,
    SESSION_COOKIE_SECURE,
    X_FRAME_OPTIONS,
)

# Only a DEBUG instance may run on a key that is public in the repository (ours, or the
# placeholder in .env.example) or too short to be secret: the bar of Django's own deploy check
# (security.W009), refused at start instead of warned about.
SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_PLACEHOLDER = "change-me-to-a-long-random-string"  # noqa: S105 - .env.example's, refused
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105 - DEBUG only
elif not DEBUG:
    if SECRET_KEY == SECRET_KEY_PLACEHOLDER:
        raise ImproperlyConfigured(
            "SECRET_KEY is still the placeholder from .env.example. Set it to a long random string: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "SECRET_KEY is too short or too plain to be secret: use at least 50 random characters, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "access",
    "backups",
    "restores",
    "notifications",
    "api",
    "preferences",
    # django.contrib.admin, with the console's admin site (webapp/admin_site.py). After the
    # console's apps: of two catalogues with the same message the earlier app's wins, and the
    # admin's German says "Sichern" (back up, to our users) for "Save".
    "webapp.admin_site.ConsoleAdminConfig",
    # django-ninja serves the API docs' own copy of Swagger UI from its static files: no CDN.
    "ninja",
]

MIDDLEWARE = [
    # First, so every log line of a request carries its id (webapp/logcontext.py).
    "webapp.logcontext.RequestIdMiddleware",
    "webapp.health.HealthCheckMiddleware",
    "webapp.health.ReadinessMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the language cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in person's language, time zone and theme, from their session (or cookies).
    "preferences.middleware.PreferenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Audit events recorded while a request is handled carry the client's address.
    "access.middleware.AuditContextMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backups.context_processors.console",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'console.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write to the same file: wait for the lock instead of failing at once,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so a Celery worker process in the integration tests shares it;
    # one per test run, so two runs side by side do not collide.
    test_database = env.str("TEST_SQLITE_PATH", default=str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))
    DATABASES["default"]["TEST"] = {"NAME": test_database}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The IAM token and the cloud call budget are shared by all web and worker processes
# through this cache: files under var/ by default, Redis in production (atomic counters).
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "webapp.cache.SharedClientRedisCache"  # one client per pool: cache.py
# Every request reads its session: from the cache (Redis in production) rather than a query,
# written through to the database, so a cache flush signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, under the name existing sessions remember (access/backends.py).
    "access.backends.ConsoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "backups:overview"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling: lock a username+IP pair after repeated failures, and let the lock
# lapse by itself (FIELD-NOTES: the default cool-off of None locks forever).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Axes' database handler, which also writes each failed sign-in to the audit trail.
AXES_HANDLER = "access.lockout.AuditingAxesHandler"
# A flood of failed sign-ins must not grow the audit trail without bound: per client address,
# the first failure for each account (and the first for all unknown names together) is
# recorded, then one row per this many minutes, counting the ones in between.
AUDIT_SIGN_IN_FAILURE_MINUTES = env.float("AUDIT_SIGN_IN_FAILURE_MINUTES", default=15.0)

# English and German: the language from the browser, or the one a user chose (preferences app).
# Each app keeps its own catalogue in <app>/locale; the project's templates and webapp/ use locale/.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers as each language writes them (webapp/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["webapp.formats"]
# The language cookie mirrors a signed-in person's choice (preferences/middleware.py), so the
# live polls, which never load the session, speak it too.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = not DEBUG
# Times are stored in UTC and shown in the viewer's own time zone (preferences app).
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Backup pipeline pacing (backups/services/): first polls, and the base of the retry backoff.
BACKUP_POLL_FIRST_SECONDS = env.float("BACKUP_POLL_FIRST_SECONDS", default=5.0)
# A submitting worker renews its lease every third of it while it lives (backups/services/leases.py);
# one silent for a whole lease is dead, and the next outbox sweep hands its backup to another.
BACKUP_SUBMIT_LEASE_SECONDS = env.float("BACKUP_SUBMIT_LEASE_SECONDS", default=15.0)
if BACKUP_SUBMIT_LEASE_SECONDS < 3:
    raise ImproperlyConfigured("BACKUP_SUBMIT_LEASE_SECONDS must be at least 3 (it is renewed every third of it).")
BACKUP_RETRY_BASE_SECONDS = env.float("BACKUP_RETRY_BASE_SECONDS", default=10.0)
# Restores (restores/services/): how often a restoring instance, or a rehearsal instance being
# deleted, is looked at. Restores share the backups' lease and retry base.
RESTORE_POLL_SECONDS = env.float("RESTORE_POLL_SECONDS", default=10.0)

# The cloud. These are the defaults offered when a project is connected; each
# connected project stores its own endpoints. GEMINIDB_SIMULATOR_URL switches on demo
# mode: demo users and the seeded projects exist only against the simulator.
CLOUD_IAM_ENDPOINT = env.str("CLOUD_IAM_ENDPOINT", default="https://iam.eu-de.otc.t-systems.com")
CLOUD_GEMINIDB_ENDPOINT = env.str("CLOUD_GEMINIDB_ENDPOINT", default="https://gaussdb-nosql.eu-de.otc.t-systems.com")
GEMINIDB_SIMULATOR_URL = env.str("GEMINIDB_SIMULATOR_URL", default="")
DEMO_MODE = bool(GEMINIDB_SIMULATOR_URL)
# Demo mode seeds an `admin` with a password printed in the README: with DEBUG off it needs an
# explicit yes, and then every page says so (backups/context_processors.py).
ALLOW_DEMO_MODE_IN_PRODUCTION = env.bool("ALLOW_DEMO_MODE_IN_PRODUCTION", default=False)
if DEMO_MODE and not DEBUG and not ALLOW_DEMO_MODE_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "GEMINIDB_SIMULATOR_URL switches on demo mode, whose accounts (admin, operator, viewer) have the "
        "public password demo-console, and DEBUG is off. Unset GEMINIDB_SIMULATOR_URL, or set "
        "ALLOW_DEMO_MODE_IN_PRODUCTION=true if this really is a demo."
    )
# Cloud calls per minute per IAM user, shared by all processes (FIELD-NOTES: plan for 60).
CLOUD_CALLS_PER_MINUTE = env.int("CLOUD_CALLS_PER_MINUTE", default=50)
CLOUD_TIMEOUT_SECONDS = env.float("CLOUD_TIMEOUT_SECONDS", default=10.0)
# The most a safe call may spend waiting between its retries (backoff, 429 pauses).
CLOUD_RETRY_TOTAL_SECONDS = env.float("CLOUD_RETRY_TOTAL_SECONDS", default=30.0)

# Calls to addresses people type (cloud endpoints, later webhooks), enforced by webapp/outbound.py:
# https:// to public addresses only, never a redirect. OUTBOUND_ALLOWED_HOSTS lists host names
# (no scheme, no port) that may also be plain http:// and resolve to private or loopback addresses,
# e.g. an on-premises gateway; demo mode adds the simulator's host. Answers are read up to
# OUTBOUND_MAX_RESPONSE_BYTES, streamed; a longer one is refused.
OUTBOUND_ALLOWED_HOSTS = [host.strip().strip("[]").lower() for host in env.list("OUTBOUND_ALLOWED_HOSTS", default=[])]
if any(not host or "/" in host or "@" in host or host.count(":") == 1 for host in OUTBOUND_ALLOWED_HOSTS):
    raise ImproperlyConfigured("OUTBOUND_ALLOWED_HOSTS lists host names only, e.g. 10.1.2.3,gateway.internal.")
OUTBOUND_MAX_RESPONSE_BYTES = env.int("OUTBOUND_MAX_RESPONSE_BYTES", default=4 * 1024 * 1024)
if OUTBOUND_MAX_RESPONSE_BYTES < 64 * 1024:
    raise ImproperlyConfigured("OUTBOUND_MAX_RESPONSE_BYTES must be at least 65536 (a page of cloud results).")

# Rate limits on what people can repeat (webapp/throttle.py). "Refresh from cloud" per person;
# IAM password tries per IAM user on the connect and credentials pages, kept below IAM's own
# lock-out (a few wrong passwords lock the production IAM user for a while).
REFRESH_LIMIT = env.int("REFRESH_LIMIT", default=6)
REFRESH_WINDOW_SECONDS = env.int("REFRESH_WINDOW_SECONDS", default=600)
IAM_PASSWORD_TRIES_LIMIT = env.int("IAM_PASSWORD_TRIES_LIMIT", default=3)
IAM_PASSWORD_TRIES_WINDOW_SECONDS = env.int("IAM_PASSWORD_TRIES_WINDOW_SECONDS", default=900)
# Invitations one person may send per hour: each is an email to an address they typed.
INVITATIONS_PER_HOUR = env.int("INVITATIONS_PER_HOUR", default=20)
# Requests per API token per minute (api/auth.py); past it, 429 with Retry-After.
API_REQUESTS_PER_MINUTE = env.int("API_REQUESTS_PER_MINUTE", default=120)
# How long an Idempotency-Key is remembered (api/services/requests.py).
API_IDEMPOTENCY_KEY_HOURS = env.int("API_IDEMPOTENCY_KEY_HOURS", default=24)

# Prometheus metrics at /metrics (webapp/metrics/, docs/operations.md): answered only to
# "Authorization: Bearer <METRICS_TOKEN>"; unset, the endpoint is off (404). Several processes
# (gunicorn workers, Celery children) share their counts through PROMETHEUS_MULTIPROC_DIR,
# which prometheus_client reads from the environment itself.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters (e.g. secrets.token_hex(32)).")
# Prometheus scrapes web:8000 over the internal network, where no TLS proxy sits in front.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]

# Passwords of connected cloud projects are encrypted with these Fernet keys, newest
# first; older keys only decrypt (README: "Rotating the encryption key").
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("Set FIELD_ENCRYPTION_KEYS (a Fernet key, see README).")
    FIELD_ENCRYPTION_KEYS = ["ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="]

# Outgoing email (invitations), sent by the worker from the outbox (notifications/). EMAIL_URL as
# django-environ reads it: smtp+tls://user:password@host:587, smtp://host:25, consolemail://, or
# filemail:///var/mail (a relative path is under the checkout). In development and demo mode each
# message is a file under var/mail, so the invitation links can be opened there.
_email = env.email_url("EMAIL_URL", default="filemail:///var/mail" if DEBUG or DEMO_MODE else "smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if _email["EMAIL_FILE_PATH"]:
    EMAIL_FILE_PATH = str(BASE_DIR / _email["EMAIL_FILE_PATH"])  # an absolute path stays as it is
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GeminiDB Backup Console <backup-console@localhost>")
# Each email is tried this many times, the waits between tries doubling from the base.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=6)
EMAIL_RETRY_BASE_SECONDS = env.float("EMAIL_RETRY_BASE_SECONDS", default=30.0)
# The console's address as people reach it, for the links in emails (e.g. https://backups.example.com).
# Empty: the address of the request that caused the email (its host is one of ALLOWED_HOSTS).
CONSOLE_URL = env.str("CONSOLE_URL", default="")
# How long an invitation link works.
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
# Notification channels (notifications/): tries per delivery, the waits between them doubling
# from the base (with jitter); a webhook's timeout; "Send test" clicks per person per 10 minutes.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=6)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# A worker silent this long after claiming a delivery is dead and another sends it; the send
# task's hard time limit (60 s) stays below it.
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=120)
CHANNEL_TESTS_PER_10_MINUTES = env.int("CHANNEL_TESTS_PER_10_MINUTES", default=10)

# LOG_FORMAT=json: one JSON object per line for a log collector; plain for people. Both carry
# request_id, user, task_id, backup_id and cloud_request_id when known (webapp/logcontext.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "webapp.logcontext.ContextFilter"}},
    "formatters": {
        "plain": {
            "()": "webapp.logcontext.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s",
        },
        "json": {"()": "webapp.logcontext.json_formatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
