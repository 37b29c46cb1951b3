"""The extras every target's connection may carry (TLS verification, timeouts, a ceiling on requests
in flight) and the base URL: read the same way for each target's hook, and shown with the same
form fields. Free of Airflow imports, so a hook can share them while Airflow is still importing
another hook (provider discovery runs during Airflow's first import).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

# the connection-form fields of these extras
TRANSPORT_FIELDS: dict[str, Any] = {
    "verify": {
        "label": "Verify TLS",
        "description": "true, false, or the path of a CA bundle.",
        "schema": {"type": ["string", "null"], "default": "true"},
    },
    "max_in_flight": {
        "label": "Max requests in flight",
        "description": "A ceiling on concurrent requests to this site.",
        "schema": {"type": ["integer", "null"]},
    },
}


def base_url_of(host: str | None, schema: str | None, port: int | None, where: str) -> str:
    """``scheme://host[:port][/context]`` from a connection's host (which may hold scheme and path)."""
    host = (host or "").strip().rstrip("/")
    if not host:
        raise ValueError(
            f"{where} has no host: set it to Confluence's base URL, e.g. https://wiki.example.com"
        )
    if "://" not in host:
        scheme = (schema or "https").lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"{where}: schema must be http or https (the URL scheme), got {schema!r}")
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: host {host!r} is not an http(s) URL")
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}"


def verify_extra(value: Any, where: str) -> bool | str:
    """True/False, or a CA bundle path; "true"/"false" strings (the UI has a text field) are booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        word = value.strip().lower()
        return {"true": True, "false": False}.get(word, value.strip())
    raise ValueError(f"{where}: extra 'verify' must be true, false or a CA bundle path, got {value!r}")


def timeout_extra(value: Any, where: str) -> tuple[float, float]:
    """A number (both connect and read) or [connect, read], in seconds."""
    values = value if isinstance(value, list | tuple) else [value, value]
    try:
        connect, read = (float(item) for item in values)
    except (TypeError, ValueError):
        connect = read = -1.0
    if connect <= 0 or read <= 0:
        raise ValueError(
            f"{where}: extra 'timeout' must be positive seconds or [connect, read] seconds, got {value!r}"
        )
    return connect, read


def positive_int_extra(value: Any, name: str, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not str(value).isdigit()
        or int(value) < 1
    ):
        raise ValueError(f"{where}: extra {name!r} must be a positive integer, got {value!r}")
    return int(value)
