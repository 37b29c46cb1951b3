"""Targets: one folder per kind of Atlassian site, each reading it into the shared frames and
carrying out a plan's operations (the contract is in ``base``)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from confluence_provisioning.settings import Settings
    from confluence_provisioning.targets.base import Capabilities, Target

# kind (as the rules file names it) -> the module with its CAPABILITIES, open_target and site
KINDS = {
    "confluence_data_center": "confluence_provisioning.targets.confluence_dc.target",
    "atlassian_cloud": "confluence_provisioning.targets.atlassian_cloud.target",
}


def capabilities_of(kind: str) -> Capabilities:
    return import_module(KINDS[kind]).CAPABILITIES


def open_target(settings: Settings, *, dry_run: bool) -> Target:
    """The target the rules name, through its Airflow connection; a dry run sends no write."""
    return import_module(KINDS[settings.target.kind]).open_target(settings, dry_run=dry_run)


def site_of(settings: Settings) -> str:
    """The target site as ``<kind>:<where>`` (a base URL, a directory): what a sync lease is keyed by."""
    kind = settings.target.kind
    return f"{kind}:{import_module(KINDS[kind]).site(settings)}"
