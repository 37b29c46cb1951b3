"""What every emulator's `python -m sandbox.<name>` shares: where it listens, its state file and
faults, and how it starts (a bad state file, LDIF or fault spec is exit code 2 with the reason)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from sandbox.emulation.server import uvicorn_config

Emulator = TypeVar("Emulator")


def emulator_parser(prog: str, description: str | None, port: int) -> argparse.ArgumentParser:
    """A parser with --host, --port, --state, --faults and --seed; the emulator adds its own options."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--state", type=Path, help="JSON state file: loaded at start, written while running")
    parser.add_argument(
        "--faults", metavar="SPEC", help="fault rules as JSON, or @FILE (see sandbox/emulation/faults.py)"
    )
    parser.add_argument("--seed", type=int, help="seed of the fault generator")
    return parser


def serve(
    args: argparse.Namespace,
    prog: str,
    build: Callable[[], Emulator],
    create_app: Callable[[Emulator], Any],
    banner: Callable[[Emulator, str], str],
    *,
    date_header: bool = True,
) -> int:
    """Build the emulator, print its banner (given the base URL) and serve until interrupted."""
    try:
        emulator = build()
    except (ValueError, OSError) as exc:  # a bad state file, LDIF or fault spec
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    print(banner(emulator, f"http://{args.host}:{args.port}"), flush=True)
    config = uvicorn_config(create_app(emulator), args.host, args.port)
    config.date_header = date_header
    uvicorn.Server(config).run()
    return 0
