"""How requests to Okta are authorised: an API token (`SSWS`), or an OAuth 2.0 service app.

A service app gets access tokens with the client-credentials grant and a private-key JWT
(`client_assertion`, RS256, `iss` = `sub` = the client id, `aud` = the token URL), for the scopes
`okta.users.read okta.groups.read`; a token is reused until a minute before it expires. Neither the
API token, the private key nor an access token is ever logged or put in an error message.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
import requests

from confluence_provisioning.sources.okta.errors import OktaReadError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_SCOPES = ("okta.users.read", "okta.groups.read")
RENEW_BEFORE_SECONDS = 60.0


class Credentials:
    def authorization(self) -> str:
        """The `Authorization` header's value for the next request."""
        raise NotImplementedError

    def refused(self) -> bool:
        """A request was answered 401: True when fresh credentials are worth one more try."""
        return False


@dataclass(frozen=True)
class ApiToken(Credentials):
    token: str = field(repr=False)

    def authorization(self) -> str:
        return f"SSWS {self.token}"


class ServiceApp(Credentials):
    def __init__(
        self,
        token_url: str,
        client_id: str,
        private_key: str,
        *,
        key_id: str | None = None,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 60.0),
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._private_key = private_key
        self.key_id = key_id
        self.scopes = scopes
        self.verify = verify
        self.timeout = timeout
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ServiceApp(client_id={self.client_id!r}, scopes={self.scopes!r})"

    def authorization(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires - RENEW_BEFORE_SECONDS:
                self._token, lifetime = self._request_token()
                self._expires = time.monotonic() + lifetime
            return f"Bearer {self._token}"

    def refused(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def _request_token(self) -> tuple[str, float]:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.key_id} if self.key_id else None
        try:
            assertion = jwt.encode(claims, self._private_key, algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as error:
            raise OktaReadError(
                f"cannot sign the client assertion of service app {self.client_id!r} with its private key "
                f"({type(error).__name__}): check the connection's extra private_key (a PEM RSA key)"
            ) from None
        form = {
            "grant_type": "client_credentials",
            "scope": " ".join(self.scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        try:
            answer = requests.post(
                self.token_url,
                data=form,
                headers={"Accept": "application/json"},
                verify=self.verify,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise OktaReadError(f"no access token from {self.token_url}: {type(error).__name__}") from None
        body = _json_object(answer)
        if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
            raise OktaReadError(
                f"{self.token_url} refused service app {self.client_id!r} ({answer.status_code} "
                f"{body.get('error', '')}: {body.get('error_description', '')}); check the app's client id, "
                f"its public key in Okta, and that it was granted {' '.join(self.scopes)}"
            )
        return body["access_token"], float(body.get("expires_in", 3600))


def _json_object(answer: requests.Response) -> dict[str, object]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
