"""``confluence-provisioning check-ldap``: the "test connection" button for the identity provider.

Binds with the Airflow connection, runs the searches the rules configure and
prints what they find: counts, rejected entries with their reasons and a few
sample rows. Exit status: 0 when the directory was read, 1 when it could not
be (the message says why and what to check), 2 when the rules file is wrong.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path
from typing import TextIO

import pandas as pd

from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.printable import printable_frame, printable_lines
from confluence_provisioning.settings import LdapSourceSettings, RulesError, load_settings
from confluence_provisioning.sources.ldap.connecting import LdapOptions
from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile, resolve_profile
from confluence_provisioning.sources.ldap.hook import LdapHook
from confluence_provisioning.sources.ldap.lookup import find_users, login_filter
from confluence_provisioning.sources.ldap.reading import read_directory, with_directory

SAMPLES = 5
REJECTS_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="FILE",
        help="rules file whose directory section to use (default: defaults)",
    )
    parser.add_argument(
        "--conn-id", metavar="ID", help="Airflow connection to bind with (default: directory.connection_id)"
    )
    parser.add_argument("--user", metavar="LOGIN", help="only look up the users with this login")


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        settings = load_settings(args.rules).source if args.rules else LdapSourceSettings()
    except (RulesError, OSError) as error:
        print(f"check-ldap: the rules file cannot be used:\n{error}", file=err)
        return 2
    hook = LdapHook(args.conn_id or settings.connection_id)
    try:
        print(_connection_line(hook.ldap_conn_id, hook.options), file=out)
        profile = resolve_profile(settings, hook.options.page_size)
        _print_searches(profile, out)
        if args.user is not None:
            print(f"  lookup: {login_filter(profile, args.user)}", file=out)
        started = time.monotonic()
        if args.user is not None:
            found = with_directory(settings, partial(find_users, login=args.user), hook)
        else:
            found = read_directory(settings, hook)
    except IdpReadError as error:
        print(f"check-ldap: FAILED: {printable_lines(str(error))}", file=err)
        return 1
    print(f"Read in {time.monotonic() - started:.1f} s.", file=out)
    if args.user is not None:
        _print_lookup(found, args.user, out)
    else:
        print_snapshot(found, out)
    return 0


def _connection_line(conn_id: str, options: LdapOptions) -> str:
    if options.use_ssl or options.start_tls:
        how = "LDAPS" if options.use_ssl else "StartTLS"
        security = f"{how}, certificate {'verified' if options.verify else 'NOT verified (verify is off)'}"
    else:
        security = "plain LDAP, not encrypted"
    return f"Connection {conn_id!r}: {options.url} as {options.bind_dn or 'anonymous'!r} ({security})"


def _print_searches(profile: DirectoryProfile, out: TextIO) -> None:
    print(f"Flavour {profile.flavour.value}, page size {profile.page_size}", file=out)
    print(
        f"  users:  {profile.user_filter} in {_where(profile.user_base_dn, profile.user_base_rdn)}", file=out
    )
    print(
        f"  groups: {profile.group_filter} in {_where(profile.group_base_dn, profile.group_base_rdn)}",
        file=out,
    )


def _where(base_dn: str | None, base_rdn: str | None) -> str:
    contexts = "the server's naming contexts"
    return base_dn or (f"{base_rdn} under {contexts}" if base_rdn else contexts)


def print_snapshot(snapshot: SourceSnapshot, out: TextIO) -> None:
    users, memberships, rejects = snapshot.users, snapshot.memberships, snapshot.rejects
    disabled = int((~users["active"]).sum())
    direct = int(memberships["direct"].sum())
    print(f"  users        {len(users):>7}  ({len(users) - disabled} active, {disabled} disabled)", file=out)
    print(f"  groups       {len(snapshot.groups):>7}", file=out)
    nested = len(memberships) - direct
    print(
        f"  memberships  {len(memberships):>7}  ({direct} direct, {nested} through nested groups)", file=out
    )
    by_kind = ", ".join(
        f"{count} {kind}" for kind, count in rejects["kind"].value_counts().sort_index().items()
    )
    print(f"  rejects      {len(rejects):>7}" + (f"  ({by_kind})" if by_kind else ""), file=out)
    _print_rejects(rejects, out)
    print("Sample users:", file=out)
    _print_rows(users[["login", "email", "display_name", "active", "dn"]].head(SAMPLES), out)
    members = memberships.groupby("group_id").size()
    groups = snapshot.groups.assign(members=snapshot.groups["id"].map(members).fillna(0).astype(int))
    print("Sample groups:", file=out)
    _print_rows(groups[["name", "members", "dn"]].head(SAMPLES), out)


def _print_lookup(snapshot: SourceSnapshot, login: str, out: TextIO) -> None:
    if snapshot.users.empty and snapshot.rejects.empty:
        print(
            f"No entry with login {login!r} matches the user search; check the login, "
            "directory.user_base_dn, directory.user_filter and directory.login_attribute.",
            file=out,
        )
        return
    print(f"Users with login {login!r}:", file=out)
    _print_rows(snapshot.users[["id", "login", "email", "display_name", "active", "dn"]], out)
    _print_rejects(snapshot.rejects, out)


def _print_rejects(rejects: pd.DataFrame, out: TextIO) -> None:
    if rejects.empty:
        return
    print(f"Rejected entries{f' (first {REJECTS_SHOWN})' if len(rejects) > REJECTS_SHOWN else ''}:", file=out)
    for row in printable_frame(rejects.head(REJECTS_SHOWN)).itertuples():
        print(f"  {row.kind} {row.dn}: {row.reason}", file=out)


def _print_rows(frame: pd.DataFrame, out: TextIO) -> None:
    if frame.empty:
        print("  (none)", file=out)
        return
    text = printable_frame(frame).to_string(index=False, na_rep="-", max_colwidth=60)
    print("\n".join(f"  {line}" for line in text.splitlines()), file=out)
