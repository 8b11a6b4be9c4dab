"""`make soak`: the console as production runs it, for SOAK_MINUTES (30; 3 for a smoke run),
under a steady stream of backup requests with the cloud misbehaving; then whether anything
was lost or made twice, and whether memory, connections, outboxes, tables or Redis grow.

gunicorn (gunicorn.conf.py, DEBUG off) serves the pages and the API; two Celery workers and a
beat run with the settings' production pacing; the simulator is the cloud, each project its
own IAM user at the gateway's 60 calls/min, answering a share of calls with 500 or 429,
dropping connections, now and then dropping the answer to a create, slowing down for a
minute (slow answers, long jobs) and expiring every token. Operators use the pages (session,
CSRF, form POST), pipelines the API (bearer token, Idempotency-Key); webhook channels send to
a receiver here that fails some deliveries, and the operators get an email per outcome.

Not part of `make test`. Run on an empty database (`make soak` recreates it) and flushed
Redis numbers; writes a Markdown section and the figures as JSON beside it.
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import django

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = REPO / "var" / "soak"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 30))
    parser.add_argument("--backups-per-minute", type=float, default=30, help="all users together")
    parser.add_argument("--sample-seconds", type=float, help="default: 60, or 30 for a run under 10 minutes")
    parser.add_argument("--drain-seconds", type=float, default=300, help="longest wait for the last backups to end")
    parser.add_argument("--output", default=str(REPO / "docs" / "soak.md"))
    args = parser.parse_args()
    args.sample_seconds = args.sample_seconds or (60 if args.minutes >= 10 else 30)

    shutil.rmtree(RUN_DIR, ignore_errors=True)
    (RUN_DIR / "metrics").mkdir(parents=True)
    # As production runs them: metrics shared through a folder, email sent (here: to files).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(RUN_DIR / "metrics"))
    os.environ.setdefault("EMAIL_URL", "filemail:///var/soak/mail")  # under the checkout (settings.py)
    os.environ.setdefault("STATIC_ROOT", str(RUN_DIR / "static"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(REPO))
    django.setup()
    from django.core.management import call_command

    from backups.models import Backup

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if Backup.objects.exists():
        sys.exit("The soak run wants an empty database: `make soak` recreates it.")
    from .soak_run import soak

    results = soak(args, RUN_DIR)
    _write(args, results)


def _write(args, results: dict) -> None:
    from .soak_report import report_lines

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    lines = report_lines(results)
    output.write_text("\n".join(lines) + "\n")
    figures = output.with_suffix(".json")
    figures.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n".join(lines))
    print(f"\nWrote {output} and {figures}")


if __name__ == "__main__":
    main()
