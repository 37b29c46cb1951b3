"""``confluence-provisioning check-source``: test the source's connection and count what it can read.

Reads the source the rules name (``source.kind``) in full, with its Airflow connection, and
prints counts, rejected entries and samples: for LDAP what ``check-ldap`` prints; for Entra ID
the tenant, the app, and how many requests the read took; for any other kind (Okta) its full
read's counts. Nothing is written anywhere (an
incremental source's saved state is neither read nor changed). Exit status: 0 when the source
was read, 1 when it could not be (the message says why and what to check), 2 when the rules
file is wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from confluence_provisioning.commands import check_ldap
from confluence_provisioning.settings import (
    EntraSourceSettings,
    LdapSourceSettings,
    RulesError,
    SourceSettings,
    load_settings,
)

if TYPE_CHECKING:
    from confluence_provisioning.sources.entra.hook import EntraOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, metavar="FILE", help="rules file whose source section to use")
    parser.add_argument(
        "--conn-id", metavar="ID", help="Airflow connection to use (default: source.connection_id)"
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        settings = load_settings(args.rules).source if args.rules else LdapSourceSettings()
    except (RulesError, OSError) as error:
        print(f"check-source: the rules file cannot be used:\n{error}", file=err)
        return 2
    if isinstance(settings, EntraSourceSettings):
        return _check_entra(settings, args.conn_id, out, err)
    if isinstance(settings, LdapSourceSettings):
        return check_ldap.run(argparse.Namespace(rules=args.rules, conn_id=args.conn_id, user=None), out, err)
    return _check_any(settings, args.conn_id, out, err)


def _check_any(settings: SourceSettings, conn_id: str | None, out: TextIO, err: TextIO) -> int:
    """Any other kind: its full read through the source contract, then the counts."""
    from confluence_provisioning.sources import SourceContext, read_source

    if conn_id:
        settings = settings.model_copy(update={"connection_id": conn_id})
    print(f"Reading the {settings.kind} source with connection {settings.connection_id!r}", file=out)
    started = time.monotonic()
    try:
        found = read_source(settings, SourceContext(full_read=True))
    except Exception as error:  # each kind has its own read error; all of them end the check
        print(f"check-source: FAILED: {error}", file=err)
        return 1
    print(f"Read in {time.monotonic() - started:.1f} s.", file=out)
    check_ldap.print_snapshot(found, out)
    return 0


def _check_entra(settings: EntraSourceSettings, conn_id: str | None, out: TextIO, err: TextIO) -> int:
    from confluence_provisioning.sources.entra.errors import EntraReadError
    from confluence_provisioning.sources.entra.hook import EntraHook
    from confluence_provisioning.sources.entra.reading import EntraReader
    from confluence_provisioning.sources.entra.tenant import snapshot

    hook = EntraHook(conn_id or settings.connection_id)
    started = time.monotonic()
    try:
        options = hook.options
        print(
            f"Connection {hook.entra_conn_id!r}: Graph {options.graph_url}, tenant {options.tenant_id}, "
            f"app {options.client_id} (tokens from {options.authority}; {_security(options)})",
            file=out,
        )
        print(
            f"Reading users ({settings.login_attribute} as the login), groups and their "
            f"{settings.memberships} members, {settings.page_size} a page",
            file=out,
        )
        with hook.get_conn(settings.retry) as client:
            tenant, _ = EntraReader(client, settings).read_all(with_links=False)
            found = snapshot(tenant, settings)
            requests = client.requests
    except EntraReadError as error:
        print(f"check-source: FAILED: {error}", file=err)
        return 1
    guests = sum(1 for props in tenant.users.values() if props.get("userType") == "Guest")
    others = sum(
        1 for members in tenant.members.values() for kind in members.values() if kind not in ("user", "group")
    )
    print(f"Read in {time.monotonic() - started:.1f} s with {requests} requests.", file=out)
    read = "read" if settings.include_guests else "left out: source.include_guests is false"
    print(f"  guests       {guests:>7}  ({read})", file=out)
    print(f"  other members {others:>6}  (devices, contacts, service principals: ignored)", file=out)
    check_ldap.print_snapshot(found, out)
    return 0


def _security(options: EntraOptions) -> str:
    if not (options.graph_url.startswith("https:") and options.authority.startswith("https:")):
        return "plain HTTP, not encrypted"
    return f"TLS, certificates {'verified' if options.verify else 'NOT verified (verify is off)'}"
