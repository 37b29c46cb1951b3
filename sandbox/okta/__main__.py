"""`python -m sandbox.okta`: serve the Okta Management API emulator until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from sandbox.emulation.faults import spec_text
from sandbox.emulation.server import uvicorn_config
from sandbox.okta.app import create_app
from sandbox.okta.config import OktaConfig
from sandbox.okta.emulator import Emulator
from sandbox.okta.ratelimit import RateLimit


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, OktaConfig]:
    parser = argparse.ArgumentParser(prog="python -m sandbox.okta", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--token", action="append", default=[], help="an API token (SSWS); repeatable")
    parser.add_argument("--ldif", type=Path, help="an LDIF test directory, loaded at start and on reset")
    parser.add_argument("--state", type=Path, help="JSON state file: loaded at start, written while running")
    parser.add_argument("--save-interval", type=float, default=2.0)
    parser.add_argument("--page-cap", type=int, default=200, help="most users a page holds")
    parser.add_argument("--rate-limit", metavar="N/S", help="N requests per endpoint every S seconds")
    parser.add_argument(
        "--faults", metavar="SPEC", help="fault rules as JSON, or @FILE (sandbox/emulation/faults.py)"
    )
    parser.add_argument("--seed", type=int, help="seed of the fault generator")
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
    try:
        emulator = Emulator(config)
    except (OSError, ValueError) as exc:  # a bad LDIF, state file or fault spec
        print(f"python -m sandbox.okta: {exc}", file=sys.stderr)
        return 2
    print(
        f"Okta emulator on http://{args.host}:{args.port} ({emulator.directory.user_count} users; "
        f"control: http://{args.host}:{args.port}/__emulator/)",
        flush=True,
    )
    server_config = uvicorn_config(create_app(emulator), args.host, args.port)
    server_config.date_header = False  # the emulator sends an exact Date (uvicorn's is a second stale)
    uvicorn.Server(server_config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
