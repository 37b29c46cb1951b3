"""`python -m sandbox.confluence`: serve the Confluence Data Center emulator until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from sandbox.confluence.app import create_app
from sandbox.confluence.config import EmulatorConfig, ListCaps
from sandbox.confluence.emulator import Emulator
from sandbox.emulation.faults import spec_text
from sandbox.emulation.ratelimit import RateLimit
from sandbox.emulation.server import uvicorn_config

DEFAULT_CAPS = ListCaps()


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, EmulatorConfig]:
    parser = argparse.ArgumentParser(prog="python -m sandbox.confluence", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--state", type=Path, help="JSON state file: loaded at start, written while running")
    parser.add_argument("--save-interval", type=float, default=2.0, help="seconds between state file writes")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--token", action="append", default=[], help="a personal access token of the admin")
    parser.add_argument("--seats", type=int, help="licence seats (default unlimited)")
    parser.add_argument("--rate-limit", metavar="R/S", help="per-user token bucket: R tokens every S seconds")
    parser.add_argument("--burst", type=int, help="bucket size (X-RateLimit-Limit); default R")
    parser.add_argument("--faults", metavar="SPEC", help="fault rules as JSON, or @FILE (see faults.py)")
    parser.add_argument("--seed", type=int, help="seed of the fault generator")
    parser.add_argument("--hide-emails", action="store_true", help="users come without `email`")
    parser.add_argument("--context-path", default="", help="e.g. /confluence")
    parser.add_argument(
        "--buggy-paging", action="store_true", help="simulate CONFSERVER-95396 above 200 items"
    )
    parser.add_argument("--user-list-cap", type=int, default=DEFAULT_CAPS.users)
    parser.add_argument("--group-list-cap", type=int, default=DEFAULT_CAPS.groups)
    parser.add_argument("--member-list-cap", type=int, default=DEFAULT_CAPS.members)
    parser.add_argument("--delete-delay-ms", type=float, default=100.0, help="run time of a user-delete task")
    args = parser.parse_args(argv)
    faults = spec_text(args.faults)
    try:
        rate_limit = RateLimit.parse(args.rate_limit, args.burst) if args.rate_limit else None
    except ValueError as exc:
        parser.error(str(exc))
    config = EmulatorConfig(
        admin_user=args.admin_user,
        admin_password=args.admin_password,
        seats=args.seats,
        rate_limit=rate_limit,
        faults=faults,
        seed=args.seed,
        show_emails=not args.hide_emails,
        tokens=tuple(args.token),
        context_path=args.context_path,
        caps=ListCaps(args.user_list_cap, args.group_list_cap, args.member_list_cap),
        buggy_paging=args.buggy_paging,
        delete_delay_ms=args.delete_delay_ms,
        state_file=args.state,
        save_interval=args.save_interval,
    )
    return args, config


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    try:
        emulator = Emulator(config)
    except ValueError as exc:  # a bad state file or fault spec
        print(f"python -m sandbox.confluence: {exc}", file=sys.stderr)
        return 2
    print(
        f"Confluence emulator on http://{args.host}:{args.port}{config.context_path} "
        f"(admin: {config.admin_user}, control: http://{args.host}:{args.port}/__emulator/)",
        flush=True,
    )
    uvicorn.Server(uvicorn_config(create_app(emulator), args.host, args.port)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
