"""The one error a read of Okta raises."""

from __future__ import annotations

from confluence_provisioning.sources.ldap.errors import IdpReadError


class OktaReadError(IdpReadError):
    """Okta could not be read completely; nothing that was read may be used.

    The message names the cause (the request, Okta's error code and summary) and what to check.
    """
