"""The `gdbc` command: argparse commands, resolving the names the user typed, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gdbc import __version__
from gdbc.client import PAGE_LIMIT, ApiError, Client, Misdirected, Unreachable
from gdbc.output import failure_text, human_size, local_time, print_json, print_table, status_text

OK = 0
BACKUP_FAILED = 1
USAGE = 2
TIMED_OUT = 3
REFUSED = 4
UNREACHABLE = 5

EXIT_CODES = """\
exit codes:
  0  done; with --wait, the backup completed
  1  the backup failed, or the console lost track of it (status unknown)
  2  usage or configuration error (missing URL or token, no such project or instance)
  3  --wait reached --timeout; the backup goes on in the console
  4  the API refused the request (bad token, no permission, invalid name, ...)
  5  the console could not be reached, or answered 5xx, after the retries

environment:
  GDBC_URL    the console's base URL, e.g. https://backups.example.com (--url overrides it)
  GDBC_TOKEN  a personal access token from the console's API tokens page (--token overrides it)
"""

TERMINAL = {"completed", "failed", "unknown"}
POLL_SECONDS = 2.0


class Failure(Exception):
    """Stop with this message on stderr and this exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.run is None:  # `gdbc` or `gdbc backup` alone
        args.help_parser.print_help(sys.stderr)
        return USAGE
    try:
        client = make_client(args)
        return args.run(client, args)
    except Failure as failure:
        print(f"gdbc: {failure}", file=sys.stderr)
        return failure.exit_code
    except Misdirected as error:
        print(f"gdbc: {error}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:
        # The reader (`| head`) stopped reading: not an error of ours. Python's recipe: point
        # stdout at devnull so that flushing it at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except ApiError as error:
        print(f"gdbc: {error.message} ({error.status} {error.code})", file=sys.stderr)
        for name, problems in error.fields.items():
            for problem in problems:
                print(f"  {name}: {problem.get('message', problem)}", file=sys.stderr)
        return REFUSED
    except Unreachable as error:
        print(f"gdbc: {error}", file=sys.stderr)
        return UNREACHABLE
    except KeyboardInterrupt:
        print("gdbc: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gdbc",
        description="Back up GeminiDB Cassandra instances through the GeminiDB Backup Console.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gdbc {__version__}")
    add_connection_options(parser, default=None)
    parser.set_defaults(run=None, help_parser=parser)
    # The same options after the command too (`gdbc backup list --url ...`), without resetting
    # what was given before it.
    connection = argparse.ArgumentParser(add_help=False)
    add_connection_options(connection, default=argparse.SUPPRESS)

    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    backup = commands.add_parser("backup", help="create, list and show backups", epilog=EXIT_CODES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    backup_commands = backup.add_subparsers(title="commands", metavar="COMMAND")
    backup.set_defaults(help_parser=backup)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = backup_commands.add_parser(
            name, help=help, description=help[0].upper() + help[1:] + ".", parents=[connection],
            epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.add_argument("--json", action="store_true", help="print the API's JSON instead of text")
        return sub

    create = command("create", "request a backup of an instance")
    create.add_argument("--project", required=True, help="console project id, project name or cloud project_id")
    create.add_argument("--instance", required=True, help="instance name, cloud instance id or console id")
    create.add_argument("--name", required=True, help="the backup's name")
    create.add_argument("--description", help="the backup's description")
    create.add_argument("--wait", action="store_true", help="follow the backup until it completes or fails")
    create.add_argument("--timeout", type=positive_seconds, default=3600.0, metavar="S",
                        help="with --wait: give up waiting after S seconds (default 3600)")  # fmt: skip
    create.set_defaults(run=backup_create)

    listing = command("list", "list the newest backups")
    listing.add_argument("--project", help="console project id, project name or cloud project_id")
    listing.add_argument("--instance", help="instance name, cloud instance id or console id")
    listing.add_argument("--status", choices=["queued", "submitting", "running", "completed", "failed", "unknown"])
    listing.add_argument("--limit", type=positive_int, default=20, metavar="N", help="at most N rows (default 20)")
    listing.set_defaults(run=backup_list)

    show = command("show", "show a backup and its timeline")
    show.add_argument("id", type=positive_int, metavar="ID", help="the backup's console id")
    show.set_defaults(run=backup_show)
    return parser


def add_connection_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--url", default=default, help="the console's base URL (default: $GDBC_URL)")
    parser.add_argument("--token", default=default, help="a personal access token (default: $GDBC_TOKEN)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def make_client(args: argparse.Namespace) -> Client:
    url = args.url or os.environ.get("GDBC_URL", "").strip()
    token = args.token or os.environ.get("GDBC_TOKEN", "").strip()
    if not url:
        raise Failure("no console URL: set GDBC_URL or pass --url (e.g. https://backups.example.com)", USAGE)
    if not url.startswith(("http://", "https://")):
        raise Failure(f"the console URL must start with http:// or https://, not {url!r}", USAGE)
    if not token:
        raise Failure("no API token: set GDBC_TOKEN or pass --token (make one on the console's API tokens page)", USAGE)
    return Client(url, token, on_retry=lambda message: print(f"gdbc: {message}", file=sys.stderr))


def backup_create(client: Client, args: argparse.Namespace) -> int:
    project = resolve_project(client, args.project)
    instance = resolve_instance(client, args.instance, project=project)
    # One key per invocation: every retry of the POST below sends the same one.
    key = str(uuid.uuid4())
    backup = client.backup_create(
        instance=instance["id"], name=args.name, description=args.description, idempotency_key=key
    )
    if args.json and not args.wait:
        print_json(backup)
    elif not args.json:
        print(f"Backup {backup['id']} ({backup['name']}) of {instance['name']} requested: {backup['status']}")
        print(client.url_for(backup["url"]), flush=True)
    return wait_for_end(client, backup, timeout=args.timeout, quiet=args.json) if args.wait else OK


def wait_for_end(client: Client, backup: dict[str, Any], *, timeout: float, quiet: bool) -> int:
    """Poll the backup until it ends or `timeout` seconds pass; print each change."""
    deadline = time.monotonic() + timeout
    seen = (backup["status"], backup.get("progress"))
    while backup["status"] not in TERMINAL:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            url = client.url_for(backup["url"])
            raise Failure(
                f"backup {backup['id']} still {backup['status']} after {timeout:g} s; it goes on in the console: {url}",
                TIMED_OUT,
            )
        try:
            time.sleep(min(POLL_SECONDS, remaining))
            backup = client.backup(backup["id"])
        except KeyboardInterrupt:
            url = client.url_for(backup["url"])
            raise Failure(f"stopped waiting; backup {backup['id']} goes on in the console: {url}", 130) from None
        now = (backup["status"], backup.get("progress"))
        if now != seen and not quiet:
            print(f"{datetime.now():%H:%M:%S}  {status_text(backup)}", flush=True)
        seen = now
    if quiet:
        print_json(backup)
    if backup["status"] == "completed":
        if not quiet:
            size = f", {human_size(backup['size_kb'])}" if backup.get("size_kb") else ""
            print(f"Backup {backup['id']} ({backup['name']}) completed{size}.")
        return OK
    print(failure_text(backup), file=sys.stderr)
    return BACKUP_FAILED


def backup_list(client: Client, args: argparse.Namespace) -> int:
    project = resolve_project(client, args.project) if args.project else None
    instance = resolve_instance(client, args.instance, project=project) if args.instance else None
    filters = {
        "project": project["id"] if project else None,
        "instance": instance["id"] if instance else None,
        "status": args.status,
    }
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < args.limit:
        # Never more than still wanted, so next_cursor (in --json) resumes right after the last row.
        page = client.backups(cursor=cursor, limit=min(args.limit - len(rows), PAGE_LIMIT), **filters)
        rows.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    rows = rows[: args.limit]
    if args.json:
        print_json({"items": rows, "next_cursor": cursor})
        return OK
    if not rows:
        print("No backups match." if any(filters[k] for k in ("project", "instance", "status")) else "No backups yet.")
        return OK
    print_table(
        ["ID", "PROJECT", "INSTANCE", "NAME", "STATUS", "REQUESTED BY", "REQUESTED AT"],
        [
            [
                str(row["id"]),
                row["project"]["name"],
                row["instance"]["name"],
                row["name"],
                status_text(row),
                row.get("requested_by") or "-",
                local_time(row.get("requested_at")),
            ]
            for row in rows
        ],
        right=[0],
    )
    return OK


def backup_show(client: Client, args: argparse.Namespace) -> int:
    backup = client.backup(args.id)
    if args.json:
        print_json(backup)
        return OK
    instance = backup["instance"]
    fields = [
        ("Backup", f"{backup['id']} ({backup['name']})"),
        ("Status", status_text(backup) + ("  (overdue)" if backup.get("overdue") else "")),
        ("Project", backup["project"]["name"]),
        ("Instance", f"{instance['name']} ({instance['cloud_id']})"),
        ("Description", backup.get("description") or "-"),
        ("Origin", backup.get("origin") or "-"),
        ("Requested by", backup.get("requested_by") or "-"),
        ("Requested at", local_time(backup.get("requested_at"))),
        ("Started at", local_time(backup.get("started_at"))),
        ("Finished at", local_time(backup.get("finished_at"))),
        ("Size", human_size(backup["size_kb"]) if backup.get("size_kb") else "-"),
        ("Cloud job id", backup.get("job_id") or "-"),
        ("Cloud backup id", backup.get("backup_id") or "-"),
    ]
    if backup.get("error_code") or backup.get("error_message"):
        fields.append(("Error", ": ".join(filter(None, [backup.get("error_code"), backup.get("error_message")]))))
    explanation = backup.get("explanation") or {}
    if explanation.get("summary"):
        fields.append(("Why", explanation["summary"]))
    if explanation.get("next_step"):
        fields.append(("Next step", explanation["next_step"]))
    fields.append(("Console", client.url_for(backup["url"])))
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label + ':':<{width + 1}}  {value}")
    events = backup.get("events") or []
    print()
    print("Timeline:" if events else "Timeline: no events yet.")
    print_table(
        ["AT", "EVENT", "MESSAGE"],
        [[local_time(event["at"]), event["kind"], event.get("message") or ""] for event in events],
        header=False,
        indent="  ",
    )
    return OK


def resolve_project(client: Client, wanted: str) -> dict[str, Any]:
    """The project whose console id, name or cloud project_id is `wanted`."""
    projects = client.projects()
    for key in ("id", "name", "project_id"):
        matches = [p for p in projects if str(p[key]) == wanted]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise Failure(f"several projects match {wanted!r}: {describe_projects(matches)}; use the id", USAGE)
    if not projects:
        raise Failure("the token can see no project: is it scoped to the right ones?", USAGE)
    raise Failure(f"no project {wanted!r}; the token can see: {describe_projects(projects)}", USAGE)


def resolve_instance(client: Client, wanted: str, *, project: dict[str, Any] | None) -> dict[str, Any]:
    """The live instance whose name, cloud id or console id is `wanted`, in `project` if given."""
    project_id = project["id"] if project else None
    candidates = [i for i in client.instances(project=project_id, q=wanted) if not i.get("gone_at")]
    matches = [i for i in candidates if wanted in (i["name"], i["cloud_id"])]
    if not matches and wanted.isdigit():
        # The search is on names and cloud ids; a console id needs the whole list.
        matches = [i for i in client.instances(project=project_id) if str(i["id"]) == wanted and not i.get("gone_at")]
    where = f" in project {project['name']}" if project else ""
    if not matches:
        raise Failure(f"no instance {wanted!r}{where} (name, cloud instance id or console id)", USAGE)
    if len(matches) > 1:
        listed = "; ".join(f"{i['id']} {i['name']} ({i['cloud_id']}, {i['project']['name']})" for i in matches)
        raise Failure(f"several instances match {wanted!r}{where}: {listed}; use the cloud id", USAGE)
    return matches[0]


def describe_projects(projects: list[dict[str, Any]]) -> str:
    return ", ".join(f"{p['id']} {p['name']} ({p['project_id']})" for p in projects)
