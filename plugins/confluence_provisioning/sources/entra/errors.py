"""The one error an Entra read fails with: the run stops before any write, with this message."""


class EntraReadError(Exception):
    """A read of Entra ID that failed, was partial or could not be trusted; the message says why."""


class ResyncRequired(EntraReadError):
    """Graph answered a delta link with "start again": the caller falls back to a full read."""
