"""`python -m sandbox.atlassian_cloud`: serve the Atlassian Cloud provisioning emulator until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from sandbox.atlassian_cloud.app import create_app
from sandbox.atlassian_cloud.config import PAGE_CAP, CloudConfig
from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.emulation.faults import spec_text
from sandbox.emulation.ratelimit import RateLimit
from sandbox.emulation.server import uvicorn_config


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, CloudConfig]:
    parser = argparse.ArgumentParser(prog="python -m sandbox.atlassian_cloud", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--directory-id", default="directory-1", help="the {directoryId} of the SCIM paths")
    parser.add_argument("--token", default="cloud-token", help="the directory's API key (Bearer)")
    parser.add_argument("--verified-domains", default="", help="a.com,b.org; default: every domain")
    parser.add_argument("--page-cap", type=int, default=PAGE_CAP, help="most resources a page holds")
    parser.add_argument("--rate-limit", metavar="R/S", help="token bucket: R requests every S seconds")
    parser.add_argument("--burst", type=int, help="bucket size; default R")
    parser.add_argument("--faults", metavar="SPEC", help="fault rules as JSON, or @FILE (see faults.py)")
    parser.add_argument("--seed", type=int, help="seed of the fault generator")
    parser.add_argument("--state", type=Path, help="JSON state file: loaded at start, written while running")
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
    try:
        emulator = CloudEmulator(config)
    except ValueError as exc:  # a bad state file or fault spec
        print(f"python -m sandbox.atlassian_cloud: {exc}", file=sys.stderr)
        return 2
    print(
        f"Atlassian Cloud emulator: SCIM at http://{args.host}:{args.port}{config.api_prefix} "
        f"(Bearer token from --token), control: http://{args.host}:{args.port}/__emulator/",
        flush=True,
    )
    uvicorn.Server(uvicorn_config(create_app(emulator), args.host, args.port)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
