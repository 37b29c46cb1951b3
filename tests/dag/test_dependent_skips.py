"""A user Confluence refused to create gets no membership requests in the next stage: they are skipped,
with the cause, in the history and the report, instead of failing one by one with a 404."""

from __future__ import annotations

from pathlib import Path

from tests.dag.conftest import Site
from tests.dag.test_dag_runs import confluence_state, desired_state, operations, report_files, task_states

SEATS = 6  # the admin and five more
MEMBERSHIP_PUT = "PUT /rest/api/user/{username}/group/{groupName}"


def test_memberships_of_users_refused_a_licence_seat_are_skipped_in_the_later_stage(
    site: Site, rules_dir: Path
) -> None:
    desired, _ = desired_state(rules_dir)
    site.confluence.emulator.update_settings({"seats": SEATS})
    before = confluence_state(site.confluence)
    site.confluence.emulator.counters.clear()

    dag_run = site.run()

    assert dag_run.state == "failed"
    states = task_states(dag_run)
    assert states["apply.create_and_update_users"][0] == states["apply.add_memberships"][0] == "success"
    after = confluence_state(site.confluence)
    created = after["users"].keys() - before["users"].keys()
    assert len(created) == SEATS - 1
    active = set(desired.users.loc[desired.users["active"], "username"])
    refused = active - created
    wanted = set(zip(desired.memberships["username"], desired.memberships["group"], strict=True))
    # only the created users' memberships were sent, each once, and none was answered 404
    counters = site.confluence.emulator.counters.as_json()
    sent = {(user, group) for user, group in wanted if user in created}
    assert counters["by_route"][MEMBERSHIP_PUT] == len(sent)
    assert "404" not in counters["by_status"]
    assert {(group, user) for user, group in sent} == after["memberships"] - before["memberships"]

    done = operations(site, dag_run)
    memberships = done[done["operation"] == "add_membership"]
    skipped = memberships[memberships["status"] == "skipped"]
    assert set(zip(skipped["target"], skipped["group"], strict=True)) == {
        (user, group) for user, group in wanted if user in refused
    }
    assert set(memberships.loc[memberships["status"] != "skipped", "status"]) == {"applied"}
    licence = f"No more licences available: the licence allows {SEATS} users"
    for error in skipped["error"]:
        assert error.startswith("not sent: user was not created: ") and licence in error
    # the history: one create failed with the 402, the rest were not sent; skipped is not failed
    creates = done[done["operation"] == "create_user"]
    assert set(creates.loc[creates["status"] == "failed", "http_status"]) == {402}
    record = site.record(dag_run)
    failed = int((done["status"] == "failed").sum())
    assert record.error.startswith(f"{failed} operation{'s' if failed > 1 else ''} failed: create user ")
    html, _, summary = report_files(site, dag_run)
    assert summary["by_status"]["skipped"] == len(skipped) + len(refused) - failed
    assert f"<h2>Skipped ({summary['by_status']['skipped']})</h2>" in html
    assert "not sent: user was not created: HTTP 402: " + licence in html
