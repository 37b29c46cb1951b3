"""`python -m sandbox.confluence`: serve the Confluence Data Center emulator until interrupted."""

from __future__ import annotations

import argparse
import sys

from sandbox.confluence.app import create_app
from sandbox.confluence.config import EmulatorConfig, ListCaps
from sandbox.confluence.emulator import Emulator
from sandbox.emulation.cli import emulator_parser, serve
from sandbox.emulation.faults import spec_text
from sandbox.emulation.ratelimit import RateLimit

PROG = "python -m sandbox.confluence"
DEFAULT_CAPS = ListCaps()


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, EmulatorConfig]:
    parser = emulator_parser(PROG, __doc__, port=8090)
    parser.add_argument("--save-interval", type=float, default=2.0, help="seconds between state file writes")
    parser.add_argument("--admin-user", default="admin")
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--token", action="append", default=[], help="a personal access token of the admin")
    parser.add_argument("--seats", type=int, help="licence seats (default unlimited)")
    parser.add_argument("--rate-limit", metavar="R/S", help="per-user token bucket: R tokens every S seconds")
    parser.add_argument("--burst", type=int, help="bucket size (X-RateLimit-Limit); default R")
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
    return serve(
        args,
        PROG,
        lambda: Emulator(config),
        create_app,
        lambda _, base: (
            f"Confluence emulator on {base}{config.context_path} "
            f"(admin: {config.admin_user}, control: {base}/__emulator/)"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
