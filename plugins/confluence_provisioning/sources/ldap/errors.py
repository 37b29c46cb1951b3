"""The one error a read of the identity provider raises."""

from __future__ import annotations


class IdpReadError(Exception):
    """The directory could not be read completely; nothing that was read may be used.

    The message names the cause and the setting or connection field to check.
    """
