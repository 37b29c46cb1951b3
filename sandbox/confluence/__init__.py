"""A local stand-in for Confluence Data Center's user and group REST API (see `server.EmulatorServer`)."""

from sandbox.confluence.config import EmulatorConfig, ListCaps
from sandbox.confluence.emulator import Emulator
from sandbox.confluence.server import EmulatorServer
from sandbox.confluence.state import Directory, User
from sandbox.emulation.ratelimit import RateLimit

__all__ = ["Directory", "Emulator", "EmulatorConfig", "EmulatorServer", "ListCaps", "RateLimit", "User"]
