"""`python -m sandbox.entra`: serve the Entra ID (Microsoft Graph) emulator until interrupted."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox.emulation.cli import emulator_parser, serve
from sandbox.emulation.faults import spec_text
from sandbox.emulation.ratelimit import RateLimit
from sandbox.entra.app import create_app
from sandbox.entra.config import EntraConfig
from sandbox.entra.emulator import EntraEmulator
from sandbox.entra.graph import MAX_TOP

PROG = "python -m sandbox.entra"
DEFAULTS = EntraConfig()


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, EntraConfig]:
    parser = emulator_parser(PROG, __doc__, port=8091)
    parser.add_argument("--tenant", default=DEFAULTS.tenant, help="the tenant id")
    parser.add_argument("--client-id", default=DEFAULTS.client_id)
    parser.add_argument("--client-secret", default=DEFAULTS.client_secret)
    parser.add_argument(
        "--ldif", type=Path, help="LDIF directory to serve (e.g. sandbox/directories/example.ldif)"
    )
    parser.add_argument(
        "--page-cap", type=int, default=MAX_TOP, help=f"most objects a page holds (<= {MAX_TOP})"
    )
    parser.add_argument("--throttle", metavar="N/S", help="per-app token bucket: N requests every S seconds")
    parser.add_argument("--burst", type=int, help="bucket size; default N")
    parser.add_argument("--token-lifetime", type=int, default=DEFAULTS.token_lifetime, help="seconds")
    args = parser.parse_args(argv)
    faults = spec_text(args.faults)
    try:
        throttle = RateLimit.parse(args.throttle, args.burst) if args.throttle else None
        config = EntraConfig(
            tenant=args.tenant,
            client_id=args.client_id,
            client_secret=args.client_secret,
            ldif=args.ldif,
            state_file=args.state,
            page_cap=args.page_cap,
            throttle=throttle,
            faults=faults,
            seed=args.seed,
            token_lifetime=args.token_lifetime,
        )
    except ValueError as exc:
        parser.error(str(exc))
    return args, config


def main(argv: list[str] | None = None) -> int:
    args, config = parse_args(argv)
    return serve(
        args,
        PROG,
        lambda: EntraEmulator(config),
        create_app,
        lambda emulator, base: (
            f"Entra emulator on {base} (tenant {config.tenant}, "
            f"{len(emulator.directory.tenant.ids('user'))} users; token endpoint "
            f"{base}/{config.tenant}/oauth2/v2.0/token; control: {base}/__emulator/)"
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
