"""Apply a plan: stages in order, each stage concurrent, transient errors retried, every answer a result.

- Stages run one after the other (``Plan.stages()``); within a stage up to
  ``settings.target.max_in_flight`` requests are in flight, from a thread pool over
  the thread-safe client.
- Each request goes through ``call_with_retry`` (429, 5xx and dropped connections only,
  backoff with jitter, Retry-After honoured) and a ``PacingGate`` shared by the run, so
  the first 429s slow every worker down to the server's rate.
- Idempotent: 409 on a create, once a read confirms it, and 404 on a disable, delete or
  removal are "already-true" (see ``apply.actions``), so re-running a plan, finished or
  cut off, ends in the same state.
- Some failures say something about the rest of the run: after a 402 (no licence seat)
  no more users are created; after a 401/403 nothing more is sent; a user or group whose
  creation failed or was skipped gets no memberships, in this stage or a later one
  (``not_created`` reads the earlier stages' results). Those operations are "skipped",
  with the reason: skipped is not failed.
- A circuit breaker shared by the stage's workers (``apply.breaker``) stops sending when
  Confluence is down: the operations not sent yet are "not-attempted", and
  ``ApplyResult.unavailable`` says why, so the task can fail and be retried later.
- Dry run is the client's: it records instead of sending, and the results say
  "skipped-dry-run"; ``ApplyResult.recorded`` lists what would have been sent.
- New users get a random password that is never logged or stored, or Confluence's
  invitation email, as ``settings.target.new_users.notify_via_email`` says.

Every operation gives one result row (``RESULTS``), in plan order. A run with any
failed operation is failed: ``ApplyResult.raise_for_failures()`` says which.

A target carries operations out through a ``Performer``: Data Center's (``OneByOne``) sends
one request per operation; a target that can do many at once (Atlassian Cloud: many members
per PATCH) groups operations into units, each sent at once and answered per operation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from confluence_provisioning import frames
from confluence_provisioning.apply.actions import Outcome, Send, perform
from confluence_provisioning.apply.breaker import CircuitBreaker, ConfluenceUnavailable
from confluence_provisioning.apply.pacing import PacingGate
from confluence_provisioning.plan.operations import Operation, OperationKind, Plan
from confluence_provisioning.plan.text import first_names
from confluence_provisioning.printable import printable_logger
from confluence_provisioning.settings import Settings
from confluence_provisioning.targets.confluence_dc.client import ConfluenceClient, RecordedRequest
from confluence_provisioning.targets.errors import (
    AuthError,
    ConfluenceError,
    NoLicenceSeatError,
    TransientError,
)
from confluence_provisioning.targets.retry import RetryPolicy, call_with_retry

log = printable_logger(__name__)

FAILED = "failed"
SKIPPED = "skipped"
NOT_ATTEMPTED = "not-attempted"  # Confluence was unavailable: the run did not get to it
STATUSES = ("applied", "already-true", FAILED, NOT_ATTEMPTED, "skipped-dry-run", SKIPPED)
UNFINISHED = (FAILED, NOT_ATTEMPTED)  # statuses that fail a run

RESULTS: dict[str, str] = {
    "operation": frames.STRING,  # OperationKind value
    "target": frames.STRING,
    "group": frames.STRING,
    "status": frames.STRING,  # one of STATUSES
    "http_status": "Int64",  # the last answer's status; <NA> when none came
    "attempts": "int64",  # requests sent for it (0 when skipped)
    "duration_ms": "float64",
    "error": frames.STRING,  # why it failed or was skipped
}

OnResult = Callable[[dict[str, Any]], None]
Done = tuple[Operation, dict[str, Any]]  # an operation and its result row
Missing = dict[tuple[str, str], str]  # ("user" | "group", name) -> why it does not exist


class Performer(Protocol):
    """How a target carries out operations: which are sent together, and how one unit is sent."""

    @property
    def dry_run(self) -> bool: ...

    @property
    def recorded_requests(self) -> Sequence[Any]: ...

    def units(self, operations: Sequence[Operation]) -> list[list[Operation]]:
        """The operations, grouped into what is sent together (order kept within a unit)."""
        ...

    def perform(self, unit: Sequence[Operation], send: Send) -> list[Outcome | ConfluenceError]:
        """Carry out one unit through ``send``: each operation's outcome, or the error that failed it
        alone; raises the ConfluenceError that failed the whole unit."""
        ...


class OneByOne:
    """Confluence Data Center: one request per operation."""

    def __init__(self, client: ConfluenceClient, *, notify_via_email: bool) -> None:
        self.client = client
        self.notify_via_email = notify_via_email

    @property
    def dry_run(self) -> bool:
        return self.client.dry_run

    @property
    def recorded_requests(self) -> Sequence[Any]:
        return self.client.recorded_requests

    def units(self, operations: Sequence[Operation]) -> list[list[Operation]]:
        return [[operation] for operation in operations]

    def perform(self, unit: Sequence[Operation], send: Send) -> list[Outcome | ConfluenceError]:
        (operation,) = unit
        return [perform(operation, self.client, send, notify_via_email=self.notify_via_email)]


def _performer(client: ConfluenceClient | Performer, settings: Settings) -> Performer:
    if isinstance(client, ConfluenceClient):
        return OneByOne(client, notify_via_email=settings.target.new_users.notify_via_email)
    return client


class ApplyError(Exception):
    """Some operations failed; the message lists them."""


@dataclass(frozen=True)
class ApplyResult:
    results: pd.DataFrame  # RESULTS, one row per operation, in plan order
    recorded: tuple[RecordedRequest, ...] = ()  # dry run: what would have been sent
    unavailable: str | None = None  # why the circuit breaker stopped sending; None when it did not

    @property
    def failed(self) -> pd.DataFrame:
        """Operations that failed or were not attempted."""
        return self.results[self.results["status"].isin(UNFINISHED)].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        return self.failed.empty

    def counts(self) -> dict[str, dict[str, int]]:
        """{operation: {status: count}} for the operations that occurred."""
        grouped = self.results.groupby(["operation", "status"]).size()
        counts: dict[str, dict[str, int]] = {}
        for (operation, status), count in grouped.items():
            counts.setdefault(operation, {})[status] = int(count)
        return counts

    def summary(self) -> str:
        """``12 operations: 10 applied, 2 failed`` and a line per failed operation (the first 20)."""
        by_status = self.results["status"].value_counts()
        parts = [f"{int(by_status[s])} {s}" for s in STATUSES if s in by_status]
        lines = [f"{len(self.results)} operations: {', '.join(parts) or 'nothing to do'}"]
        failed = self.results[self.results["status"] == FAILED]
        lines += [f"failed: {_described(row)}: {row.error}" for row in failed.head(20).itertuples()]
        if len(failed) > 20:
            lines.append(f"... and {len(failed) - 20} more failed")
        if self.unavailable is not None:  # one line for them all: they share the reason
            lines.append(f"{int(by_status.get(NOT_ATTEMPTED, 0))} not attempted: {self.unavailable}")
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        if not self.ok:
            names = first_names([_described(row) for row in self.failed.itertuples()])
            raise ApplyError(
                f"{len(self.failed)} operations failed or were not attempted ({names})\n{self.summary()}"
            )


def apply(
    plan: Plan,
    client: ConfluenceClient | Performer,
    settings: Settings,
    *,
    retry: RetryPolicy,
    cancel: threading.Event | None = None,
    on_result: OnResult | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyResult:
    """Run every stage of the plan in order; see the module docstring.

    ``cancel``: once set, operations not yet sent are skipped. ``on_result`` hears each
    result row as it is made (from worker threads).
    """
    performer = _performer(client, settings)
    run = _Run(performer, settings, retry, cancel, on_result, sleep, {})
    rows = [row for stage in plan.stages() for row in run.stage(stage.name, stage.operations)]
    return _result(rows, performer, run.breaker)


def apply_operations(
    operations: Sequence[Operation],
    client: ConfluenceClient | Performer,
    settings: Settings,
    *,
    retry: RetryPolicy,
    cancel: threading.Event | None = None,
    on_result: OnResult | None = None,
    sleep: Callable[[float], None] = time.sleep,
    not_created: Missing | None = None,
) -> ApplyResult:
    """Run operations of one stage (or a chunk of one) concurrently: the DAG's mapped tasks.

    ``not_created``: users and groups earlier stages failed or skipped to create
    (``not_created(earlier results)``); operations on them are skipped with that reason.
    """
    performer = _performer(client, settings)
    run = _Run(performer, settings, retry, cancel, on_result, sleep, dict(not_created or {}))
    return _result(run.stage("operations", operations), performer, run.breaker)


def not_created(results: pd.DataFrame) -> Missing:
    """The users and groups that results (RESULTS rows) failed or skipped to create, with why."""
    creates = results[results["operation"].isin(_CREATES) & results["status"].isin(_NOT_DONE)]
    columns = creates[["operation", "target", "status", "error"]]
    return {
        (_CREATES[operation], target): _why_not_created(operation, target, status, error)
        for operation, target, status, error in columns.itertuples(index=False)
    }


NOT_SENT = "not sent: "
_CREATES = {OperationKind.create_user.value: "user", OperationKind.create_group.value: "group"}
_NOT_DONE = frozenset({*UNFINISHED, SKIPPED})


def _why_not_created(operation: str, target: str, status: str, error: object) -> str:
    """``user was not created: HTTP 402: No more licences available...``, from the create's result."""
    text = error if isinstance(error, str) else status
    # the error names the operation and its target already (``create user 'carol': ...``)
    cause = text.removeprefix(f"{operation.replace('_', ' ')} '{target}': ").removeprefix(NOT_SENT)
    return f"{_CREATES[operation]} was not created: {cause}"


