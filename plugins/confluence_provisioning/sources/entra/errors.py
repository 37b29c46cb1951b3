"""The one error an Entra read fails with: the run stops before any write, with this message."""

from confluence_provisioning.sources.incremental import StaleCursor


class EntraReadError(Exception):
    """A read of Entra ID that failed, was partial or could not be trusted; the message says why."""


class ResyncRequired(EntraReadError, StaleCursor):
    """Graph answered a delta link with "start again" (410, resyncRequired): read everything."""
