"""The sync run against a local Odoo that speaks its JSON-RPC API: idempotency, failures, circuit, counters."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from attendance.models import AttendanceLog
from cameras.models import Alert
from config.resilience import CircuitBreaker, CircuitState
from integrations.models import OdooConfig, OdooSyncLog
from integrations.odoo import config as odoo_config
from integrations.odoo import sync as odoo_sync
from tests.factories import AttendanceLogFactory
from tests.integrations.odoo_peer import OdooPeer, configure

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def peer():
    odoo = OdooPeer()
    yield odoo
    odoo.stop()


@pytest.fixture
def delays() -> list[float]:
    """The backoff the client waited (recorded instead of slept)."""
    return []


@pytest.fixture
def sync(delays):
    def run(**options):
        return odoo_sync.sync_attendance(sleep=delays.append, **options)

    return run


@pytest.fixture
def sophia(peer) -> int:
    configure(peer)
    return peer.add_employee("Sophia Martinez", barcode="EMP-00412")


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=n, hours=hour - 9, minutes=minute)


def test_it_creates_one_attendance_per_log(peer, sophia, sync):
    first = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    second = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(1), check_out=day(1, 17, 30))

    report = sync()

    assert report.created == 2
    assert [(row["check_in"], row["check_out"]) for row in peer.attendances_of(sophia)] == [
        ("2025-11-03 09:00:00", "2025-11-03 17:00:00"),
        ("2025-11-04 09:00:00", "2025-11-04 17:30:00"),
    ]
    for log in (first, second):
        log.refresh_from_db()
        assert log.odoo_status == "synced"
        assert log.odoo_sync_time is not None
        assert log.odoo_error_message == ""
    assert {first.odoo_attendance_id, second.odoo_attendance_id} == {r["id"] for r in peer.attendances_of(sophia)}


def test_it_sends_times_in_utc(peer, sophia, sync):
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    AttendanceLogFactory(
        employee_id="EMP-00412",
        check_in=datetime(2025, 11, 3, 8, 0, 30, 123456, tzinfo=saigon),
        check_out=datetime(2025, 11, 3, 17, 15, tzinfo=saigon),
    )

    sync()

    (record,) = peer.attendances_of(sophia)
    assert (record["check_in"], record["check_out"]) == ("2025-11-03 01:00:30", "2025-11-03 10:15:00")


def test_a_second_run_creates_nothing(peer, sophia, sync):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(1), check_out=day(1, 17))
    sync()

    report = sync()

    assert report.sent == 0
    assert len(peer.model_calls("hr.attendance", "create")) == 2
    assert len(peer.attendances_of(sophia)) == 2


def test_a_changed_check_out_is_written_not_created(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=None)
    sync()
    log.refresh_from_db()
    # What the attendance app does on a later sighting: a new check-out, back to pending.
    AttendanceLog.objects.filter(pk=log.pk).update(check_out=day(0, 18), odoo_status="pending")

    report = sync()

    assert (report.created, report.updated) == (0, 1)
    assert len(peer.model_calls("hr.attendance", "create")) == 1
    (write,) = peer.model_calls("hr.attendance", "write")
    assert write.args == (
        [log.odoo_attendance_id],
        {"check_in": "2025-11-03 09:00:00", "check_out": "2025-11-03 18:00:00"},
    )
    assert peer.attendances_of(sophia)[0]["check_out"] == "2025-11-03 18:00:00"


def test_a_record_odoo_already_has_is_adopted(peer, sophia, sync):
    # The process died after Odoo created the record and before the log was saved.
    existing = peer.add_attendance(sophia, "2025-11-03 09:00:00", "2025-11-03 17:00:00")
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))

    report = sync()

    log.refresh_from_db()
    assert report.adopted == 1
    assert peer.model_calls("hr.attendance", "create") == []
    assert (log.odoo_status, log.odoo_attendance_id) == ("synced", existing)


def test_an_interrupted_run_then_a_rerun_creates_each_attendance_once(peer, sophia, sync):
    logs = [AttendanceLogFactory(employee_id="EMP-00412", check_in=day(n), check_out=day(n, 17)) for n in range(5)]
    peer.die_after_creates = 2  # the second create commits, then Odoo dies before answering

    first = sync()

    assert first.retry_later
    assert first.created == 1
    statuses = [AttendanceLog.objects.get(pk=log.pk).odoo_status for log in logs]
    assert statuses == ["synced", "pending", "pending", "pending", "pending"]
    assert len(peer.attendances_of(sophia)) == 2

    peer.revive()
    CircuitBreaker("odoo").reset()
    second = sync()

    records = peer.attendances_of(sophia)
    assert sorted(record["check_in"] for record in records) == [f"2025-11-0{n} 09:00:00" for n in range(3, 8)]
    assert (second.adopted, second.created) == (1, 3)
    ids = {AttendanceLog.objects.get(pk=log.pk).odoo_attendance_id for log in logs}
    assert ids == {record["id"] for record in records}


def test_an_overlapping_check_in_fails_that_log_with_odoos_message(peer, sophia, sync):
    open_day = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=None)  # never checked out
    blocked = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(1), check_out=None)
    other = AttendanceLogFactory(employee_id="EMP-00777", check_in=day(1), check_out=day(1, 17))
    peer.add_employee("Liam Chen", barcode="EMP-00777")

    report = sync()

    blocked.refresh_from_db()
    assert report.failed == 1
    assert blocked.odoo_status == "failed"
    assert blocked.odoo_error_message == (
        "Cannot create new attendance record for Sophia Martinez, the employee hasn't checked out since "
        "Nov 3, 2025, 9:00:00 AM"
    )
    assert AttendanceLog.objects.get(pk=open_day.pk).odoo_status == "synced"
    assert AttendanceLog.objects.get(pk=other.pk).odoo_status == "synced"


def test_an_unknown_employee_fails_with_the_reason(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-99999", check_in=day(0), check_out=day(0, 17))

    sync()

    log.refresh_from_db()
    assert log.odoo_status == "failed"
    assert log.odoo_error_message == "No employee in Odoo has barcode 'EMP-99999'"


def test_employees_are_matched_by_the_configured_field(peer, sync):
    configure(peer, employee_match_field="identification_id")
    noah = peer.add_employee("Noah Kim", barcode="B-1", identification_id="EMP-00500")
    AttendanceLogFactory(employee_id="EMP-00500", check_in=day(0), check_out=day(0, 17))

    sync()

    assert len(peer.attendances_of(noah)) == 1


def test_only_employees_of_the_configured_company_match(peer, sync):
    peer.companies[2] = "Other Co"
    configure(peer, company="ACME Corp")
    peer.add_employee("Namesake", barcode="EMP-00600", company_id=2)
    ours = peer.add_employee("Mai Tran", barcode="EMP-00600", company_id=1)
    AttendanceLogFactory(employee_id="EMP-00600", check_in=day(0), check_out=day(0, 17))

    report = sync()

    assert report.created == 1
    assert len(peer.attendances_of(ours)) == 1


def test_an_ambiguous_employee_fails_with_the_candidates(peer, sophia, sync):
    peer.add_employee("Sophia M. (duplicate)", barcode="EMP-00412")
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))

    sync()

    log.refresh_from_db()
    assert log.odoo_status == "failed"
    assert log.odoo_error_message.startswith("2 Odoo employees have barcode 'EMP-00412'")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_check_out_that_changes_while_sending_is_sent_by_the_next_run(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))

    def later_sighting(attendance_id: int) -> None:
        from django.db import connection

        # The attendance app, in another process, moves the check-out while Odoo is answering.
        AttendanceLog.objects.filter(pk=log.pk).update(check_out=day(0, 19))
        connection.close()

    peer.after_create = later_sighting
    sync()
    log.refresh_from_db()
    assert (log.odoo_status, log.odoo_attendance_id) == ("pending", peer.attendances_of(sophia)[0]["id"])

    peer.after_create = None
    sync()

    (record,) = peer.attendances_of(sophia)
    assert record["check_out"] == "2025-11-03 19:00:00"
    assert AttendanceLog.objects.get(pk=log.pk).odoo_status == "synced"


def test_missed_logs_are_not_sent(peer, sophia, sync):
    missed = AttendanceLogFactory(employee_id="EMP-00412", check_in=None, date=day(0).date())

    report = sync()

    missed.refresh_from_db()
    assert report.sent == 0
    assert missed.odoo_status == "pending"
    assert peer.model_calls("hr.attendance", "create") == []


def test_a_record_deleted_in_odoo_is_created_again(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    sync()
    log.refresh_from_db()
    del peer.attendances[log.odoo_attendance_id]
    AttendanceLog.objects.filter(pk=log.pk).update(odoo_status="pending")

    report = sync()

    log.refresh_from_db()
    (record,) = peer.attendances_of(sophia)
    assert report.created == 1
    assert (log.odoo_status, log.odoo_attendance_id) == ("synced", record["id"])


def test_a_refused_api_key_stops_the_run_and_keeps_logs_pending(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    OdooConfig.objects.filter(pk=1).update(api_key="wrong-key")

    report = sync()

    log.refresh_from_db()
    assert report.aborted.startswith("Authentication failed")
    assert not report.retry_later
    assert log.odoo_status == "pending"
    assert OdooConfig.load().status == "error"
    assert OdooSyncLog.objects.get(action="authenticate").result == "failure"


def test_an_unreachable_odoo_is_retried_with_backoff(peer, sophia, sync, delays):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    peer.down = True

    report = sync()

    assert report.retry_later
    assert delays == [1.0, 2.0, 4.0]  # 4 attempts, exponential from 1 s
    assert peer.http_requests == 4


def test_a_failing_odoo_leaves_the_log_pending_with_the_error(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    peer.down_after_requests = 3  # authenticate, find the employee, look for the attendance; then down

    sync()

    log.refresh_from_db()
    assert log.odoo_status == "pending"
    assert "Odoo is unreachable" in log.odoo_error_message


def test_the_circuit_opens_after_repeated_failures(peer, sophia, sync):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    peer.down = True
    sync()
    sync()  # the fifth consecutive failure opens the circuit
    requests = peer.http_requests

    report = sync()

    assert CircuitBreaker("odoo").state == CircuitState.OPEN
    assert peer.http_requests == requests  # not called at all while open
    assert report.retry_at is not None
    assert "circuit open" in report.aborted


def test_an_open_circuit_raises_an_unreachable_alert(peer, sophia, sync):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    peer.down = True
    sync()
    sync()

    assert Alert.objects.filter(source=odoo_sync.UNREACHABLE_ALERT, resolved_at__isnull=True).exists()


def test_counters_on_the_config_match_the_logs(peer, sophia, sync):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(1), check_out=day(1, 17))
    AttendanceLogFactory(employee_id="EMP-404", check_in=day(1), check_out=day(1, 17))
    AttendanceLogFactory(employee_id="EMP-00412", check_in=None, date=day(2).date())  # missed: never counted

    sync()

    config = OdooConfig.load()
    assert (config.pending_count, config.failure_count) == (0, 1)
    assert config.status == "connected"
    assert config.last_sync is not None


def test_failures_over_the_threshold_raise_an_alert(peer, sophia, sync):
    configure(peer, failure_alert_threshold=2)
    for n in range(3):
        AttendanceLogFactory(employee_id=f"EMP-40{n}", check_in=day(n), check_out=day(n, 17))

    sync()

    alert = Alert.objects.get(source=odoo_sync.FAILURES_ALERT, resolved_at__isnull=True)
    assert alert.level == "high"
    assert "3 attendance logs failed" in alert.description


def test_failures_at_the_threshold_raise_no_alert(peer, sophia, sync):
    configure(peer, failure_alert_threshold=2)
    for n in range(2):
        AttendanceLogFactory(employee_id=f"EMP-40{n}", check_in=day(n), check_out=day(n, 17))

    sync()

    assert not Alert.objects.filter(source=odoo_sync.FAILURES_ALERT).exists()


def test_every_attempt_is_logged(peer, sophia, sync):
    synced = AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    failed = AttendanceLogFactory(employee_id="EMP-404", check_in=day(0), check_out=day(0, 17))

    report = sync()

    entries = {entry.attendance_log_id: entry for entry in OdooSyncLog.objects.filter(run_id=report.run_id)}
    assert (entries[synced.pk].result, entries[synced.pk].action) == ("success", "create")
    assert entries[synced.pk].odoo_attendance_id == AttendanceLog.objects.get(pk=synced.pk).odoo_attendance_id
    assert (entries[failed.pk].result, entries[failed.pk].employee_id) == ("failure", "EMP-404")


def test_logs_go_in_batches_of_100(peer, sophia, sync):
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    for n in range(150):
        AttendanceLogFactory(
            employee_id="EMP-00412", check_in=start + timedelta(days=n), check_out=start + timedelta(days=n, hours=8)
        )

    report = sync()

    assert report.created == 150
    lookups = peer.model_calls("hr.employee", "search_read")
    assert len(lookups) == 2
    assert [len(call.args[0][1][2]) for call in peer.model_calls("hr.attendance", "search_read")] == [100, 50]


def test_failed_logs_are_resent_on_request(peer, sophia, sync):
    log = AttendanceLogFactory(employee_id="EMP-00999", check_in=day(0), check_out=day(0, 17))
    sync()
    peer.add_employee("Late Hire", barcode="EMP-00999")

    assert sync().sent == 0
    report = sync(retry_failed=True)

    log.refresh_from_db()
    assert report.created == 1
    assert log.odoo_status == "synced"


def test_status_summary_reports_counts_and_circuit(peer, sophia, sync):
    AttendanceLogFactory(employee_id="EMP-00412", check_in=day(0), check_out=day(0, 17))
    AttendanceLogFactory(employee_id="EMP-404", check_in=day(0), check_out=day(0, 17))
    report = sync()

    summary = odoo_config.status_summary()

    assert summary["status"] == "connected"
    assert (summary["synced_count"], summary["failure_count"], summary["pending_count"]) == (1, 1, 0)
    assert summary["circuit"] == "closed"
    assert summary["last_run_id"] == report.run_id


def test_a_run_is_refused_while_another_holds_the_lock(peer, sophia, sync):
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], password=settings["PASSWORD"] or None,
        dbname=settings["NAME"], autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_advisory_lock(%s)", [odoo_sync._RUN_LOCK])
        with pytest.raises(odoo_sync.SyncBusy):
            sync()


def test_a_stopped_run_is_retried_no_sooner_than_the_circuit_allows():
    report = odoo_sync.SyncReport(run_id="r", retry_later=True, retry_at=time.time() + 600)

    assert odoo_sync.retry_countdown(0, report) > 599


def test_a_stopped_run_is_retried_with_exponential_backoff():
    report = odoo_sync.SyncReport(run_id="r", retry_later=True)

    assert [odoo_sync.retry_countdown(n, report) for n in range(4)] == [60.0, 120.0, 240.0, 480.0]
