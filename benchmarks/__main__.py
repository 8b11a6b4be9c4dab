"""`make bench`: seed a large world into PostgreSQL, measure pages and the pipeline, write
docs/benchmarks.md. Not part of `make test`: timing goals live here, not in unit tests."""

import argparse
import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import django

REPO = Path(__file__).resolve().parent.parent
# Each is a module here with `run(report)`, run in this order.
PARTS = ("pages", "export", "refresh", "pipeline")
BENCH_LIMIT_MINUTES = 20
# (metric, label, unit, limit): the figures issue targets are stated in, shown first.
HEADLINES = [
    ("pages_worst_p95_ms", "slowest page, p95", "ms", "<= 50 ms"),
    ("pages_most_queries", "most SQL queries of a page", "", "<= 8"),
    ("history_admin_ratio_first_page", "history ÷ admin change list, first page", "x", "<= 0.25x"),
    ("history_admin_ratio_deep_page", "history ÷ admin change list, deep page", "x", "<= 0.25x"),
    ("export_whole_rows_per_s", "CSV export of the whole history over HTTP", "rows/s", ">= 50,000 rows/s"),
    ("export_ratio_to_copy", "CSV export ÷ bare COPY of the same rows", "x", "1x (the limit)"),
    (
        "refresh_requests_per_minute_1_running",
        "live refresh: requests/min, 1 running row",
        "/min",
        "30/min (one per 2 s)",
    ),
    (
        "refresh_requests_per_minute_50_running",
        "live refresh: requests/min, 50 running rows",
        "/min",
        "30/min (one per 2 s)",
    ),
    ("refresh_unchanged_p95_ms", "live refresh: an unchanged answer, p95", "ms", "< 5 ms"),
    ("pipeline_completed", "ten projects: backups completed", "", "1,000 of 1,000"),
    ("pipeline_429", "ten projects: 429 answers from the gateway", "", "0"),
    ("pipeline_calls_per_backup", "ten projects: cloud calls per backup", "", "<= 1.5"),
    (
        "pipeline_completion_delay_p95",
        "ten projects: completion visible after the cloud ended, p95",
        "s",
        "poll interval + 2 s",
    ),
    ("pipeline_slowest_project_ended_seconds", "ten projects: slowest project, all ended after", "s", "(fairness)"),
    ("pipeline_worker_cpu_ms_per_backup", "ten projects: worker CPU per backup", "ms", ""),
    ("bench_minutes", "`make bench`, whole run", "min", f"<= {BENCH_LIMIT_MINUTES} min"),
]


class Report:
    """Collects sections as Markdown and echoes them to the terminal."""

    def __init__(self, previous: dict[str, dict] | None = None):
        self.lines: list[str] = []
        self.metrics: dict[str, float] = {}
        self._previous = previous or {}

    def previous(self, name: str) -> float | None:
        """The figure `name` of the last run that measured it (docs/benchmarks.json), if any."""
        entry = self._previous.get(name)
        return entry["value"] if entry else None

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


SOAK_REPORT = REPO / "docs" / "soak.md"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("parts", nargs="*", help=f"some of {', '.join(PARTS)} (all by default)")
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    parts = args.parts or list(PARTS)
    # Checked here: argparse rejects an empty list against `choices` on Python 3.11.
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(REPO))
    started = time.monotonic()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Production serves hashed static files from a manifest, as measured here.
    call_command("collectstatic", interactive=False, verbosity=0)
    output = Path(args.output)
    previous = _previous_metrics(output)
    report = Report(previous)
    report.line("# Benchmarks")
    report.line()
    report.line(f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine()}.")
    report.line(f"Rerun with `make bench` (PostgreSQL and Redis on 127.0.0.1; limit {BENCH_LIMIT_MINUTES} minutes).")
    header = len(report.lines)
    for part in PARTS:
        if part in parts:
            importlib.import_module(f"benchmarks.{part}").run(report)
    report.metric("bench_minutes", (time.monotonic() - started) / 60)
    # The last `make soak` (30 minutes on its own, so not rerun here) keeps its place in this page.
    if SOAK_REPORT.exists():
        report.line()
        report.lines += SOAK_REPORT.read_text().splitlines()
    summary = _summary(report.metrics, previous, parts)
    report.lines[header:header] = summary
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(report.lines) + "\n")
    # The figures themselves, each with its date, for the next run's "previous" column; a
    # partial run keeps the other parts' last figures.
    run_at = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    kept = {**previous, **{name: {"value": value, "run_at": run_at} for name, value in report.metrics.items()}}
    metrics_path = output.with_suffix(".json")
    metrics_path.write_text(json.dumps(dict(sorted(kept.items())), indent=2) + "\n")
    print("\n".join(summary))
    print(f"\nWrote {output} and {metrics_path}")


def _previous_metrics(output: Path) -> dict[str, dict]:
    try:
        return json.loads(output.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}


def _figure(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    number = f"{value:,.0f}" if value >= 1000 or value == int(value) else f"{value:,.1f}"
    return f"{number} {unit}".strip() if unit != "/min" else f"{number}/min"


def _summary(metrics: dict[str, float], previous: dict[str, dict], parts: list[str]) -> list[str]:
    """The headline figures, each beside its limit and the previous run's figure."""
    rows = []
    for key, label, unit, limit in HEADLINES:
        if key not in metrics:
            continue
        was = f"{_figure(previous[key]['value'], unit)} ({previous[key]['run_at']})" if key in previous else "—"
        rows.append(f"| {label} | {limit} | {was} | {_figure(metrics[key], unit)} |")
    if not rows:
        return []
    lines = [
        "",
        "## Headline figures",
        "",
        "Each beside its limit and the previous run's figure (kept in `docs/benchmarks.json`). "
        "Details in the sections below.",
        "",
        "| figure | limit | previous run | this run |",
        "| --- | --- | --- | --- |",
        *rows,
    ]
    if set(parts) != set(PARTS):
        lines += ["", f"This run measured only: {', '.join(parts)}."]
    return lines


if __name__ == "__main__":
    main()
