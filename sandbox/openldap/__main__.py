"""python -m sandbox.openldap: run a sandbox slapd until Ctrl-C or SIGTERM, then clean up."""

import argparse
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType

from sandbox.directories.make_example import EXAMPLE_LDIF
from sandbox.openldap import OpenLdapSandbox, SandboxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.openldap", description=__doc__)
    parser.add_argument(
        "--ldif",
        type=Path,
        action="append",
        help=f"LDIF file to load before start; repeat for more (default: {EXAMPLE_LDIF.name})",
    )
    parser.add_argument("--port", type=int, help="port to listen on (default: a free one)")
    parser.add_argument("--password", help="root DN password (default: a random one)")
    parser.add_argument("--size-limit", type=int, help="olcSizeLimit for accounts other than the root DN")
    args = parser.parse_args(argv)

    # SIGTERM unwinds like Ctrl-C so the with-block below stops slapd and removes its folder.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    sandbox = OpenLdapSandbox(
        args.ldif or [EXAMPLE_LDIF], port=args.port, size_limit=args.size_limit, password=args.password
    )
    try:
        with sandbox as ldap:
            endpoint = ldap.endpoint
            search = ["ldapsearch", "-x", "-H", endpoint.uri, "-D", endpoint.bind_dn, "-w", endpoint.password]
            print(f"URI:       {endpoint.uri}")
            print(f"Base DN:   {endpoint.base_dn}")
            print(f"Bind DN:   {endpoint.bind_dn}")
            print(f"Password:  {endpoint.password}")
            print(f"Reader:    {endpoint.reader_dn} / {endpoint.reader_password} (size limit applies)")
            example = [*search, "-b", endpoint.base_dn, "-E", "pr=500/noprompt", "uid=*"]
            print(f"Try:       {shlex.join(example)}")
            print("Ctrl-C stops the server and removes its folder.", flush=True)
            signal.pause()
    except SandboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
