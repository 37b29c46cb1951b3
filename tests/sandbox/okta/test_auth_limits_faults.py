"""Authentication (SSWS and OAuth service apps), per-endpoint rate limits with 429 E0000047, and faults."""

from __future__ import annotations

import time
import uuid

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.okta import OktaServer, RateLimit
from tests.sandbox.okta.conftest import add_users, session


def test_a_missing_or_wrong_api_token_is_401_e0000011(okta: OktaServer) -> None:
    url = f"{okta.base_url}/api/v1/users"
    for headers in ({}, {"Authorization": "SSWS wrong"}, {"Authorization": f"Bearer {okta.token}"}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["errorCode"] == "E0000011"
        assert response.json()["errorSummary"] == "Invalid token provided"
    assert session(okta).get(url, timeout=10).status_code == 200


def test_every_answer_reports_the_endpoint_s_budget_and_a_spent_budget_is_429(okta_server) -> None:
    server = okta_server(rate_limit=RateLimit(3, 60))
    http = session(server)
    users = f"{server.base_url}/api/v1/users"
    answers = [http.get(users, timeout=10) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-Rate-Limit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    reset = int(answers[0].headers["X-Rate-Limit-Reset"])
    assert reset % 60 == 0 and 0 < reset - time.time() <= 60
    assert {answer.headers["X-Rate-Limit-Limit"] for answer in answers} == {"3"}
    assert answers[3].json()["errorCode"] == "E0000047"
    # each endpoint has its own budget
    assert http.get(f"{server.base_url}/api/v1/groups", timeout=10).status_code == 200
    counters = requests.get(f"{server.admin_url}/counters", timeout=10).json()
    assert counters["by_route"] == {"GET /api/v1/users": 4, "GET /api/v1/groups": 1}


def test_without_a_limit_the_headers_are_still_there(okta: OktaServer) -> None:
    response = session(okta).get(f"{okta.base_url}/api/v1/groups", timeout=10)
    assert int(response.headers["X-Rate-Limit-Remaining"]) > 10_000


def test_injected_faults_answer_in_okta_s_words(okta: OktaServer) -> None:
    add_users(okta, 1)
    http = session(okta)
    spec = [
        {"path": "/api/v1/groups", "error_rate": 1, "statuses": [503], "limit": 1},
        {"path": "/api/v1/users", "burst_429": {"rate": 1, "length": 1, "retry_after": 7}, "limit": 1},
    ]
    assert requests.put(f"{okta.admin_url}/faults", json=spec, timeout=10).status_code == 204
    failed = http.get(f"{okta.base_url}/api/v1/groups", timeout=10)
    assert failed.status_code == 503 and failed.json()["errorCode"] == "E0000009"
    throttled = http.get(f"{okta.base_url}/api/v1/users", timeout=10)
    assert throttled.status_code == 429 and throttled.json()["errorCode"] == "E0000047"
    assert 5 <= int(throttled.headers["X-Rate-Limit-Reset"]) - time.time() <= 8
    assert http.get(f"{okta.base_url}/api/v1/users", timeout=10).status_code == 200


def _key_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_a_service_app_gets_a_scoped_access_token_with_a_private_key_jwt(okta_server) -> None:
    private, public = _key_pair()
    server = okta_server(oauth_clients=(("0oaservice", public),))
    token_url = f"{server.base_url}/oauth2/v1/token"

    def token(scope: str, key: bytes = private, audience: str = token_url) -> requests.Response:
        now = int(time.time())
        claims = {"iss": "0oaservice", "sub": "0oaservice", "aud": audience, "iat": now, "exp": now + 300}
        assertion = jwt.encode({**claims, "jti": str(uuid.uuid4())}, key, algorithm="RS256")
        form = {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        return requests.post(token_url, data=form, timeout=10)

    granted = token("okta.users.read")
    assert granted.status_code == 200
    assert granted.json()["token_type"] == "Bearer" and granted.json()["scope"] == "okta.users.read"
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    assert requests.get(f"{server.base_url}/api/v1/users", headers=bearer, timeout=10).status_code == 200
    refused = requests.get(f"{server.base_url}/api/v1/groups", headers=bearer, timeout=10)
    assert refused.status_code == 403 and refused.json()["errorCode"] == "E0000006"

    assert token("okta.users.read", key=_key_pair()[0]).json()["error"] == "invalid_client"
    assert token("okta.users.read", audience="https://elsewhere/oauth2/v1/token").status_code == 401
    assert token("okta.users.manage").json()["error"] == "invalid_scope"
