"""What the CLI prints: statuses, reasons, times, sizes, tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any


def status_text(backup: dict[str, Any]) -> str:
    progress = backup.get("progress")
    if backup["status"] == "running" and progress is not None:
        return f"running {progress}%"
    return backup["status"]


def failure_text(backup: dict[str, Any]) -> str:
    verb = "failed" if backup["status"] == "failed" else "was lost (status unknown)"
    reason = ": ".join(filter(None, [backup.get("error_code"), backup.get("error_message")])) or "no reason given"
    lines = [f"Backup {backup['id']} {verb}: {reason}"]
    explanation = backup.get("explanation") or {}
    lines += [explanation[key] for key in ("summary", "next_step") if explanation.get(key)]
    return "\n".join(lines)


def local_time(value: str | None) -> str:
    if not value:
        return "-"
    try:
        return f"{datetime.fromisoformat(value).astimezone():%Y-%m-%d %H:%M:%S}"
    except ValueError:
        return value


def human_size(kb: int) -> str:
    size, unit = float(kb), "KB"
    for bigger in ("MB", "GB", "TB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.0f} {unit}" if unit == "KB" else f"{size:.1f} {unit}"


def print_table(
    head: list[str], rows: list[list[str]], *, right: Sequence[int] = (), header: bool = True, indent: str = ""
) -> None:
    shown = [head, *rows] if header else rows
    if not shown:
        return
    widths = [max(len(row[i]) for row in shown) for i in range(len(head))]
    for row in shown:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print(indent + "  ".join(cells).rstrip())


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))
