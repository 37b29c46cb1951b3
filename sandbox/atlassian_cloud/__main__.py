"""`python -m sandbox.atlassian_cloud`: serve the Atlassian Cloud provisioning emulator until interrupted."""

from __future__ import annotations

import argparse
import sys

from sandbox.atlassian_cloud.app import create_app
from sandbox.atlassian_cloud.config import PAGE_CAP, CloudConfig
from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.emulation.cli import emulator_parser, serve
from sandbox.emulation.faults import spec_text
from sandbox.emulation.ratelimit import RateLimit

PROG = "python -m sandbox.atlassian_cloud"


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, CloudConfig]:
    parser = emulator_parser(PROG, __doc__, port=8091)
    parser.add_argument("--directory-id", default="directory-1", help="the {directoryId} of the SCIM paths")
    parser.add_argument("--token", default="cloud-token", help="the directory's API key (Bearer)")
    parser.add_argument("--verified-domains", default="", help="a.com,b.org; default: every domain")
    parser.add_argument("--page-cap", type=int, default=PAGE_CAP, help="most resources a page holds")
    parser.add_argument("--rate-limit", metavar="R/S", help="token bucket: R requests every S seconds")
    parser.add_argument("--burst", type=int, help="bucket size; default R")
    parser.add_argument("--save-interval", type=float, default=2.0, help="seconds between state file writes")
    args = parser.parse_args(argv)
    faults = spec_text(args.faults)
    try:
        rate_limit = RateLimit.parse(args.rate_limit, args.burst) if args.rate_limit else None
        config = CloudConfig(
            directory_id=args.directory_id,
            token=args.token,
            verified_domains=tuple(args.verified_domains.split(",")),
            page_cap=args.page_cap,
            rate_limit=rate_limit,
            faults=faults,
            seed=args.seed,
            state_file=args.state,
            save_interval=args.save_interval,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return args, config


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    return serve(
        args,
        PROG,
        lambda: CloudEmulator(config),
        create_app,
        lambda _, base: (
            f"Atlassian Cloud emulator: SCIM at {base}{config.api_prefix} "
            f"(Bearer token from --token), control: {base}/__emulator/"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
