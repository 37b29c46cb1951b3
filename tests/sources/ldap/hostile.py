"""Entries with names no terminal, log or Confluence should be handed: added to the example directory.

Every value goes into the LDIF base64-encoded, so slapd stores it byte for byte.
"""

from __future__ import annotations

import base64
from pathlib import Path

from sandbox.directories.make_example import GROUPS, PEOPLE

RLO = "admin\u202egpj"  # a right-to-left override: shows as "adminjpg"
ZWSP = "ad\u200bmin"  # a zero-width space: shows as "admin"
# (login, display name, mail) of each hostile user, all active
USERS = [
    ("eve", "Eve \x1b[31mRed", "eve@example.com"),
    (RLO, "Rlo", "rlo@example.com"),
    (ZWSP, "Zwsp", "zwsp@example.com"),
    ("bell", "Bell", "bell\x07@example.com"),
    ("nul", "N\x00ul", "nul@example.com"),
    ("c1", "C1\x9b2J", "c1@example.com"),
    ("longname", "y" * 300, "longname@example.com"),
]
# (cn, member logins): group names on-the-fly would make Confluence groups of; slapd keys
# entries by DN (at most 511 bytes), so an over-long name comes from doubling WIDE (LENGTHEN)
WIDE = "wide-" + "x" * 130
LENGTHEN = {"pattern": "^(wide-.+)$", "replace": "\\1\\1"}  # an on-the-fly rewrite
GROUP_NAMES = {"ops\nteam": ["afischer"], "qa\x1b[2J": ["afischer"], WIDE: ["afischer"]}
# every hostile character above, raw: none may reach a terminal or a log
RAW = ("\x1b", "\x07", "\x00", "\x9b", "\u202e", "\u200b", "ops\nteam")


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def hostile_ldif(folder: Path) -> Path:
    """The entries as an LDIF file in ``folder``, to load after the example directory."""
    entries = [
        "\n".join(
            [
                f"dn:: {_b64(f'uid={login},{PEOPLE}')}",
                "objectClass: inetOrgPerson",
                f"uid:: {_b64(login)}",
                "cn: Hostile",
                "sn: Hostile",
                f"displayName:: {_b64(display)}",
                f"mail:: {_b64(mail)}",
            ]
        )
        for login, display, mail in USERS
    ]
    entries += [
        "\n".join(
            [
                f"dn:: {_b64(f'cn={cn},{GROUPS}')}",
                "objectClass: groupOfNames",
                f"cn:: {_b64(cn)}",
                *[f"member: uid={login},{PEOPLE}" for login in members],
            ]
        )
        for cn, members in GROUP_NAMES.items()
    ]
    path = folder / "hostile.ldif"
    path.write_text("\n\n".join(entries) + "\n", encoding="utf-8")
    return path
