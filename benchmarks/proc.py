"""What Linux's /proc tells about a running process: its children and its memory."""

from pathlib import Path


def children(pid: int) -> list[int]:
    """The process ids `pid` started (a gunicorn master's workers, a Celery worker's pool)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status in KiB, e.g. VmRSS (now) or VmHWM (its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)
