"""One sync at a time per target site: the run's lease in the audit store.

``plan`` takes it before it writes any chunk, ``approve`` holds it until its answer's
deadline (``hold_for_approval``), each apply task renews it while it sends, and
``report`` releases it, whether the run failed or not. A second run of
the same site (another DAG, another deployment, a manual run beside a scheduled
one) stops in its ``plan`` naming the holder. A lease is taken over at once when
Airflow says its holder's DAG run is no longer running, and lapses
``run.lease_expiry_minutes`` after its last renewal, so a killed worker or an audit
store down at the end of a run never blocks the next run for long. A dry run
writes nothing and takes no lease.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from airflow.sdk.exceptions import AirflowFailException

from confluence_provisioning.audit import LeaseHeld
from confluence_provisioning.pipeline.context import RunContext
from confluence_provisioning.printable import printable_logger
from confluence_provisioning.targets import site_of

log = printable_logger("confluence_provisioning.pipeline")

RUNNING_STATES = frozenset({"queued", "running"})


def take(run: RunContext) -> None:
    """Hold the run's target, or fail the task (not retried) naming the run that holds it."""
    if run.params.dry_run:
        return
    target = site_of(run.settings)
    with run.audit_store() as store:
        try:
            previous = store.take_lease(
                target, run.identity(), expires_after=_expiry(run), is_running=dag_run_running
            )
        except LeaseHeld as held:
            raise AirflowFailException(str(held)) from None
    if previous is not None:
        log.warning(
            "Took over the lease of %s from DAG run %s of %s (no longer running, or silent since %s)",
            target,
            previous.dag_run_id,
            previous.dag_id,
            f"{previous.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC",
        )
    log.info("This run holds the lease of %s until its report", target)


@contextmanager
def renewed(run: RunContext) -> Iterator[None]:
    """Renew the lease now and every third of its expiry while the block runs.

    A lease another run holds now (ours lapsed and was taken over) fails the task: two
    runs must not write to one site. An audit store that cannot be reached is logged and
    the work goes on: the lease then lapses on its own.
    """
    if run.params.dry_run:
        yield
        return
    target = site_of(run.settings)
    _renew(run, target)
    stop = threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(_expiry(run).total_seconds() / 3):
            try:
                _renew(run, target)
            except AirflowFailException as lost:
                log.error("%s", lost)

    renewer = threading.Thread(target=keep_renewing, name="lease-renewal", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()


def hold_for_approval(run: RunContext, deadline: datetime) -> None:
    """Keep the lease while the run waits for approval, up to ``deadline`` (the answer's timeout).

    The wait runs in Airflow's triggerer, where nothing of this run renews the lease; without
    this it would lapse after ``run.lease_expiry_minutes`` and another run could take the site
    and change it under the plan being approved. Holding it for the whole approval window is
    the simplest safe choice: the site stays this run's until the answer (a run Airflow says
    has ended is still taken over at once), and the first apply task renews it as usual.
    Fails the task, before anyone is asked, when another run holds the site now.
    """
    if run.params.dry_run:
        return
    target = site_of(run.settings)
    _renew(run, target, held_until=deadline)
    log.info(
        "This run holds the lease of %s while it waits for approval (until %s)",
        target,
        f"{deadline:%Y-%m-%d %H:%M:%S} UTC",
    )


def release(run: RunContext) -> None:
    """Free the target if this run holds it; never raises (the lease would lapse anyway)."""
    if run.params.dry_run:
        return
    try:
        target = site_of(run.settings)
        with run.audit_store() as store:
            store.release_lease(target, run.identity())
        log.info("Released the lease of %s", target)
    except Exception:
        log.exception(
            "Could not release the lease: it lapses %g minutes after its last renewal", _minutes(run)
        )


def dag_run_running(dag_id: str, run_id: str) -> bool | None:
    """Whether Airflow's metadata says the DAG run is still running; None when it cannot say."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    try:
        state = RuntimeTaskInstance.get_dagrun_state(dag_id, run_id)
    except Exception as error:  # a run of another deployment, or no Airflow to ask
        log.info("Airflow cannot say whether DAG run %s of %s is running: %s", run_id, dag_id, error)
        return None
    return str(state) in RUNNING_STATES


def _renew(run: RunContext, target: str, held_until: datetime | None = None) -> None:
    try:
        with run.audit_store() as store:
            holder = store.heartbeat_lease(target, run.identity(), held_until=held_until)
    except Exception:
        log.exception("Could not renew the lease of %s (the audit store)", target)
        return
    if holder is not None:
        raise AirflowFailException(
            f"this run no longer holds the lease of {target}: DAG run {holder.dag_run_id} of "
            f"{holder.dag_id} took it over after this run's lease lapsed; stopping before writing"
        )


def _expiry(run: RunContext) -> timedelta:
    return timedelta(minutes=_minutes(run))


def _minutes(run: RunContext) -> float:
    return run.settings.run.lease_expiry_minutes
