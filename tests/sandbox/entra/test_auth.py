"""The token endpoint (client credentials grant) and bearer tokens on Graph routes."""

import pytest

from sandbox.entra import EntraEmulatorServer
from tests.sandbox.entra.conftest import HTTP, Graph


def test_a_client_credentials_grant_gives_a_bearer_token_that_reads_graph(entra: EntraEmulatorServer) -> None:
    response = HTTP.post(entra.token_url, data=entra.token_form)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3599)
    users = HTTP.get(
        f"{entra.graph_url}/v1.0/users", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert users.status_code == 200


def test_the_client_may_authenticate_with_http_basic(entra: EntraEmulatorServer) -> None:
    form = {k: v for k, v in entra.token_form.items() if k not in ("client_id", "client_secret")}
    auth = (entra.config.client_id, entra.config.client_secret)
    assert HTTP.post(entra.token_url, data=form, auth=auth).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_secret": ""}, 401, "invalid_client", 7000218),
        ({"client_id": "someone-else"}, 400, "unauthorized_client", 700016),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"scope": "https://example.com/.default"}, 400, "invalid_scope", 70011),
    ],
)
def test_a_wrong_token_request_gets_the_identity_platforms_error(
    entra: EntraEmulatorServer, change: dict, status: int, error: str, code: int
) -> None:
    response = HTTP.post(entra.token_url, data={**entra.token_form, **change})
    assert response.status_code == status
    body = response.json()
    assert (body["error"], body["error_codes"]) == (error, [code])
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "wrong" not in body["error_description"]  # the secret is never echoed


def test_an_unknown_tenant_is_refused(entra: EntraEmulatorServer) -> None:
    response = HTTP.post(f"{entra.authority}/other-tenant/oauth2/v2.0/token", data=entra.token_form)
    assert (response.status_code, response.json()["error_codes"]) == (400, [90002])


def test_the_openid_configuration_names_the_token_endpoint(entra: EntraEmulatorServer) -> None:
    config = HTTP.get(f"{entra.authority}/{entra.config.tenant}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == entra.token_url


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer not-a-token", "Access token validation failure. Invalid audience."),
        ("Basic dXNlcjpwYXNz", "Access token is empty."),
    ],
)
def test_graph_refuses_a_missing_or_unknown_token_with_401(
    entra: EntraEmulatorServer, authorization: str | None, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = HTTP.get(f"{entra.graph_url}/v1.0/users", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("InvalidAuthenticationToken", message)
    assert set(error["innerError"]) >= {"date", "request-id"}


def test_an_expired_token_is_refused_with_401(entra: EntraEmulatorServer) -> None:
    with Graph(entra) as graph:
        assert graph.get("users").status_code == 200
        HTTP.post(f"{entra.admin_url}/tokens/expire")
        response = graph.get("users")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Lifetime validation failed, the token is expired."
