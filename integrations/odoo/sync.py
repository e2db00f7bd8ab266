"""Sending attendance logs to Odoo as ``hr.attendance`` records (the configuration: :mod:`.config`).

How a sync run works (001 "Odoo Sync Tasks"):

- One run at a time, site-wide (a PostgreSQL advisory lock: released even when the worker dies).
- Logs go in batches of 100, earliest check-in first: per batch one ``search_read`` finds the employees
  (``hr.employee`` whose configured match field, ``barcode`` by default, equals our ``employee_id``) and one
  finds the attendances Odoo already has for them at those check-ins; then each log is created or written.
- Idempotent: a log that has its ``odoo_attendance_id`` is *written*; one without is first looked up by
  employee and check-in, and an existing record is adopted, so a run that died after Odoo created a record
  but before the log was saved does not create it twice. A create is never blindly repeated: a retry looks
  again first. Each log is saved as soon as Odoo answered for it, so a crash loses at most the one in flight.
- Odoo's refusals (its ValidationError for an overlapping check-in, a missing employee...) mark that log
  ``failed`` with Odoo's message and the run goes on. Transport failures are retried with backoff behind the
  ``odoo`` circuit breaker; when they persist the run stops, the log keeps ``pending`` with the error, and
  the Celery task tries again later.
- Logs without a check-in (status ``missed``) are not sent: ``hr.attendance`` needs a check-in and an
  absence is not an attendance. They are left out of the counters too.
- ``failed`` logs are not retried by the schedule (Odoo would refuse the same data again); they are sent
  again on request
  (``POST /odoo/sync`` with ``retryFailed`` or ``recordIds``).
- After each batch the config's ``pending_count`` / ``failure_count`` are recomputed from the logs; more
  failed logs than ``failure_alert_threshold`` raise an alert, and an Odoo that stays unreachable another.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import notifications
from accounts.choices import Severity
from attendance.choices import OdooStatus
from attendance.models import AttendanceLog
from cameras import alerting
from cameras.choices import AlertLevel
from config.api.contracts import ApiError, FieldError, Kind
from config.resilience import CircuitOpen, OutboundError, backoff_delay
from integrations.models import (
    OdooConfig,
    OdooConnectionStatus,
    OdooEmployeeMatch,
    OdooSyncAction,
    OdooSyncLog,
    OdooSyncResult,
)
from integrations.odoo.client import OdooAuthenticationFailed, OdooClient, OdooError, describe_failure, to_odoo_datetime
from integrations.odoo.config import (
    EMPLOYEE,
    OdooNotConfigured,
    breaker,
    client_for,
    company_domain,
    refresh_counters,
)

logger = logging.getLogger("argus.integrations.odoo_sync")

BATCH_SIZE = 100
ATTENDANCE = "hr.attendance"
FAILURES_ALERT = "odoo:sync-failures"
UNREACHABLE_ALERT = "odoo:unreachable"
# pg_advisory_lock key of the sync run ("ODOO").
_RUN_LOCK = 0x4F444F4F


class SyncBusy(Exception):
    """Another sync run holds the lock."""


# --- Asking for a run --------------------------------------------------------------------------------


def checked_sync_request(record_ids: list[str] | None) -> list[str] | None:
    """The logs a requested run is to send (None: the pending ones), each once, refused before anything is
    queued: :class:`OdooNotConfigured` without a configuration, a validation error for unknown log ids."""
    if not OdooConfig.load().is_configured:
        raise OdooNotConfigured()
    if record_ids is None:
        return None
    record_ids = list(dict.fromkeys(record_ids))
    known = set(AttendanceLog.objects.filter(pk__in=record_ids).values_list("pk", flat=True))
    unknown = [pk for pk in record_ids if pk not in known]
    if unknown:
        raise ApiError(
            Kind.VALIDATION,
            f"Unknown attendance logs: {', '.join(unknown[:20])}",
            field_errors=[FieldError("record_ids", f"unknown attendance log {pk}") for pk in unknown[:20]],
        )
    return record_ids


# --- The sync run ------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    run_id: str
    sent: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    failed: int = 0
    aborted: str = ""  # why the run stopped before the end
    retry_later: bool = False  # stopped by a transient failure: try the run again
    retry_at: float | None = None  # epoch seconds, when the circuit lets calls through again
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def synced(self) -> int:
        return self.created + self.updated + self.adopted

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "synced": self.synced}


class _Abort(Exception):
    """Stop the run: Odoo cannot be reached (or refused us as a whole)."""


@contextmanager
def _run_lock() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_RUN_LOCK])
        if not cursor.fetchone()[0]:
            raise SyncBusy("another Odoo sync run is in progress")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_RUN_LOCK])
        except Exception:  # a lost connection released the lock already
            logger.warning("could not release the Odoo sync lock explicitly", exc_info=True)


def sync_attendance(
    record_ids: list[str] | None = None,
    *,
    retry_failed: bool = False,
    run_id: str | None = None,
    client: OdooClient | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SyncReport:
    """Send attendance logs to Odoo: the pending ones (and failed ones with ``retry_failed``), or exactly
    ``record_ids`` whatever their status (a synced log is written again). Raises :class:`SyncBusy` when a
    run is already going and :class:`OdooNotConfigured` without a configuration."""
    config = OdooConfig.load()
    if not config.is_configured:
        raise OdooNotConfigured()
    report = SyncReport(run_id=run_id or uuid.uuid4().hex)
    with _run_lock():
        own = client is None
        if client is None:
            client = client_for(config, **({"sleep": sleep} if sleep else {}))
        try:
            _Run(config, client, report).execute(record_ids, retry_failed)
        finally:
            if own:
                client.close()
    return report


def retry_countdown(retries: int, report: SyncReport) -> float:
    """Seconds before the task tries a stopped run again: 1, 2, 4... minutes, at least until the circuit
    lets calls through."""
    delay = backoff_delay(retries + 1, "exponential", 60_000, 30 * 60_000)
    if report.retry_at:
        delay = max(delay, report.retry_at - time.time() + 1)
    return delay


class _Run:
    def __init__(self, config: OdooConfig, client: OdooClient, report: SyncReport) -> None:
        self.config = config
        self.client = client
        self.report = report
        self.match_field = config.employee_match_field or OdooEmployeeMatch.BARCODE

    # --- driving ---

    def execute(self, record_ids: list[str] | None, retry_failed: bool) -> None:
        try:
            self._authenticate()
            for batch in self._batches(record_ids, retry_failed):
                try:
                    self._send_batch(batch)
                finally:
                    self.report.counts = refresh_counters()
        except _Abort:
            pass
        except Exception as exc:  # a bug or a lost database: say so on the config, then let it surface
            self.report.aborted = f"Sync failed: {type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            self._finish()

    def _batches(self, record_ids: list[str] | None, retry_failed: bool) -> Iterator[list[AttendanceLog]]:
        queryset = AttendanceLog.objects.filter(check_in__isnull=False)
        if record_ids is not None:
            queryset = queryset.filter(pk__in=record_ids)
        else:
            statuses = [OdooStatus.PENDING, OdooStatus.FAILED] if retry_failed else [OdooStatus.PENDING]
            queryset = queryset.filter(odoo_status__in=statuses)
        queryset = queryset.order_by("check_in", "pk").only(
            "pk", "employee_id", "name", "check_in", "check_out", "odoo_attendance_id", "odoo_status"
        )
        after: tuple | None = None
        while True:
            page = queryset
            if after is not None:  # keyset paging: the set shrinks as logs are synced
                page = page.filter(Q(check_in__gt=after[0]) | Q(check_in=after[0], pk__gt=after[1]))
            batch = list(page[:BATCH_SIZE])
            if not batch:
                return
            yield batch
            after = (batch[-1].check_in, batch[-1].pk)

    def _authenticate(self) -> None:
        try:
            self.client.authenticate()
        except (OdooAuthenticationFailed, OdooError, OutboundError) as exc:
            message = self.client.scrub(describe_failure(exc))
            self._log(None, OdooSyncResult.FAILURE, message, OdooSyncAction.AUTHENTICATE)
            self._stop(exc, message)

    def _stop(self, exc: BaseException, message: str) -> None:
        self.report.aborted = message
        transient = isinstance(exc, OutboundError) and exc.retryable
        self.report.retry_later = transient
        if isinstance(exc, CircuitOpen):
            self.report.retry_at = exc.retry_at
        raise _Abort from exc

    def _finish(self) -> None:
        report = self.report
        counts = report.counts or refresh_counters()
        report.counts = counts
        fields: dict[str, Any] = {"updated_at": timezone.now()}
        if report.aborted:
            fields.update(status=OdooConnectionStatus.ERROR, last_error=report.aborted[:2000])
        else:
            fields.update(status=OdooConnectionStatus.CONNECTED, last_error="", last_sync=timezone.now())
        OdooConfig.objects.filter(pk=self.config.pk).update(**fields)
        self._alerts(counts)
        if report.sent:
            level = Severity.WARNING if report.failed or report.aborted else Severity.INFO
            message = f"{report.synced} attendance logs synced, {report.failed} failed"
            if report.aborted:
                message += f"; stopped: {report.aborted}"
            notifications.notify(title="Odoo Sync Complete", message=message, level=level, link="/attendance")
        logger.info(
            "odoo sync run %s: sent %s, created %s, updated %s, adopted %s, failed %s%s",
            report.run_id, report.sent, report.created, report.updated, report.adopted, report.failed,
            f", stopped: {report.aborted}" if report.aborted else "",
        )  # fmt: skip

    def _alerts(self, counts: dict[str, int]) -> None:
        threshold = self.config.failure_alert_threshold
        if counts["failed"] > threshold:
            alerting.raise_once(
                source=FAILURES_ALERT,
                title="Odoo sync failures",
                description=f"{counts['failed']} attendance logs failed to sync to Odoo (alert threshold "
                f"{threshold}). See the Odoo sync log for Odoo's reasons.",
                level=AlertLevel.HIGH,
                tags=["odoo"],
            )
        else:
            alerting.resolve(FAILURES_ALERT, note=f"Odoo sync failures back to {counts['failed']}")
        if self.report.retry_later and breaker().state != "closed":
            alerting.raise_once(
                source=UNREACHABLE_ALERT,
                title="Odoo unreachable",
                description=f"The Odoo sync stopped: {self.report.aborted}",
                level=AlertLevel.HIGH,
                tags=["odoo"],
            )
        elif not self.report.aborted:
            alerting.resolve(UNREACHABLE_ALERT, note="Odoo answers again")

    # --- one batch ---

    def _send_batch(self, batch: list[AttendanceLog]) -> None:
        try:
            employees = self._employees({log.employee_id for log in batch})
            existing = self._existing(batch, employees)
        except OdooError as exc:  # e.g. the match field does not exist: nothing in this run can work
            message = self.client.scrub(describe_failure(exc))
            for log in batch:
                self._failed(log, message, OdooSyncAction.MATCH)
            self._stop(exc, message)
        except OutboundError as exc:
            message = describe_failure(exc)
            self._log(None, OdooSyncResult.FAILURE, message, OdooSyncAction.MATCH)
            self._stop(exc, message)
        for log in batch:
            self._send_one(log, employees, existing)

    def _employees(self, employee_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        domain = [(self.match_field, "in", sorted(employee_ids)), *company_domain(self.config.company)]
        rows = self.client.search_read(EMPLOYEE, domain, ["id", "name", self.match_field])
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            found[str(row.get(self.match_field))].append(row)
        return found

    def _existing(
        self, batch: list[AttendanceLog], employees: dict[str, list[dict[str, Any]]]
    ) -> dict[tuple[int, str], dict[str, Any]]:
        """Attendances Odoo already has at our check-ins, for logs that do not know their record yet."""
        employee_ids, check_ins = set(), set()
        for log in batch:
            matches = employees.get(log.employee_id, [])
            if log.odoo_attendance_id is None and len(matches) == 1:
                employee_ids.add(matches[0]["id"])
                check_ins.add(to_odoo_datetime(log.check_in))
        if not employee_ids:
            return {}
        domain = [("employee_id", "in", sorted(employee_ids)), ("check_in", "in", sorted(check_ins))]
        rows = self.client.search_read(ATTENDANCE, domain, ["id", "employee_id", "check_in", "check_out"])
        return {(_many2one_id(row["employee_id"]), row["check_in"]): row for row in rows}

    def _find(self, employee_id: int, check_in: str) -> dict[str, Any] | None:
        domain = [("employee_id", "=", employee_id), ("check_in", "=", check_in)]
        rows = self.client.search_read(
            ATTENDANCE, domain, ["id", "employee_id", "check_in", "check_out"], limit=1, retry=False
        )
        return rows[0] if rows else None

    def _send_one(self, log: AttendanceLog, employees: dict, existing: dict) -> None:
        self.report.sent += 1
        matches = employees.get(log.employee_id, [])
        if not matches:
            where = f" of company {self.config.company!r}" if self.config.company else ""
            self._failed(
                log, f"No employee{where} in Odoo has {self.match_field} {log.employee_id!r}", OdooSyncAction.MATCH
            )
            return
        if len(matches) > 1:
            names = ", ".join(f"{row['name']} (id {row['id']})" for row in matches)
            self._failed(
                log,
                f"{len(matches)} Odoo employees have {self.match_field} {log.employee_id!r}: {names}",
                OdooSyncAction.MATCH,
            )
            return
        employee_id = int(matches[0]["id"])
        check_in = to_odoo_datetime(log.check_in)
        check_out: str | bool = to_odoo_datetime(log.check_out) if log.check_out else False
        times = {"check_in": check_in, "check_out": check_out}

        def attempt(number: int) -> tuple[str, int]:
            lookup_fresh = number > 1
            if log.odoo_attendance_id:
                try:
                    self.client.write(ATTENDANCE, [log.odoo_attendance_id], times, retry=False)
                    return OdooSyncAction.WRITE, log.odoo_attendance_id
                except OdooError as exc:
                    if exc.short_name != "MissingError":
                        raise
                    lookup_fresh = True  # deleted in Odoo: find or create it anew
            found = self._find(employee_id, check_in) if lookup_fresh else existing.get((employee_id, check_in))
            if found:
                if (found.get("check_out") or False) != check_out:
                    self.client.write(ATTENDANCE, [found["id"]], {"check_out": check_out}, retry=False)
                return OdooSyncAction.ADOPT, int(found["id"])
            values: dict[str, Any] = {"employee_id": employee_id, "check_in": check_in}
            if check_out:
                values["check_out"] = check_out
            return OdooSyncAction.CREATE, self.client.create(ATTENDANCE, values)

        try:
            action, odoo_id = self.client.retrying(attempt)
        except OdooError as exc:
            action = OdooSyncAction.WRITE if log.odoo_attendance_id else OdooSyncAction.CREATE
            self._failed(log, self.client.scrub(describe_failure(exc)), action)
            return
        except OutboundError as exc:
            message = describe_failure(exc)
            AttendanceLog.objects.filter(pk=log.pk).update(odoo_error_message=message)
            self._log(log, OdooSyncResult.FAILURE, message, OdooSyncAction.CREATE)
            self._stop(exc, message)
        self._synced(log, action, odoo_id)

    # --- outcomes ---

    def _same_times(self, log: AttendanceLog):
        """The log as it was read: a change made meanwhile (a new check-out) must not be marked synced."""
        return AttendanceLog.objects.filter(pk=log.pk, check_in=log.check_in, check_out=log.check_out)

    def _synced(self, log: AttendanceLog, action: str, odoo_id: int) -> None:
        counter = {OdooSyncAction.CREATE: "created", OdooSyncAction.WRITE: "updated", OdooSyncAction.ADOPT: "adopted"}
        setattr(self.report, counter[action], getattr(self.report, counter[action]) + 1)
        with transaction.atomic():
            done = self._same_times(log).update(
                odoo_status=OdooStatus.SYNCED,
                odoo_sync_time=timezone.now(),
                odoo_error_message="",
                odoo_attendance_id=odoo_id,
            )
            if not done:  # changed while we sent it: keep the id so that the next run writes the new times
                AttendanceLog.objects.filter(pk=log.pk).update(odoo_attendance_id=odoo_id)
            verb = {"create": "Created", "write": "Updated", "adopt": "Adopted existing"}[action]
            self._log(log, OdooSyncResult.SUCCESS, f"{verb} hr.attendance {odoo_id}", action, odoo_id)

    def _failed(self, log: AttendanceLog, message: str, action: str) -> None:
        self.report.failed += 1
        with transaction.atomic():
            self._same_times(log).update(odoo_status=OdooStatus.FAILED, odoo_error_message=message)
            self._log(log, OdooSyncResult.FAILURE, message, action, log.odoo_attendance_id)

    def _log(
        self, log: AttendanceLog | None, result: str, message: str, action: str, odoo_id: int | None = None
    ) -> None:
        OdooSyncLog.objects.create(
            employee_id=log.employee_id if log else "",
            attendance_log_id=log.pk if log else "",
            result=result,
            message=message,
            action=action,
            odoo_attendance_id=odoo_id,
            run_id=self.report.run_id,
        )


def _many2one_id(value: Any) -> int:
    """Odoo reads a many2one as ``[id, display_name]`` (or ``False``)."""
    if isinstance(value, (list, tuple)):
        return int(value[0])
    return int(value)
