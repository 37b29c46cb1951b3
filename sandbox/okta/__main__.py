"""`python -m sandbox.okta`: serve the Okta Management API emulator until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox.emulation.cli import emulator_parser, serve
from sandbox.emulation.faults import spec_text
from sandbox.okta.app import create_app
from sandbox.okta.config import OktaConfig
from sandbox.okta.emulator import Emulator
from sandbox.okta.ratelimit import RateLimit

PROG = "python -m sandbox.okta"


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, OktaConfig]:
    parser = emulator_parser(PROG, __doc__, port=8091)
    parser.add_argument("--token", action="append", default=[], help="an API token (SSWS); repeatable")
    parser.add_argument("--ldif", type=Path, help="an LDIF test directory, loaded at start and on reset")
    parser.add_argument("--save-interval", type=float, default=2.0)
    parser.add_argument("--page-cap", type=int, default=200, help="most users a page holds")
    parser.add_argument("--rate-limit", metavar="N/S", help="N requests per endpoint every S seconds")
    parser.add_argument(
        "--oauth-client",
        action="append",
        default=[],
        metavar="CLIENT_ID=PUBLIC_KEY_PEM_FILE",
        help="an OAuth 2.0 service app and the public key of its private-key JWTs; repeatable",
    )
    args = parser.parse_args(argv)
    faults = spec_text(args.faults)
    try:
        rate_limit = RateLimit.parse(args.rate_limit) if args.rate_limit else None
        clients = tuple(_oauth_client(spec) for spec in args.oauth_client)
        config = OktaConfig(
            tokens=tuple(args.token) or OktaConfig.tokens,
            page_cap=args.page_cap,
            rate_limit=rate_limit,
            faults=faults,
            seed=args.seed,
            ldif=args.ldif,
            state_file=args.state,
            save_interval=args.save_interval,
            oauth_clients=clients,
        )
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    return args, config


def _oauth_client(spec: str) -> tuple[str, str]:
    client_id, equals, path = spec.partition("=")
    if not equals:
        raise ValueError(f"--oauth-client must look like CLIENT_ID=PUBLIC_KEY_PEM_FILE, got {spec!r}")
    return client_id, Path(path).read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    return serve(
        args,
        PROG,
        lambda: Emulator(config),
        create_app,
        lambda emulator, base: (
            f"Okta emulator on {base} ({emulator.directory.user_count} users; control: {base}/__emulator/)"
        ),
        date_header=False,  # the emulator sends an exact Date (uvicorn's is a second stale)
    )


if __name__ == "__main__":
    sys.exit(main())
