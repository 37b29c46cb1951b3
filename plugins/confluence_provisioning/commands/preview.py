"""``confluence-provisioning preview --rules FILE [--ldif FILE]``: what the rules make of a directory.

Reads the directory (the rules' LDAP connection, or an LDIF file without any
server), applies the mapping rules and prints the Confluence users, groups and
memberships they produce, and every entry left out with its reason, so an
admin sees the effect of a rule before any run. Nothing is written anywhere.
Exit status: 0 when it printed, 1 when the directory could not be read, 2
when the rules file is wrong.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TextIO

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.mapping.stage import MappingResult, map_rules
from confluence_provisioning.printable import printable_frame, printable_lines
from confluence_provisioning.settings import LdapSourceSettings, RulesError, load_settings
from confluence_provisioning.sources import read_source
from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.ldif import LdifError, ldif_snapshot

WIDTH = 110


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, metavar="FILE", required=True, help="the rules file (YAML)")
    parser.add_argument(
        "--ldif",
        type=Path,
        metavar="FILE",
        help="read the directory from this LDIF export instead of the rules' LDAP connection",
    )


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # looked up now: tests and callers redirect them
    try:
        settings = load_settings(args.rules)
    except (RulesError, OSError) as error:
        print(f"preview: the rules file cannot be used:\n{error}", file=err)
        return 2
    try:
        if args.ldif is not None:
            if not isinstance(settings.source, LdapSourceSettings):
                print(
                    f"preview: --ldif needs an LDAP source; the rules read {settings.source.kind}", file=err
                )
                return 2
            source = str(args.ldif)
            snapshot = ldif_snapshot(args.ldif, settings.source)
        else:
            kind = "LDAP" if isinstance(settings.source, LdapSourceSettings) else settings.source.kind.title()
            source = f"{kind} connection {settings.source.connection_id!r}"
            snapshot = read_source(settings.source)
    except (IdpReadError, LdifError, OSError) as error:
        print(f"preview: the directory cannot be read: {printable_lines(str(error))}", file=err)
        return 1
    print(report(snapshot, map_rules(snapshot, settings), source), file=out)
    return 0


def report(snapshot: SourceSnapshot, result: MappingResult, source: str) -> str:
    """The preview as text: what was read, then users, groups, memberships and what was left out."""
    # directory values are printed escaped: a name must not drive the terminal
    users, groups, memberships = map(printable_frame, (result.users, result.groups, result.memberships))
    rejects = printable_frame(pd.concat([snapshot.rejects, result.rejects]).sort_values(list(frames.REJECTS)))
    members = memberships.groupby("group")["username"].agg(list)
    lines = [
        f"Read {len(snapshot.users)} users, {len(snapshot.groups)} groups and "
        f"{len(snapshot.memberships)} memberships from {source}.",
        "",
        f"Confluence users ({len(users)}, {int((~users['active']).sum())} disabled):",
        _table(
            users.assign(active=users["active"].map({True: "yes", False: "no"})),
            ["username", "display_name", "email", "active", "rule"],
        ),
        "",
        f"Confluence groups ({len(groups)}):",
        _table(
            groups.assign(
                members=groups["name"].map(members.map(len)).fillna(0).astype(int),
                prune=groups["prune_members"].map({True: "removes others", False: "adds only"}),
            ),
            ["name", "members", "prune", "rule"],
        ),
        "",
        f"Group memberships ({len(memberships)}; * = only when the sync creates the user):",
    ]
    starred = memberships["username"] + memberships["new_users_only"].map({True: "*", False: ""})
    for group, names in starred.groupby(memberships["group"], sort=True):
        lines += textwrap.wrap(
            ", ".join(names), WIDTH, initial_indent=f"  {group}: ", subsequent_indent=" " * 4
        ) or [f"  {group}:"]
    lines += ["", f"Left out ({len(rejects)}):"]
    lines += [f"  {row.source} {row.kind} {row.dn or row.id}: {row.reason}" for row in rejects.itertuples()]
    return "\n".join(lines)


def _table(frame: pd.DataFrame, columns: list[str]) -> str:
    """Left-aligned columns under their names, as an admin reads them."""
    if frame.empty:
        return "  (none)"
    cells = [columns] + [
        ["-" if pd.isna(value) else str(value) for value in row]
        for row in frame[columns].itertuples(index=False)
    ]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    return "\n".join(
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )
