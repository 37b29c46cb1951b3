"""Access tokens (client credentials grant) and the opaque state tokens of paging and delta links.

Access tokens are random strings the emulator remembers with their expiry (a real one is a JWT a
client must not read either). State tokens ($skiptoken, $deltatoken) carry their cursor
themselves, signed with the tenant's secret, so they survive a restart with a state file and a
client cannot forge or edit one: a token that does not verify is a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any


class AccessTokens:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expiry)
        self._lock = threading.Lock()

    def issue(self, client_id: str, lifetime: int) -> str:
        token = "eyJ0eXAiOiJKV1QifQ." + secrets.token_urlsafe(32)  # looks like a JWT, is opaque
        with self._lock:
            now = self._clock()
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}  # forget expired ones
            self._tokens[token] = (client_id, now + lifetime)
        return token

    def check(self, token: str) -> tuple[str | None, str | None]:
        """(client id, None) for a live token, else (None, why): "expired" or "invalid"."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            return None, "invalid"
        if found[1] <= self._clock():
            return None, "expired"
        return found[0], None

    def expire_all(self) -> None:
        with self._lock:
            self._tokens = {t: (c, 0.0) for t, (c, _) in self._tokens.items()}

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


def seal(secret: str, payload: dict[str, Any]) -> str:
    """An opaque, URL-safe token for ``payload``."""
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(secret.encode(), data, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + data).decode().rstrip("=")


def unseal(secret: str, token: str) -> dict[str, Any] | None:
    """The payload of a token ``seal`` made with this secret, or None."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    mac, data = raw[:12], raw[12:]
    if not hmac.compare_digest(mac, hmac.new(secret.encode(), data, hashlib.sha256).digest()[:12]):
        return None
    try:
        payload = json.loads(data)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None
