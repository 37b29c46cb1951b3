"""A local stand-in for Microsoft Entra ID as Graph v1.0 serves it (see `server.EntraEmulatorServer`)."""

from sandbox.entra.config import EntraConfig
from sandbox.entra.emulator import EntraEmulator
from sandbox.entra.server import EntraEmulatorServer

__all__ = ["EntraConfig", "EntraEmulator", "EntraEmulatorServer"]
