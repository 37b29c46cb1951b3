"""Find the users with one login, with the configured user search: "why is this user not synced?"."""

from __future__ import annotations

import ldap3
from ldap3.utils.conv import escape_filter_chars

from confluence_provisioning import frames
from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.sources.ldap.bases import search_bases
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile
from confluence_provisioning.sources.ldap.users import read_users, user_searches
from confluence_provisioning.sources.rejects import RejectLog


def login_filter(profile: DirectoryProfile, login: str) -> str:
    """The user filter narrowed to one login; the login is escaped (RFC 4515), so it matches literally."""
    user_filter = profile.user_filter if profile.user_filter.startswith("(") else f"({profile.user_filter})"
    return f"(&{user_filter}({profile.login_attribute}={escape_filter_chars(login)}))"


def find_users(conn: ldap3.Connection, profile: DirectoryProfile, login: str) -> SourceSnapshot:
    """The users (and rejected entries) the user search finds with this login; no groups are read."""
    rejects = RejectLog()
    bases = search_bases(conn, profile.user_base_dn, profile.user_base_rdn, "directory.user_base_dn")
    users = read_users(conn, profile, user_searches(profile, bases, login_filter(profile, login)), rejects)
    return SourceSnapshot(
        users.frame(), frames.empty(frames.GROUPS), frames.empty(frames.MEMBERSHIPS), rejects.frame()
    )
