"""A throwaway real OpenLDAP server for tests and local runs.

with OpenLdapSandbox(ldif_files=["sandbox/directories/example.ldif"]) as ldap:
    ldap.uri, ldap.bind_dn, ldap.password
"""

from sandbox.openldap.config import TlsFiles
from sandbox.openldap.errors import SandboxError
from sandbox.openldap.sandbox import LdapEndpoint, OpenLdapSandbox

__all__ = ["LdapEndpoint", "OpenLdapSandbox", "SandboxError", "TlsFiles"]
