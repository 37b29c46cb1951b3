"""A local stand-in for the parts of Okta's Management API a directory sync reads (see `OktaServer`)."""

from sandbox.okta.config import OktaConfig
from sandbox.okta.directory import Directory, OktaGroup, OktaUser
from sandbox.okta.emulator import Emulator
from sandbox.okta.ratelimit import RateLimit
from sandbox.okta.server import OktaServer

__all__ = ["Directory", "Emulator", "OktaConfig", "OktaGroup", "OktaServer", "OktaUser", "RateLimit"]
