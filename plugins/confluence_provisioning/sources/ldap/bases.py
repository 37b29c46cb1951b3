"""Where the searches start: the configured base DN, or the server's naming contexts."""

from __future__ import annotations

import ldap3

from confluence_provisioning.sources.ldap.errors import IdpReadError
from confluence_provisioning.sources.ldap.search import Search, base_entry


def search_bases(
    conn: ldap3.Connection, base_dn: str | None, relative_dn: str | None, setting: str
) -> list[str]:
    """``[base_dn]`` when it is set; otherwise ``relative_dn`` (if any) under each naming context."""
    if base_dn:
        return [base_dn]
    contexts = naming_contexts(conn, setting)
    return [f"{relative_dn},{context}" if relative_dn else context for context in contexts]


def naming_contexts(conn: ldap3.Connection, setting: str) -> list[str]:
    """The server's default naming context (AD, 389 DS) or else every naming context it lists."""
    root = base_entry(
        conn,
        Search(
            what="root DSE read",
            base="",
            filter="(objectClass=*)",
            attributes=("namingContexts", "defaultNamingContext"),
            base_setting=setting,
        ),
    )["attributes"]
    contexts = root.get("defaultNamingContext") or root.get("namingContexts") or []
    if not contexts:
        raise IdpReadError(f"the LDAP server lists no naming contexts in its root DSE; set {setting}")
    return list(contexts)
