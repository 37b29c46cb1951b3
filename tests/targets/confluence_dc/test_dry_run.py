"""Dry run: reads go out, writes are recorded at the one choke point and never sent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from confluence_provisioning.targets.confluence_dc import RecordedRequest


def test_every_write_is_recorded_not_sent(confluence, make_client) -> None:
    confluence.directory.create_user("alice", "Alice", "alice@example.com", "pw")
    client = make_client(confluence, dry_run=True)

    assert client.users()["id"].tolist() == ["admin", "alice"]  # reads still happen
    results = [
        client.create_group("eng"),
        client.create_user(
            "bob", "Bob", "bob@example.com", password="s3cret-initial", notify_via_email=False
        ),
        client.update_user("alice", full_name="Alice Smith", email=None),
        client.add_member("bob", "eng"),
        client.remove_member("alice", "confluence-users"),
        client.disable_user("alice"),
        client.enable_user("alice"),
        client.delete_user("alice"),
        client.delete_group("eng"),
    ]

    assert results == [None] * 9
    assert client.recorded_requests == [
        RecordedRequest("POST", "/rest/api/admin/group", {"name": "eng"}),
        RecordedRequest(
            "POST",
            "/rest/api/admin/user",
            {"userName": "bob", "fullName": "Bob", "email": "bob@example.com", "notifyViaEmail": False},
        ),
        RecordedRequest("PUT", "/rest/api/admin/user/alice", {"fullName": "Alice Smith"}),
        RecordedRequest("PUT", "/rest/api/user/bob/group/eng"),
        RecordedRequest("DELETE", "/rest/api/user/alice/group/confluence-users"),
        RecordedRequest("PUT", "/rest/api/admin/user/alice/disable"),
        RecordedRequest("PUT", "/rest/api/admin/user/alice/enable"),
        RecordedRequest("DELETE", "/rest/api/admin/user/alice"),
        RecordedRequest("DELETE", "/rest/api/admin/group/eng"),
    ]
    counters = confluence.emulator.counters.as_json()
    assert counters["by_method"] == {"GET": 1}
    assert "s3cret-initial" not in repr(client.recorded_requests)
    assert [user["username"] for user in confluence.state["users"]] == ["admin", "alice"]


def test_recording_is_safe_from_many_threads(confluence, make_client) -> None:
    client = make_client(confluence, dry_run=True, max_in_flight=8)
    names = [f"group-{i:03d}" for i in range(400)]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(client.create_group, names)) == [None] * 400
    assert sorted(request.json["name"] for request in client.recorded_requests) == names
    assert confluence.emulator.counters.as_json()["total"] == 0
