"""Sync leases in the audit store (SQLite and PostgreSQL): one run at a time per target site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from confluence_provisioning.audit import AuditStore, LeaseHeld, RunIdentity, leases

SITE = "confluence_data_center:https://wiki.example.com"
OTHER_SITE = "confluence_data_center:https://wiki2.example.com"
EXPIRY = timedelta(minutes=15)


def run(number: int, dag_id: str = "confluence_provisioning") -> RunIdentity:
    started = datetime(2025, 3, number, 2, 0, 5, tzinfo=UTC)
    return RunIdentity(dag_id, f"scheduled__2025-03-{number:02d}", started, "default.yaml", "", False)


def still_running(dag_id: str, run_id: str) -> bool | None:
    return True


def unknown(dag_id: str, run_id: str) -> bool | None:  # another deployment's run
    return None


def test_a_second_run_is_refused_with_the_holders_run_and_start(store: AuditStore) -> None:
    assert store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running) is None

    for is_running in (still_running, unknown):
        with pytest.raises(LeaseHeld) as held:
            store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=is_running)
        message = str(held.value)
        assert message.startswith(
            f"another sync of {SITE} is in progress: DAG run scheduled__2025-03-01 of "
            "confluence_provisioning, started 2025-03-01 02:00:05 UTC (it last renewed its lease at "
        )
        assert message.endswith(
            "Nothing was written. This run can go ahead once that one ends, or 15 minutes after its "
            "last renewal if it stopped without ending."
        )
    # another site is another lease; the holder taking it again renews it
    assert store.take_lease(OTHER_SITE, run(2), expires_after=EXPIRY, is_running=still_running) is None
    assert store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running) is None


def test_a_lease_whose_holder_airflow_says_has_ended_is_taken_over_at_once(store: AuditStore) -> None:
    store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running)
    asked: list[tuple[str, str]] = []

    def ended(dag_id: str, run_id: str) -> bool | None:
        asked.append((dag_id, run_id))
        return False

    previous = store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=ended)

    assert asked == [("confluence_provisioning", "scheduled__2025-03-01")]
    assert previous is not None and previous.dag_run_id == "scheduled__2025-03-01"
    # the old holder has lost it: its renewal says who holds it now, its release frees nothing
    holder = store.heartbeat_lease(SITE, run(1))
    assert holder is not None and holder.dag_run_id == "scheduled__2025-03-02"
    store.release_lease(SITE, run(1))
    with pytest.raises(LeaseHeld, match="DAG run scheduled__2025-03-02 of"):
        store.take_lease(SITE, run(3), expires_after=EXPIRY, is_running=still_running)


def test_a_lease_not_renewed_for_its_expiry_lapses_and_a_renewed_one_does_not(store: AuditStore) -> None:
    store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running)
    set_heartbeat(store, datetime.now(UTC) - EXPIRY + timedelta(minutes=1))
    with pytest.raises(LeaseHeld):
        store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=unknown)

    set_heartbeat(store, datetime.now(UTC) - EXPIRY - timedelta(seconds=1))
    previous = store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=unknown)

    assert previous is not None and previous.dag_run_id == "scheduled__2025-03-01"
    assert store.heartbeat_lease(SITE, run(2)) is None  # renewed


def test_a_run_waiting_for_approval_keeps_its_lease_until_the_deadline(store: AuditStore) -> None:
    store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running)
    deadline = datetime.now(UTC) + timedelta(hours=24)
    assert store.heartbeat_lease(SITE, run(1), held_until=deadline) is None
    set_heartbeat(store, datetime.now(UTC) - EXPIRY - timedelta(hours=1))  # silent while it waits

    with pytest.raises(LeaseHeld) as held:
        store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=unknown)
    assert f"(it waits for approval until {deadline:%Y-%m-%d %H:%M:%S} UTC)" in str(held.value)
    assert str(held.value).endswith("or 15 minutes after its approval deadline if it stopped without ending.")

    # past the deadline and the expiry it lapses as any lease does
    with store.engine.begin() as conn:
        conn.execute(leases.update().values(held_until=datetime.now(UTC) - EXPIRY - timedelta(seconds=1)))
    previous = store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=unknown)
    assert previous is not None and previous.dag_run_id == "scheduled__2025-03-01"
    assert previous.held_until is not None


def test_a_released_lease_is_free_for_the_next_run(store: AuditStore) -> None:
    store.take_lease(SITE, run(1), expires_after=EXPIRY, is_running=still_running)
    store.release_lease(SITE, run(2))  # not the holder: nothing happens
    with pytest.raises(LeaseHeld):
        store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=still_running)

    store.release_lease(SITE, run(1))

    assert store.take_lease(SITE, run(2), expires_after=EXPIRY, is_running=still_running) is None
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(leases.c.target, leases.c.dag_run_id)).all() == [
            (SITE, "scheduled__2025-03-02")
        ]


def set_heartbeat(store: AuditStore, when: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(leases.update().values(heartbeat_at=when))
