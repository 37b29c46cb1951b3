"""CONTRACT.md rows 11-14 (errors, auth, directory, discovery), and listings rendered as reads are."""

from __future__ import annotations

import httpx

from sandbox.atlassian_cloud import CloudEmulatorServer
from tests.cloud_emulator.conftest import assert_scim_error, create_group, create_user, patch, scim_client

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_a_wrong_or_missing_token_is_401_with_a_failure_body(cloud: CloudEmulatorServer) -> None:
    for headers in ({"Authorization": "Bearer wrong"}, {}, {"Authorization": "Basic Y2xvdWQta2V5Og=="}):
        response = httpx.get(f"{cloud.base_url}/Users", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Missing or invalid authorization header", "traceId": "emulator"}


def test_another_directory_is_404(cloud: CloudEmulatorServer) -> None:
    response = httpx.get(f"{cloud.api_url}/scim/directory/other/Users", headers=cloud.auth_headers)
    assert_scim_error(response, 404)
    assert response.json()["detail"] == "Directory does not exist"


def test_the_service_provider_config_says_what_atlassian_supports(api: httpx.Client) -> None:
    config = api.get("/ServiceProviderConfig").json()
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 100}
    assert config["sort"] == {"supported": False}
    assert config["etag"] == {"supported": False}
    assert [scheme["type"] for scheme in config["authenticationSchemes"]] == ["oauthbearertoken"]
    assert {item["name"] for item in api.get("/ResourceTypes").json()["Resources"]} == {"User", "Group"}


def test_a_listing_renders_each_resource_as_its_own_read_does(api: httpx.Client) -> None:
    alice = create_user(api, "alice@example.com", externalId="u-1", **{ENTERPRISE: {"department": "R&D"}})
    create_user(api, "bob@example.com", name={"givenName": "Bob", "familyName": "B"})
    group = create_group(api, "g")
    api.patch(f"/Groups/{group}", json=patch({"op": "add", "path": "members", "value": [{"value": alice}]}))
    for endpoint in ("/Users", "/Groups"):
        for listed in api.get(endpoint).json()["Resources"]:
            assert listed == api.get(f"{endpoint}/{listed['id']}").json()


def test_status_in_errors_is_a_string_and_5xx_faults_follow_the_scim_schema(cloud_server) -> None:
    server: CloudEmulatorServer = cloud_server(
        faults=[{"method": "GET", "error_rate": 1.0, "statuses": [503]}]
    )
    with scim_client(server) as api:
        assert_scim_error(api.get("/Users"), 503)
        assert api.post("/Groups", json={"schemas": [], "displayName": "g"}).status_code in (201, 400)
