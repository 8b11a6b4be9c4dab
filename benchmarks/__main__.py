"""`make bench`: seed a large world into PostgreSQL, measure pages and the pipeline, write
docs/benchmarks.md. Not part of `make test`: timing goals live here, not in unit tests."""

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import django

REPO = Path(__file__).resolve().parent.parent


class Report:
    """Collects sections as Markdown and echoes them to the terminal."""

    def __init__(self):
        self.lines: list[str] = []
        self.metrics: dict[str, float] = {}

    def section(self, title: str) -> None:
        self.line(f"\n## {title}\n")

    def line(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.line("| " + " | ".join(header) + " |")
        self.line("|" + "|".join(" --- " for _ in header) + "|")
        for row in rows:
            self.line("| " + " | ".join(row) + " |")
        self.line()

    def metric(self, name: str, value: float) -> None:
        self.metrics[name] = value


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
        memory = f", {kb / 1024 / 1024:.0f} GiB memory"
    except (OSError, StopIteration):
        pass
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        database = cursor.fetchone()[0].split(",")[0]
    return (
        f"{platform.machine()}, {cpus} cores{memory}; Python {platform.python_version()}, "
        f"Django {django.get_version()}; {database}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("parts", nargs="*", help="pages, pipeline, or both (the default)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    parts = args.parts or ["pages", "pipeline"]
    # Checked here: argparse rejects an empty list against `choices` on Python 3.11.
    if unknown := set(parts) - {"pages", "pipeline"}:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(REPO))
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Production serves hashed static files from a manifest, as measured here.
    call_command("collectstatic", interactive=False, verbosity=0)
    report = Report()
    report.line("# Benchmarks")
    report.line()
    report.line(f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}.")
    report.line("Rerun with `make bench` (PostgreSQL and Redis on 127.0.0.1; about 15 minutes).")
    if "pages" in parts:
        from . import pages

        pages.run(report)
    if "pipeline" in parts:
        from . import pipeline

        pipeline.run(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(report.lines) + "\n")
    print(f"\nWrote {args.output}")


if __name__ == "__main__":
    main()
