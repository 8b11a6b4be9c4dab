"""The soak run's Markdown section: outcomes, the injected faults, and every series with its
verdict."""

from .soak_probe import GAUGES, TABLES, gauge_verdict, table_verdict

# At most this many samples are shown in a row; a longer run shows start, quarters, end of load, after drain.
SHOWN_SAMPLES = 9


def report_lines(results: dict) -> list[str]:
    s, o = results["settings"], results["outcome"]
    lines = [
        "## Soak run",
        "",
        f"Run on {results['run_at']}: `make soak` with SOAK_MINUTES={s['minutes']:g}. gunicorn (gunicorn.conf.py, "
        f"DEBUG off, {s['web_concurrency']} worker processes), {s['worker_processes']} Celery workers "
        f"(`--concurrency {s['worker_concurrency']}`) and a beat with the settings' production pacing, on PostgreSQL "
        f"(database console_soak, empty at start) and Redis (broker and cache numbers flushed at start). "
        f"{s['web_users']} operators in the pages (signed in, form POST with CSRF) and {s['api_users']} pipelines on "
        f"the API (bearer token, Idempotency-Key) ask for {s['backups_per_minute']:g} backups a minute together, of "
        f"{s['instances']} instances in {s['projects']} projects (each its own IAM user; the gateway allows "
        f"{s['gateway_limit_per_minute']} calls/min, the console budgets {s['cloud_calls_per_minute']}). "
        f"Each outcome goes to a webhook channel per project (its receiver fails "
        f"{s['receiver_failure_rate']:.0%} of deliveries) and by email to the operator who asked.",
        "",
        f"The cloud (simulator) throughout: {_faults(s['faults'])}. Each minute it also drops the answer to one "
        f"create; every third minute is slow (answers +{s['slow_minute']['latency_ms']} ms, jobs "
        f"{s['slow_minute']['job_seconds']} s) and the minute after it expires every token. Its clock is not sped "
        f"up: jobs last {s['faults']['job_seconds']:g} s of real time, so the backups' lives fit the run as they are.",
        "",
        "### Backups",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| requested (web / API) | {o['requested']} ({o['requested_web']} / {o['requested_api']}) |",
        f"| … of which the request got no answer but the backup was made | {o['unanswered_but_made']} |",
        f"| refused by the console (shown to the user) | {o['refused']} |",
        f"| request failed without a backup (shown to the user) | {o['errors_not_made']} |",
        f"| completed | {o['completed']} |",
        f"| failed (the cloud's job failed) | {o['failed']} |",
        f"| **lost** (not in the database, still active after the drain, or lost track) | {_lost(o)} |",
        f"| **duplicated** (more than one cloud backup with one name) | {o['duplicated']} |",
        f"| ended otherwise than the cloud says / in the cloud, not in the console | "
        f"{o['disagree_with_cloud']} / {o['in_cloud_not_in_console']} |",
        f"| time from request to its end, p50 / p95 / max | {_seconds(o['seconds_to_end_p50'])} / "
        f"**{_seconds(o['seconds_to_end_p95'])}** / {_seconds(o['seconds_to_end_max'])} |",
        "",
    ]
    lines += _refusals(results)
    lines += _faults_seen(results)
    lines += _series(results)
    return lines


def _lost(o: dict) -> str:
    return f"{o['lost']} ({o['missing']} missing, {o['stuck']} still active, {o['unknown']} lost track)"


def _faults(faults: dict) -> str:
    return (
        f"{faults['error_rate']:.0%} of calls answered 500, {faults['throttle_rate']:.0%} answered 429, "
        f"{faults['drop_connection_rate']:.0%} of reads dropped without an answer, {faults['failure_rate']:.0%} of "
        f"backup jobs fail, answers +{faults['latency_ms']} ms"
    )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _refusals(results: dict) -> list[str]:
    lines = []
    for title, counts in (("Refused", results["refusals"]), ("Failed requests", results["errors"])):
        if counts:
            lines.append(f"{title}: " + "; ".join(f"{n}x {why or 'no answer'}" for why, n in counts.items()) + ".")
    if results["skipped_no_free_instance"]:
        lines.append(
            f"Turns skipped because every instance had a backup active: {results['skipped_no_free_instance']}."
        )
    return [*lines, ""] if lines else []


