"""The plugin's routes through Airflow's API server, against a populated audit store (SQLite, PostgreSQL)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.ui.history_site import (
    CAROL_ERROR,
    DAG_ID,
    DAVE_HELD,
    ENGINEERING_IN,
    ENGINEERING_OUT,
    OTHER_DAG_ID,
    QA_IN,
    RUN_1,
    RUN_2,
    RUN_3,
    HistorySite,
)

PREFIX = "/provisioning"


def get(client: TestClient, token: str | None, path: str, **params: object):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(PREFIX + path, headers=headers, params=params, follow_redirects=False)


def plugin_paths(client: TestClient, history: HistorySite) -> list[str]:
    """Every route of the plugin's app, with its path parameters filled in."""
    mount = next(r for r in client.app.routes if isinstance(r, Mount) and r.path == PREFIX)
    values = {"run_id": str(history.ids[RUN_2]), "username": "alice", "name": "qa"}
    paths = []
    for route in mount.app.routes:
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: values[m.group(1)], route.path)
        paths.append(path)
    return paths


def test_every_route_refuses_a_request_without_a_session(
    airflow_api: TestClient, history: HistorySite
) -> None:
    paths = plugin_paths(airflow_api, history)
    assert len(paths) >= 14
    for path in paths:
        answer = get(airflow_api, None, path, q="alice", dag_id=DAG_ID, run_id=RUN_2)
        assert answer.status_code == 401, path
        assert "alice" not in answer.text
        forged = get(airflow_api, "not-a-token", path, q="alice", dag_id=DAG_ID, run_id=RUN_2)
        assert forged.status_code in (401, 403), path