def _result(rows: list[dict[str, Any]], performer: Performer, breaker: CircuitBreaker) -> ApplyResult:
    frame = pd.DataFrame.from_records(rows, columns=list(RESULTS)) if rows else frames.empty(RESULTS)
    recorded = tuple(performer.recorded_requests) if performer.dry_run else ()
    return ApplyResult(frames.conform(frame, RESULTS), recorded, breaker.reason)


class _Progress:
    """A stage's progress in the task log: every ``every`` operations or ``seconds``, whichever is first."""

    def __init__(self, stage: str, total: int, *, every: int = 1000, seconds: float = 10.0) -> None:
        self.stage, self.total, self.every, self.seconds = stage, total, every, seconds
        self.done = self.failed = 0
        self.started = self.logged = time.monotonic()
        self._lock = threading.Lock()

    def record(self, status: str) -> None:
        with self._lock:
            self.done += 1
            self.failed += status == FAILED
            now = time.monotonic()
            if self.done == self.total or (self.done % self.every and now - self.logged < self.seconds):
                return  # the stage's summary line reports the end
            self.logged = now
            rate = self.done / max(now - self.started, 1e-9)
            log.info(
                "stage %s: %d of %d operations done, %d failed, %.0f operations/s",
                self.stage,
                self.done,
                self.total,
                self.failed,
                rate,
            )