def _faults_seen(results: dict) -> list[str]:
    answers = results["faults"]["answers"]
    webhook = results["webhook"]
    web = {}
    for by_status in results["answers"].values():
        for status, n in by_status.items():
            web[status] = web.get(status, 0) + n
    return [
        "### What the console met",
        "",
        "| | |",
        "| --- | --- |",
        "| cloud answers by status | " + ", ".join(f"{status}: {n}" for status, n in answers.items()) + " |",
        "| fault minutes | " + _fault_cycle(results["faults"]["schedule"]) + " |",
        "| console answers to the users, by status | "
        + ", ".join(f"{status}: {n}" for status, n in sorted(web.items()))
        + f" (API replays of an Idempotency-Key: {results['api_replayed']}) |",
        f"| webhook deliveries received / received twice | {webhook['delivered']} / {webhook['delivered_twice']} "
        f"(receiver answers: {', '.join(f'{k}: {v}' for k, v in sorted(webhook['answered'].items()))}) |",
        f"| gunicorn workers recycled (`max_requests`) | {results['gunicorn_workers_recycled']} |",
        "",
    ]


def _fault_cycle(schedule: list[str], cycle: int = 3) -> str:
    """The first fault cycle, and how many minutes of faults in all: the cycle repeats."""
    if not schedule:
        return "—"
    shown = "; ".join(schedule[:cycle])
    return shown if len(schedule) <= cycle else f"{shown}; then the same every {cycle} minutes ({len(schedule)} in all)"


def _series(results: dict) -> list[str]:
    samples = results["samples"]
    shown = _shown(samples)
    load = [row for row in samples if row["phase"] in ("load", "end of load")]
    judged, mid, how = _window(load, results["settings"]["fault_cycle_seconds"])
    after_drain = samples[-1]
    header = ["series", *(_label(row) for row in shown), "verdict"]
    rule = "|" + "|".join(" --- " for _ in header) + "|"
    lines = [
        "### Series (sampled every " + f"{results['settings']['sample_seconds']:g} s)",
        "",
        f"{how} Gauges level off when the high-water mark of the second half is within 2 % (or a small floor) of "
        "the first half's. History tables grow with the work by design; they are judged on rows added per backup "
        "requested in each half. Every sample is in the JSON beside this file.",
        "",
        "| " + " | ".join(header) + " |",
        rule,
    ]
    growing = []
    for key, label, unit, floor in GAUGES:
        verdict = gauge_verdict([row[key] for row in judged], floor, mid)
        growing += [label] if "grows" in verdict else []
        cells = " | ".join(_cell(row[key]) for row in shown)
        lines.append(f"| {label}{f' ({unit})' if unit else ''} | {cells} | {verdict} |")
    lines.append(f"| backups requested so far | {' | '.join(str(row['requested']) for row in shown)} | |")
    for key, label, _ in TABLES:
        if judged is load:
            verdict = "too short to judge"
        else:
            verdict = table_verdict([row[key] for row in judged], [row["requested"] for row in judged], mid)
        per_backup = (after_drain[key] - samples[0][key]) / max(after_drain["requested"], 1)
        cells = " | ".join(_cell(row[key]) for row in shown)
        lines.append(f"| {label} rows | {cells} | {verdict}; {per_backup:.1f} added per backup by the end |")
    lines += ["", "Growing: " + ("; ".join(growing) if growing else "none of the gauges.")]
    return lines


def _window(load: list[dict], cycle: int) -> tuple[list[dict], int, str]:
    """The samples judged and where their second half starts: from the end of the first fault
    cycle (warm-up: memory settles, backups start before any ends), halves of whole cycles, so
    the slow minutes weigh the same in both."""
    cycles = int((load[-1]["elapsed_s"] + 5 - cycle) // cycle) if load else 0
    if cycles < 2:
        how = (
            f"The run is shorter than three fault cycles ({cycle // 60} min each): every sample under load is "
            "judged, halves split in the middle; the gauges' verdicts are indicative only."
        )
        return load, len(load) // 2, how
    judged = [row for row in load if row["elapsed_s"] >= cycle - 5]
    split = cycle * (1 + cycles // 2)
    mid = next(i for i, row in enumerate(judged) if row["elapsed_s"] >= split - 5)
    how = (
        f"Judged from {_clock(cycle)} (the first fault cycle warms up) to the end of the load, in halves split at "
        f"{_clock(split)}: whole {cycle // 60}-minute fault cycles, so the slow minutes weigh alike in both."
    )
    return judged, mid, how


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _shown(samples: list[dict]) -> list[dict]:
    if len(samples) <= SHOWN_SAMPLES:
        return samples
    load = [row for row in samples if row["phase"] == "load"]
    quarters = [load[int(len(load) * q)] for q in (0.25, 0.5, 0.75)]
    return [samples[0], *quarters, *(row for row in samples if row["phase"] in ("end of load", "after drain"))]


def _label(row: dict) -> str:
    when = _clock(row["elapsed_s"])
    return {"start": "start", "end of load": f"{when} end of load", "after drain": f"{when} after drain"}.get(
        row["phase"], when
    )


def _cell(value) -> str:
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
