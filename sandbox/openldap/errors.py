"""Errors raised by the OpenLDAP sandbox."""


class SandboxError(RuntimeError):
    """The sandbox could not do what was asked; the message carries the tool's own output."""


class PortInUseError(SandboxError):
    """slapd could not listen because another process took the port first."""
