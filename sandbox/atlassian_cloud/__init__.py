"""A local stand-in for Atlassian Cloud's SCIM user provisioning API, built on scim2-server."""

from sandbox.atlassian_cloud.config import CloudConfig
from sandbox.atlassian_cloud.emulator import CloudEmulator
from sandbox.atlassian_cloud.server import CloudEmulatorServer
from sandbox.emulation.ratelimit import RateLimit

__all__ = ["CloudConfig", "CloudEmulator", "CloudEmulatorServer", "RateLimit"]