class _Run:
    """What the stages of one run share: the pacing gate and what later operations must know."""

    def __init__(
        self,
        performer: Performer,
        settings: Settings,
        retry: RetryPolicy,
        cancel: threading.Event | None,
        on_result: OnResult | None,
        sleep: Callable[[float], None],
        missing: Missing,
    ) -> None:
        self.performer = performer
        self.retry = retry
        self.max_in_flight = settings.target.max_in_flight
        self.cancel = cancel or threading.Event()
        self.on_result = on_result
        self.sleep = sleep
        self.gate = PacingGate(retry_after_cap=retry.retry_after_cap, sleep=sleep)
        breaker = settings.target.breaker
        self.breaker = CircuitBreaker(
            consecutive_failures=breaker.consecutive_failures, no_success_seconds=breaker.no_success_seconds
        )
        # real waits between attempts end early when the breaker opens; a test's recorder is kept
        self.retry_sleep = self.breaker.wait if sleep is time.sleep else sleep
        self._lock = threading.Lock()
        self._stopped: str | None = None  # why nothing more is sent
        self._no_seats: str | None = None  # why no more users are created
        self._missing = missing

    def stage(self, name: str, operations: Sequence[Operation]) -> list[dict[str, Any]]:
        if not operations:
            return []
        units = self.performer.units(operations)
        workers = min(self.max_in_flight, len(units))
        progress = _Progress(name, len(operations))

        def unit_rows(unit: Sequence[Operation]) -> list[tuple[Operation, dict[str, Any]]]:
            pairs = self._unit(unit)
            for _, row in pairs:
                progress.record(row["status"])
            return pairs

        with ThreadPoolExecutor(workers, thread_name_prefix="confluence-apply") as pool:
            done = [pair for pairs in pool.map(unit_rows, units) for pair in pairs]
        place = {id(operation): index for index, operation in enumerate(operations)}
        rows = [row for _, row in sorted(done, key=lambda pair: place[id(pair[0])])]
        statuses = pd.Series([row["status"] for row in rows]).value_counts()
        log.info("stage %s: %s", name, ", ".join(f"{n} {s}" for s, n in statuses.items()))
        return rows

    def _unit(self, unit: Sequence[Operation]) -> list[tuple[Operation, dict[str, Any]]]:
        """The unit's rows: what is skipped or not attempted, then the rest sent at once."""
        started = time.monotonic()
        done: list[tuple[Operation, dict[str, Any]]] = []
        sendable = []
        for operation in unit:
            reason = self._reason_to_skip(operation)
            if self.breaker.reason is not None:
                text = f"not attempted: {self.breaker.reason}"
                done.append((operation, _row(operation, NOT_ATTEMPTED, None, 0, started, text)))
            elif reason is not None:
                done.append((operation, _row(operation, SKIPPED, None, 0, started, f"{NOT_SENT}{reason}")))
            else:
                sendable.append(operation)
        if sendable:
            done += self._send(sendable, started)
        for operation, row in done:
            self._learn(operation, row)
            if self.on_result is not None:
                self.on_result(row)
        return done

    def _send(self, unit: list[Operation], started: float) -> list[tuple[Operation, dict[str, Any]]]:
        attempts = 0

        def send(request: Callable[[], int | None]) -> int | None:
            nonlocal attempts
            try:
                answer, attempts = call_with_retry(
                    lambda: self.breaker.call(lambda: self.gate.call(request)),
                    self.retry,
                    sleep=self.retry_sleep,
                    on_retry=_log_retry,
                )
            except ConfluenceUnavailable as error:
                attempts = error.attempts - 1  # the last one was not sent
                raise
            except ConfluenceError as error:
                attempts = error.attempts
                raise
            return answer

        def rows(
            status: str, http_status: int | None, error: str | None
        ) -> list[tuple[Operation, dict[str, Any]]]:
            return [(op, _row(op, status, http_status, attempts, started, error)) for op in unit]

        try:
            outcomes = self.performer.perform(unit, send)
        except ConfluenceUnavailable as error:
            reason = error.server_message
            if not attempts:
                return rows(NOT_ATTEMPTED, None, f"not attempted: {reason}")
            # cut short between two attempts: it may have landed, the rerun finds out
            return rows(FAILED, None, f"stopped after {attempts} attempts: {reason}")
        except ConfluenceError as error:
            self._learn_from_error(error)
            log.warning("%s failed: %s", _unit_text(unit), error)
            return rows(FAILED, error.status, str(error))
        except Exception as error:  # a bug must not lose the other results of the stage
            log.exception("%s failed unexpectedly", _unit_text(unit))
            return rows(FAILED, None, f"{type(error).__name__}: {error}")
        done = []
        for operation, outcome in zip(unit, outcomes, strict=True):
            if isinstance(outcome, ConfluenceError):
                self._learn_from_error(outcome)
                log.warning("%s failed: %s", operation.describe(), outcome)
                row = _row(operation, FAILED, outcome.status, 0, started, str(outcome))
            else:
                row = _row(operation, outcome.status, outcome.http_status, attempts, started, None)
            done.append((operation, row))
        return done

    def _reason_to_skip(self, operation: Operation) -> str | None:
        if self.cancel.is_set():
            return "the run was cancelled before this operation was sent"
        with self._lock:
            if self._stopped is not None:
                return self._stopped
            if operation.kind is OperationKind.create_user and self._no_seats is not None:
                return self._no_seats
            if operation.kind is OperationKind.add_membership:
                return self._missing.get(("user", operation.target)) or self._missing.get(
                    ("group", operation.group or "")
                )
        return None

    def _learn_from_error(self, error: ConfluenceError) -> None:
        """What a refusal means for every operation still to come."""
        with self._lock:
            if isinstance(error, AuthError):
                self._stopped = f"Confluence refused the credentials earlier in this run ({error})"
            elif isinstance(error, NoLicenceSeatError):
                self._no_seats = (
                    f"no licence seat is left ({error}); free seats or extend the licence, then run again"
                )

    def _learn(self, operation: Operation, row: dict[str, Any]) -> None:
        """A create that failed or was skipped: what depends on it is skipped too."""
        kind = operation.kind.value
        if kind in _CREATES and row["status"] in _NOT_DONE:
            why = _why_not_created(kind, operation.target, row["status"], row["error"])
            with self._lock:
                self._missing[_CREATES[kind], operation.target] = why


def _row(
    operation: Operation,
    status: str,
    http_status: int | None,
    attempts: int,
    started: float,
    error: str | None,
) -> dict[str, Any]:
    return {
        "operation": operation.kind.value,
        "target": operation.target,
        "group": operation.group,
        "status": status,
        "http_status": http_status,
        "attempts": attempts,
        "duration_ms": round((time.monotonic() - started) * 1000, 3),
        "error": error,
    }


def _unit_text(unit: Sequence[Operation]) -> str:
    first = unit[0].describe()
    return first if len(unit) == 1 else f"{first} and {len(unit) - 1} more sent with it"


def _described(row: Any) -> str:
    group = row.group if isinstance(row.group, str) else None
    return Operation(OperationKind(row.operation), row.target, group).describe()


def _log_retry(error: TransientError, attempt: int, delay: float) -> None:
    log.info("%s; retrying in %.2f s (attempt %d)", error, delay, attempt)
