"""Keep Confluence Data Center users and groups in step with an LDAP identity provider."""
