"""gunicorn's settings for the web container: `gunicorn webapp.wsgi -c gunicorn.conf.py`.

Numbers come from the environment (README, .env.example); the command line overrides any of them.
"""

import os

bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]

# Threads, not the default sync workers: a streamed CSV export (minutes for a million rows on a
# slow client) or a slow upload would hold a sync worker, and the history page's htmx polls
# (a request every 2 s per open tab) would queue behind it. With gthread each process serves
# `threads` requests at once and the long ones only hold a thread. The app is I/O-bound
# (database, cache), so threads share the GIL well.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each thread keeps its own persistent database connection (CONN_MAX_AGE): a web container
# holds up to workers x threads connections (8 by default); size PostgreSQL's
# max_connections for every container plus the Celery workers' concurrency.

# With gthread the timeout is not a per-request limit: it is the heartbeat of the worker
# process, which its main loop refreshes while requests run in the threads. It only fires
# when the whole process is stuck, so a long export is never cut by it; it is large because a
# request that holds the GIL for long (building a big page) must not get a healthy process killed.
timeout = 300
# On a restart (deploy, max_requests) requests in flight get this long to finish: long
# enough for an export that has started.
graceful_timeout = 120
# Behind a proxy that reuses connections; longer than the htmx poll interval (2 s).
keepalive = 5

# Recycle each process after about this many requests, jittered so they do not all restart
# at once: bounds slow memory growth (template caches, fragmentation).
max_requests = 1000
max_requests_jitter = 100

# Only these addresses may set X-Forwarded-For/-Proto for gunicorn (comma-separated, or *
# when only the proxy can reach the container). Django's own trust of X-Forwarded-Proto is
# BEHIND_TLS_PROXY.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Access log to stdout, with the request id that the console's own log lines carry.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms req=%({x-request-id}o)s'

# The heartbeat file on tmpfs: a container's overlay disk can stall it (gunicorn's docs on Docker).
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn's own recommendation, not a temp file we create
    worker_tmp_dir = "/dev/shm"  # noqa: S108


def child_exit(server, worker):
    """A worker process is gone: let the metrics drop its multiprocess files (webapp/metrics)."""
    try:
        from webapp.metrics import child_exit as metrics_child_exit
    except (ImportError, AttributeError):
        return
    metrics_child_exit(server, worker)