def test_a_user_who_may_read_no_dag_is_refused_everywhere(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    for path in plugin_paths(airflow_api, history):
        answer = get(airflow_api, tokens["nobody"], path, q="alice", dag_id=DAG_ID, run_id=RUN_2)
        assert answer.status_code == 403, path
        assert answer.json() == {"detail": "You may not read any DAG whose provisioning history is kept here"}


def test_a_user_sees_only_the_history_of_the_dags_they_may_read(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    token = tokens["cloud-viewer"]
    runs = get(airflow_api, token, "/api/runs").json()
    assert [run["dag_run_id"] for run in runs["runs"]] == [RUN_3]
    assert get(airflow_api, token, f"/api/runs/{history.ids[RUN_2]}").status_code == 403
    assert get(airflow_api, token, f"/runs/{history.ids[RUN_2]}/report.html").status_code == 403
    assert get(airflow_api, token, "/dag-run", dag_id=DAG_ID, run_id=RUN_2).status_code == 403
    assert get(airflow_api, token, "/api/people/alice").json()["timeline"] == []
    assert get(airflow_api, token, "/api/people/alice").json()["pushed"] is None
    # "e" is in alice, engineering and the others too: only the readable DAG's names come back
    assert get(airflow_api, token, "/api/search", q="e").json() == {
        "query": "e",
        "users": ["erin"],
        "groups": ["sales"],
    }
    assert [row["dag_run_id"] for row in get(airflow_api, token, "/api/people/erin").json()["timeline"]] == [
        RUN_3
    ]
    # and the DAG it may not read is not let in through the filter
    assert get(airflow_api, token, "/api/runs", dag_id=DAG_ID).json()["runs"] == []


def test_runs_are_listed_newest_first_with_counts_rejects_and_duration(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    page = get(airflow_api, tokens["viewer"], "/api/runs").json()
    assert page["total"] == 3 and page["pages"] == 1
    assert [run["dag_run_id"] for run in page["runs"]] == [RUN_3, RUN_2, RUN_1]
    second = page["runs"][1]
    assert second == {
        "id": history.ids[RUN_2],
        "dag_id": DAG_ID,
        "dag_run_id": RUN_2,
        "started_at": "2026-12-01T02:00:00+00:00",
        "ended_at": "2026-12-01T02:00:42+00:00",
        "duration_seconds": 42.0,
        "rules_file": "default.yaml",
        "source": "ldap (ldap_default)",
        "target": "confluence_data_center (confluence_default)",
        "dry_run": False,
        "status": "failed",
        "operations": {
            "add_membership": {"applied": 1},
            "create_user": {"failed": 1},
            "remove_membership": {"applied": 1},
        },
        "total": 3,
        "failed": 1,
        "rejects": 2,
        "error": "1 operation failed: create user carol",
    }
    assert page["runs"][0]["dry_run"] is True and page["runs"][2]["rejects"] == 1


def test_runs_are_paged_and_filtered_by_status_date_and_dag(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    token = tokens["viewer"]

    def ids(**params: object) -> list[str]:
        return [run["dag_run_id"] for run in get(airflow_api, token, "/api/runs", **params).json()["runs"]]

    second = get(airflow_api, token, "/api/runs", page_size=2, page=2).json()
    assert (second["total"], second["pages"], [r["dag_run_id"] for r in second["runs"]]) == (3, 2, [RUN_1])
    assert ids(status="failed") == [RUN_2]
    assert ids(status="success") == [RUN_3, RUN_1]
    assert ids(date_from="2026-12-01") == [RUN_3, RUN_2]
    assert ids(date_to="2026-11-30") == [RUN_1]
    assert ids(dag_id=OTHER_DAG_ID) == [RUN_3]
    bad = get(airflow_api, token, "/api/runs", date_from="yesterday")
    assert bad.status_code == 400
    assert bad.json() == {"detail": "date_from='yesterday' is not a date: use YYYY-MM-DD"}


def test_a_run_shows_its_failures_with_reasons_rejects_and_guards(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    run = get(airflow_api, tokens["viewer"], f"/api/runs/{history.ids[RUN_2]}").json()
    assert run["failures"] == [
        {
            "operation": "create_user",
            "target": "carol",
            "group": None,
            "status": "failed",
            "http_status": 400,
            "attempts": 1,
            "duration_ms": 5.0,
            "error": CAROL_ERROR,
            "reason": "new in the directory",
        }
    ]
    assert [row["reason"] for row in run["rejects_shown"]] == [
        "no mail attribute",
        "two entries with the login dave",
    ]
    assert run["guards"] == [
        {"guard": "memberships_removed", "planned": "1", "limit": "500", "outcome": "within the limit"}
    ]
    assert run["report_available"] is True
    assert get(airflow_api, tokens["viewer"], "/api/runs/999999").status_code == 404


def test_the_report_is_served_as_written_and_may_run_no_script(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    framed = get(airflow_api, tokens["viewer"], f"/runs/{history.ids[RUN_2]}/report")
    assert f'<iframe id="report" src="{PREFIX}/runs/{history.ids[RUN_2]}/report.html"' in framed.text
    answer = get(airflow_api, tokens["viewer"], f"/runs/{history.ids[RUN_2]}/report.html")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["content-security-policy"].startswith("sandbox;")
    assert "Confluence sync" in answer.text and CAROL_ERROR in answer.text


def test_a_pruned_report_is_a_clear_404(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    run = history.store.get_run(history.ids[RUN_1])
    from airflow.sdk import ObjectStoragePath

    report = ObjectStoragePath(run.report_uri)
    saved = report.read_text()
    report.unlink()
    try:
        answer = get(airflow_api, tokens["viewer"], f"/runs/{run.id}/report.html")
        assert answer.status_code == 404
        assert "run folder was pruned" in answer.json()["detail"]
        assert get(airflow_api, tokens["viewer"], f"/api/runs/{run.id}").json()["report_available"] is False
    finally:
        report.write_text(saved)


def test_the_extra_links_address_redirects_to_the_runs_page(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    answer = get(airflow_api, tokens["viewer"], "/dag-run", dag_id=DAG_ID, run_id=RUN_2)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{PREFIX}/runs/{history.ids[RUN_2]}"
    assert get(airflow_api, tokens["viewer"], "/dag-run", dag_id=DAG_ID, run_id="nope").status_code == 404


def test_search_finds_users_by_name_or_email_and_groups(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    token = tokens["viewer"]
    assert get(airflow_api, token, "/api/search", q="ALI").json() == {
        "query": "ALI",
        "users": ["alice"],
        "groups": [],
    }
    assert get(airflow_api, token, "/api/search", q="bob@example").json()["users"] == ["bob"]
    assert get(airflow_api, token, "/api/search", q="engin").json()["groups"] == ["engineering"]
    # LIKE wildcards are searched for, not obeyed
    assert get(airflow_api, token, "/api/search", q="%").json() == {"query": "%", "users": [], "groups": []}


def test_a_user_moved_between_groups_shows_both_operations_and_why(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    alice = get(airflow_api, tokens["viewer"], "/api/people/alice").json()
    assert [
        (row["dag_run_id"], row["operation"], row["group"], row["reason"]) for row in alice["timeline"]
    ] == [
        (RUN_2, "remove_membership", "engineering", ENGINEERING_OUT),
        (RUN_2, "add_membership", "qa", QA_IN),
        (RUN_1, "add_membership", "engineering", ENGINEERING_IN),
        (RUN_1, "create_user", None, "new in the directory"),
    ]
    why = alice["explanation"]
    assert why["as_of"]["dag_run_id"] == RUN_2
    assert why["scope"] == "in users.include" and why["held"] is None
    assert why["groups"] == [
        {"group": "qa", "member": True, "why": "manual mapping from 'qa'"},
        {
            "group": "engineering",
            "member": False,
            "why": f"{ENGINEERING_OUT} (since run {RUN_2}, 2026-12-01 02:00)",
        },
    ]
    assert alice["pushed"]["email"] == "alice@example.org"
    dave = get(airflow_api, tokens["viewer"], "/api/people/dave").json()
    assert dave["explanation"]["held"] == DAVE_HELD and dave["timeline"] == []


def test_a_group_shows_its_rule_and_its_timeline(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    engineering = get(airflow_api, tokens["viewer"], "/api/groups/engineering").json()
    assert engineering["managed_by_sync"] is True
    assert [(row["operation"], row["target"]) for row in engineering["timeline"]] == [
        ("remove_membership", "alice"),
        ("add_membership", "alice"),
        ("create_group", "engineering"),
    ]
    assert engineering["explanation"]["members"] == 0


def test_the_pages_render_and_escape_what_they_show(
    airflow_api: TestClient, tokens: dict[str, str], history: HistorySite
) -> None:
    token = tokens["viewer"]
    runs = get(airflow_api, token, "/")
    assert runs.status_code == 200 and "default-src 'none'" in runs.headers["content-security-policy"]
    assert runs.text.count('class="run"') == 3 and "Operations per run" in runs.text
    run = get(airflow_api, token, f"/runs/{history.ids[RUN_2]}").text
    assert (
        CAROL_ERROR in run
        and f'href="/dags/{DAG_ID}/runs/scheduled__2026-12-01T02%3A00%3A00%2B00%3A00"' in run
    )
    alice = get(airflow_api, token, "/people/alice").text
    assert "not in engineering" in alice and ENGINEERING_OUT.replace("'", "&#39;") in alice
    hostile = get(airflow_api, token, "/people/<img src=x onerror=alert(1)>").text
    assert "<img" not in hostile and "&lt;img src=x onerror=alert(1)&gt;" in hostile
    assert "alice" in get(airflow_api, token, "/search", q="ali").text
