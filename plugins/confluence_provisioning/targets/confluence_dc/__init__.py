"""Confluence Data Center: REST client, typed errors, retry policy and (in hook.py) the Airflow hook.

The hook is not imported here, so pure code can use the client and its types without Airflow.
"""

from confluence_provisioning.targets.confluence_dc.client import ConfluenceClient, RecordedRequest
from confluence_provisioning.targets.errors import (
    AuthError,
    ConflictError,
    ConfluenceError,
    DryRunRefused,
    NoLicenceSeatError,
    NotFoundError,
    RateLimitInfo,
    TransientError,
    ValidationError,
)
from confluence_provisioning.targets.retry import RetryPolicy, call_with_retry

__all__ = [
    "AuthError",
    "ConflictError",
    "ConfluenceClient",
    "ConfluenceError",
    "DryRunRefused",
    "NoLicenceSeatError",
    "NotFoundError",
    "RateLimitInfo",
    "RecordedRequest",
    "RetryPolicy",
    "TransientError",
    "ValidationError",
    "call_with_retry",
]
