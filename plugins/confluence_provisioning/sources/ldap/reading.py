"""Read the directory the rules describe through its Airflow connection: the entry of the DAG and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import ldap3

from confluence_provisioning.settings import DirectorySettings
from confluence_provisioning.sources.ldap.connecting import close
from confluence_provisioning.sources.ldap.flavours import DirectoryProfile, resolve_profile
from confluence_provisioning.sources.ldap.hook import LdapHook
from confluence_provisioning.sources.ldap.snapshot import IdpSnapshot, extract

T = TypeVar("T")


def read_directory(settings: DirectorySettings, hook: LdapHook | None = None) -> IdpSnapshot:
    """Users, groups and flattened memberships; `IdpReadError` when anything could not be read."""
    return with_directory(settings, extract, hook)


def with_directory(
    settings: DirectorySettings,
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
