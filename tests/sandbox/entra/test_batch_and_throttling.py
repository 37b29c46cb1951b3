"""$batch, the throttle (429 + Retry-After, also inside a batch) and injected faults."""

from collections.abc import Callable

from sandbox.emulation.ratelimit import RateLimit
from sandbox.entra import EntraEmulatorServer
from tests.sandbox.entra.conftest import GROUPS, HTTP, Graph


def _requests(graph: Graph, names: list[str]) -> list[dict]:
    return [
        {
            "id": str(n),
            "method": "GET",
            "url": f"/groups/{graph.id_of(f'cn={name},{GROUPS}')}/members?$select=id",
        }
        for n, name in enumerate(names)
    ]


def test_a_batch_answers_each_request_by_id(entra: EntraEmulatorServer, graph: Graph) -> None:
    unknown = {"id": "x", "method": "GET", "url": "/groups/nope"}
    requests = [*_requests(graph, ["team-sre", "hr", "legal"]), unknown]
    response = graph.post("$batch", json={"requests": requests})
    assert response.status_code == 200
    answers = {r["id"]: r for r in response.json()["responses"]}
    assert [r["id"] for r in response.json()["responses"]] != [r["id"] for r in requests]  # any order
    assert {i: (a["status"], len(a["body"].get("value", []))) for i, a in answers.items()} == {
        "0": (200, 8),
        "1": (200, 9),
        "2": (200, 5),
        "x": (404, 0),
    }
    assert answers["x"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    counts = entra.emulator.counters.as_json()["by_route"]
    assert counts["POST /v1.0/$batch"] == 1
    assert counts["GET $batch /v1.0/groups/{id}/members"] == 3


def test_a_batched_page_links_to_its_next_page(entra: EntraEmulatorServer, graph: Graph) -> None:
    answer = graph.post("$batch", json={"requests": _requests(graph, ["all-staff"])}).json()["responses"][0]
    link = answer["body"]["@odata.nextLink"]
    assert link.startswith(f"{entra.graph_url}/v1.0/groups/") and "$skiptoken=" in link
    members, _ = graph.walk(link)
    assert len(members) == 189 - 100


def test_a_batch_holds_at_most_20_requests_with_unique_ids(graph: Graph) -> None:
    twenty = _requests(graph, ["hr"] * 20)
    assert graph.post("$batch", json={"requests": twenty}).status_code == 200
    response = graph.post("$batch", json={"requests": [*twenty, {**twenty[0], "id": "21"}]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "BadRequest"
    assert graph.post("$batch", json={"requests": [twenty[0], twenty[0]]}).status_code == 400
    assert graph.post("$batch", content=b"not json").status_code == 400


def test_the_throttle_answers_429_with_retry_after(entra_server: Callable[..., EntraEmulatorServer]) -> None:
    server = entra_server(throttle=RateLimit(3, 60, 3))
    with Graph(server) as graph:
        statuses = [graph.get("users?$top=1").status_code for _ in range(4)]
        refused = graph.get("users?$top=1")
    assert statuses == [200, 200, 200, 429]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "TooManyRequests"
    assert "x-ratelimit-limit" not in refused.headers  # Graph sends no quota headers


def test_requests_in_a_batch_are_throttled_one_by_one(
    entra_server: Callable[..., EntraEmulatorServer],
) -> None:
    server = entra_server(throttle=RateLimit(4, 60, 4))
    with Graph(server) as graph:
        response = graph.post(
            "$batch", json={"requests": _requests(graph, ["hr", "legal", "qa", "design", "sales"])}
        )
    assert response.status_code == 200  # the POST took one token, three requests got the rest
    answers = sorted((r["id"], r["status"]) for r in response.json()["responses"])
    assert answers == [("0", 200), ("1", 200), ("2", 200), ("3", 429), ("4", 429)]
    throttled = next(r for r in response.json()["responses"] if r["status"] == 429)
    assert int(throttled["headers"]["Retry-After"]) >= 1


def test_injected_faults_use_graphs_error_body(entra: EntraEmulatorServer, graph: Graph) -> None:
    HTTP.put(
        f"{entra.admin_url}/faults", json=[{"path": "/v1.0/users", "error_rate": 1.0, "statuses": [503]}]
    )
    response = graph.get("users")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "serviceNotAvailable"
    assert graph.get("groups").status_code == 200
