"""Sources: one folder per kind of identity provider, each reading it into the shared frames.

A source kind is a folder ``sources/<kind>/`` whose ``reading`` module has
``read_source(settings, context) -> frames.SourceSnapshot``: users, groups, memberships
(nesting flattened) and rejects, in the schemas of ``frames``, or an error when the read was
failed, partial or truncated (never fewer users than there are). Its settings model is in
``settings/sources.py``. Adding a kind is that folder, its settings model and one line in
``READERS``; mapping, planning and the targets do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from confluence_provisioning.frames import SourceSnapshot
    from confluence_provisioning.settings import SourceSettings
    from confluence_provisioning.sources.incremental import SourceStates

# kind (as the rules file names it) -> the module with its read_source
READERS = {
    "ldap": "confluence_provisioning.sources.ldap.reading",
    "okta": "confluence_provisioning.sources.okta.reading",
    "entra_id": "confluence_provisioning.sources.entra.reading",
}


@dataclass(frozen=True)
class SourceContext:
    """What a run tells a source beyond its settings."""

    full_read: bool = False  # read everything, even where the kind could read only the changes
    states: SourceStates | None = None  # where incremental kinds keep their last state; None: read in full


def read_source(settings: SourceSettings, context: SourceContext | None = None) -> SourceSnapshot:
    """One complete read of the source the rules name (imported on use: only that kind's libraries load)."""
    reader = import_module(READERS[settings.kind])
    return reader.read_source(settings, context or SourceContext())
