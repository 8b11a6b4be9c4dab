"""Command line: ``python -m simulator --host 127.0.0.1 --port 8600 [options]``."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys

from .config import Config
from .demo import ACCOUNT, WORLDS
from .server import make_server, serve_until_signalled
from .world import World

log = logging.getLogger("simulator")


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Config]:
    """Read the command line into the options and the starting Config (bad values exit 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulated Open Telekom Cloud IAM + GeminiDB (Cassandra) API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600, help="0 picks a free port")
    parser.add_argument("--world", choices=sorted(WORLDS), default="demo")
    parser.add_argument("--seed", type=int, help="random seed (default: a random one, logged)")
    parser.add_argument("--job-seconds", type=float, default=60.0, help="how long a manual backup runs")
    parser.add_argument("--failure-rate", type=float, default=0.1, help="share of manual backups that fail")
    parser.add_argument("--token-ttl", type=int, default=86400, help="token lifetime in seconds")
    parser.add_argument("--rate-limit", type=int, default=0, help="GeminiDB calls per minute per user; 0 = off")
    parser.add_argument("--no-backup-jobs", action="store_true", help="the jobs API does not show BackupInstance jobs")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of calls answered 500")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="share of calls answered 429")
    parser.add_argument("--drop-connection-rate", type=float, default=0.0, help="share of GET calls dropped unanswered")
    parser.add_argument(
        "--drop-connection-after-create",
        type=int,
        default=0,
        help="the next N successful creates are dropped unanswered",
    )
    parser.add_argument("--jobs-never-finish", action="store_true", help="jobs stay Running")
    parser.add_argument(
        "--no-automated-backups", action="store_true", help="instances' backup policies start no backups"
    )
    parser.add_argument(
        "--no-auto-backup-jobs", action="store_true", help="the jobs API does not show automated backups' jobs"
    )
    parser.add_argument(
        "--restore-seconds-per-gb", type=float, default=0.5, help="a restore takes job-seconds plus this per GB"
    )
    parser.add_argument("--delete-seconds", type=float, default=10.0, help="how long deleting an instance takes")
    parser.add_argument("--restore-failure-rate", type=float, default=0.0, help="share of restores that fail")
    parser.add_argument("--busy-error-code", default="DBS.201015", help="DBS.201015 or DBS.200019 for a busy instance")
    args = parser.parse_args(argv)
    try:
        config = Config().changed(
            {
                "job_seconds": args.job_seconds,
                "failure_rate": args.failure_rate,
                "token_ttl": args.token_ttl,
                "rate_limit_per_minute": args.rate_limit,
                "backup_jobs_listed": not args.no_backup_jobs,
                "latency_ms": args.latency_ms,
                "error_rate": args.error_rate,
                "throttle_rate": args.throttle_rate,
                "drop_connection_rate": args.drop_connection_rate,
                "drop_connection_after_create": args.drop_connection_after_create,
                "jobs_never_finish": args.jobs_never_finish,
                "busy_error_code": args.busy_error_code,
                "automated_backups": not args.no_automated_backups,
                "auto_backup_jobs_listed": not args.no_auto_backup_jobs,
                "restore_seconds_per_gb": args.restore_seconds_per_gb,
                "delete_seconds": args.delete_seconds,
                "restore_failure_rate": args.restore_failure_rate,
            }
        )
    except ValueError as error:
        parser.error(str(error))
    return args, config


def main(argv: list[str] | None = None) -> None:
    """Start the simulator, print where it listens, serve until SIGTERM/SIGINT."""
    args, config = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    world = World(account=ACCOUNT, initial_config=config, seed=seed, populate=WORLDS[args.world])
    server = make_server(args.host, args.port, world)
    host, port = server.server_address[:2]

    def announce() -> None:
        print(f"GeminiDB simulator listening on http://{host}:{port}", flush=True)
        log.info("world=%s seed=%d settings=%s", args.world, seed, config.as_dict())

    serve_until_signalled(server, announce)


if __name__ == "__main__":
    main()
