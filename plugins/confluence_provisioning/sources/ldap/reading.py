"""Read the directory the rules describe through its Airflow connection: the entry of the DAG and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import ldap3

from confluence_provisioning.frames import SourceSnapshot
from confluence_provisioning.settings import LdapSourceSettings
from confluence_provisioning.sources import SourceContext
from confluence_provisioning.sources.ldap.connecting import close
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile, resolve_profile
from confluence_provisioning.sources.ldap.hook import LdapHook
from confluence_provisioning.sources.ldap.snapshot import extract

T = TypeVar("T")


def read_source(settings: LdapSourceSettings, context: SourceContext) -> SourceSnapshot:
    """The source contract (``sources.read_source``): an LDAP read has no incremental form."""
    return read_directory(settings)


def read_directory(settings: LdapSourceSettings, hook: LdapHook | None = None) -> SourceSnapshot:
    """Users, groups and flattened memberships; `IdpReadError` when anything could not be read."""
    return with_directory(settings, extract, hook)


def with_directory(
    settings: LdapSourceSettings,
    work: Callable[[ldap3.Connection, DirectoryProfile], T],
    hook: LdapHook | None = None,
) -> T:
    """``work(connection, profile)`` on a bound connection of ``hook`` (default: the rules' connection)."""
    hook = hook or LdapHook(settings.connection_id)
    profile = resolve_profile(settings, hook.options.page_size)
    connection = hook.get_conn()
    try:
        return work(connection, profile)
    finally:
        close(connection)
