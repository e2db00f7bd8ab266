"""Retention: the rules, their exact boundaries, dry runs, stored files, the command and the daily task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import AuditLog
from cameras.models import Camera, Snapshot
from config import retention
from config.models import SystemMetric
from config.tasks import cleanup_old_data
from recognition.models import Detection
from tests.factories import AuditLogFactory, CameraFactory, DetectionEventLogFactory, DetectionFactory, SnapshotFactory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def audit(timestamp: datetime) -> AuditLog:
    return AuditLogFactory(actor="test", action="test.entry", message="m", timestamp=timestamp)


def metric(timestamp: datetime) -> SystemMetric:
    return SystemMetric.objects.create(category="cpu", label="CPU", value=1.0, unit="%", timestamp=timestamp)


@pytest.fixture
def extra_rule():
    """Register a rule for the test only."""
    added: list[str] = []

    def add(rule: retention.RetentionRule) -> retention.RetentionRule:
        added.append(rule.name)
        return retention.register(rule)

    yield add
    for name in added:
        retention.unregister(name)


# --- Boundaries ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_entries_exactly_365_days_old_are_kept():
    at_boundary = audit(NOW - timedelta(days=365))

    retention.run_cleanup(now=NOW)

    assert AuditLog.objects.filter(pk=at_boundary.pk).exists()


@pytest.mark.django_db
def test_audit_entries_just_over_365_days_old_are_deleted():
    older = audit(NOW - timedelta(days=365) - TICK)

    removed = retention.run_cleanup(now=NOW)

    assert not AuditLog.objects.filter(pk=older.pk).exists()
    assert removed["audit"] == 1


@pytest.mark.django_db
def test_system_metrics_exactly_30_days_old_are_kept():
    at_boundary = metric(NOW - timedelta(days=30))

    retention.run_cleanup(now=NOW)

    assert SystemMetric.objects.filter(pk=at_boundary.pk).exists()


@pytest.mark.django_db
def test_system_metrics_just_over_30_days_old_are_deleted():
    older = metric(NOW - timedelta(days=30) - TICK)

    removed = retention.run_cleanup(now=NOW)

    assert not SystemMetric.objects.filter(pk=older.pk).exists()
    assert removed["system_metrics"] == 1


def detection(timestamp: datetime, thumbnail: str = "") -> Detection:
    camera = Camera.objects.filter(pk="CAM-RET").first() or CameraFactory(id="CAM-RET", name="Retention")
    return DetectionFactory(camera=camera, confidence=90.0, timestamp=timestamp, thumbnail=thumbnail)


@pytest.mark.django_db
def test_detections_exactly_90_days_old_are_kept_with_their_thumbnails():
    name = default_storage.save("detections/CAM-RET/kept.jpg", ContentFile(b"jpeg"))
    at_boundary = detection(NOW - timedelta(days=90), thumbnail=name)

    retention.run_cleanup(now=NOW)

    assert Detection.objects.filter(pk=at_boundary.pk).exists()
    assert default_storage.exists(name)


@pytest.mark.django_db
def test_detections_just_over_90_days_old_are_deleted_with_their_thumbnails():
    name = default_storage.save("detections/CAM-RET/old.jpg", ContentFile(b"jpeg"))
    older = detection(NOW - timedelta(days=90) - TICK, thumbnail=name)

    removed = retention.run_cleanup(now=NOW)

    assert not Detection.objects.filter(pk=older.pk).exists()
    assert not default_storage.exists(name)
    assert removed["detections"] == 1


@pytest.mark.django_db
def test_the_period_is_a_setting(settings):
    settings.RETENTION_AUDIT_DAYS = 7
    eight_days = audit(NOW - timedelta(days=8))
    six_days = audit(NOW - timedelta(days=6))

    retention.run_cleanup(now=NOW)

    assert not AuditLog.objects.filter(pk=eight_days.pk).exists()
    assert AuditLog.objects.filter(pk=six_days.pk).exists()


@pytest.mark.django_db
def test_a_period_of_zero_keeps_everything(settings):
    settings.RETENTION_METRICS_DAYS = 0
    ancient = metric(NOW - timedelta(days=3000))

    removed = retention.run_cleanup(now=NOW)

    assert SystemMetric.objects.filter(pk=ancient.pk).exists()
    assert "system_metrics" not in removed
    assert retention.skipped_rules()["system_metrics"] == retention.DISABLED


# --- Dry run -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dry_run_deletes_nothing():
    old_audit = audit(NOW - timedelta(days=400))
    old_metric = metric(NOW - timedelta(days=40))

    retention.run_cleanup(dry_run=True, now=NOW)

    assert AuditLog.objects.filter(pk=old_audit.pk).exists()
    assert SystemMetric.objects.filter(pk=old_metric.pk).exists()


@pytest.mark.django_db
def test_a_dry_run_reports_what_would_go():
    audit(NOW - timedelta(days=400))
    audit(NOW - timedelta(days=500))
    audit(NOW - timedelta(days=1))
    metric(NOW - timedelta(days=40))

    removed = retention.run_cleanup(dry_run=True, now=NOW)

    assert (removed["audit"], removed["system_metrics"]) == (2, 1)


# --- Models that are not installed ---------------------------------------------------------------------------


NOT_INSTALLED_RULE = retention.RetentionRule("nowhere", "nowhere.Nothing", "timestamp", "RETENTION_AUDIT_DAYS", 1)


def test_the_built_in_rules_are_those_of_001():
    rules = {rule.name: rule for rule in retention.rules()}

    assert (rules["detections"].model, rules["detections"].days()) == ("recognition.Detection", 90)
    assert (rules["audit"].model, rules["audit"].days()) == ("accounts.AuditLog", 365)
    assert (rules["system_metrics"].model, rules["system_metrics"].days()) == ("config.SystemMetric", 30)
    assert (rules["exports"].model, rules["exports"].date_field, rules["exports"].days()) == (
        "attendance.ExportJob",
        "expires_at",
        None,
    )


@pytest.mark.django_db
def test_rules_for_models_not_installed_are_skipped(extra_rule):
    extra_rule(NOT_INSTALLED_RULE)

    assert retention.skipped_rules()["nowhere"] == retention.NOT_INSTALLED
    assert "nowhere" not in retention.run_cleanup(now=NOW)


@pytest.mark.django_db
def test_a_rule_naming_a_missing_date_field_is_skipped(extra_rule):
    extra_rule(retention.RetentionRule("broken", "accounts.AuditLog", "no_such_field", "RETENTION_AUDIT_DAYS", 1))

    assert retention.skipped_rules()["broken"].startswith("misconfigured")
    assert "broken" not in retention.run_cleanup(now=NOW)


# --- Batches and stored files ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rows_are_deleted_in_batches():
    for days in range(400, 405):
        audit(NOW - timedelta(days=days))
    batches: list[int] = []

    count = retention.apply_rule(
        next(r for r in retention.rules() if r.name == "audit"), now=NOW, batch_size=2, progress=batches.append
    )

    assert count == 5
    assert batches == [2, 2, 1]
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_expiry_rules_delete_rows_whose_time_has_passed_with_their_files(extra_rule):
    camera = CameraFactory(id="CAM-RET", name="Retention", stream_url="rtsp://127.0.0.1:8554/x")
    expired_key = default_storage.save("snapshots/CAM-RET/old.jpg", ContentFile(b"jpeg"))
    live_key = default_storage.save("snapshots/CAM-RET/new.jpg", ContentFile(b"jpeg"))
    expired = SnapshotFactory(camera=camera, storage_key=expired_key, taken_at=NOW - TICK)
    live = SnapshotFactory(camera=camera, storage_key=live_key, taken_at=NOW)
    extra_rule(
        retention.RetentionRule(
            name="snapshots",
            model="cameras.Snapshot",
            date_field="taken_at",
            setting=None,
            on_delete=lambda rows: retention.delete_stored_files(rows, key_fields=("storage_key",)),
        )
    )

    removed = retention.run_cleanup(now=NOW)

    assert removed["snapshots"] == 1
    assert not Snapshot.objects.filter(pk=expired.pk).exists()
    assert Snapshot.objects.filter(pk=live.pk).exists()
    assert not default_storage.exists(expired_key)
    assert default_storage.exists(live_key)


@pytest.mark.django_db
def test_a_dry_run_keeps_the_files(extra_rule):
    camera = CameraFactory(id="CAM-RET", name="Retention", stream_url="rtsp://127.0.0.1:8554/x")
    key = default_storage.save("snapshots/CAM-RET/old.jpg", ContentFile(b"jpeg"))
    SnapshotFactory(camera=camera, storage_key=key, taken_at=NOW - timedelta(days=1))
    extra_rule(
        retention.RetentionRule(
            "snapshots",
            "cameras.Snapshot",
            "taken_at",
            None,
            on_delete=lambda rows: retention.delete_stored_files(rows, key_fields=("storage_key",)),
        )
    )

    retention.run_cleanup(dry_run=True, now=NOW)

    assert default_storage.exists(key)


# --- Command -------------------------------------------------------------------------------------------------


def run_command(*args: str) -> str:
    out, err = StringIO(), StringIO()
    call_command("cleanup_old_data", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.django_db
def test_command_prints_what_it_removed_per_rule():
    now = timezone.now()
    audit(now - timedelta(days=400))
    metric(now - timedelta(days=40))
    metric(now - timedelta(days=41))

    output = run_command()

    assert "audit: removed 1 audit entries (older than 365 days)" in output
    assert "system_metrics: removed 2 system metric samples (older than 30 days)" in output
    assert "removed 3 rows in all" in output
    assert SystemMetric.objects.count() == 0


@pytest.mark.django_db
def test_command_says_which_rules_are_not_installed(extra_rule):
    extra_rule(NOT_INSTALLED_RULE)

    output = run_command()

    assert "nowhere: skipped, not installed (nowhere.Nothing)" in output


@pytest.mark.django_db
def test_command_dry_run_deletes_nothing_and_says_so():
    kept = audit(timezone.now() - timedelta(days=400))

    output = run_command("--dry-run")

    assert "audit: would remove 1 audit entries" in output
    assert "Dry run: would remove 1 rows in all" in output
    assert AuditLog.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_command_keeps_recent_rows():
    recent = audit(timezone.now() - timedelta(days=1))

    run_command()

    assert AuditLog.objects.filter(pk=recent.pk).exists()


# --- Task and schedule ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_reports_what_it_removed_and_skipped(extra_rule):
    extra_rule(NOT_INSTALLED_RULE)
    audit(timezone.now() - timedelta(days=400))

    report = cleanup_old_data.apply().get()

    assert report["removed"]["audit"] == 1
    assert report["skipped"]["nowhere"] == retention.NOT_INSTALLED
    assert report["dry_run"] is False


@pytest.mark.django_db
def test_task_dry_run_deletes_nothing():
    kept = audit(timezone.now() - timedelta(days=400))

    report = cleanup_old_data.apply(kwargs={"dry_run": True}).get()

    assert (report["dry_run"], report["removed"]["audit"]) == (True, 1)
    assert AuditLog.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_cleanup_task(celery_worker_process):
    old = audit(timezone.now() - timedelta(days=400))
    recent = audit(timezone.now() - timedelta(days=1))

    report = cleanup_old_data.delay().get(timeout=60)

    assert report["removed"]["audit"] == 1
    assert not AuditLog.objects.filter(pk=old.pk).exists()
    assert AuditLog.objects.filter(pk=recent.pk).exists()


@pytest.mark.django_db
def test_the_cleanup_runs_daily_at_two():
    task = PeriodicTask.objects.get(task="config.cleanup_old_data")

    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("0", "2")
    assert (task.crontab.day_of_week, task.crontab.day_of_month, task.crontab.month_of_year) == ("*", "*", "*")


@pytest.mark.django_db
def test_detection_events_follow_the_detections_period():
    from recognition.models import DetectionEventLog

    camera = CameraFactory(id="CAM-EVT", name="Events")
    kept = DetectionEventLogFactory(camera=camera, timestamp=NOW - timedelta(days=90), status="received")
    gone = DetectionEventLogFactory(camera=camera, timestamp=NOW - timedelta(days=90) - TICK, status="error")

    removed = retention.run_cleanup(now=NOW)

    assert set(DetectionEventLog.objects.values_list("pk", flat=True)) == {kept.pk}
    assert removed["detection_events"] == 1
    assert not DetectionEventLog.objects.filter(pk=gone.pk).exists()


@pytest.mark.django_db
def test_stopped_face_service_sessions_go_with_their_students_after_30_days():
    from recognition.models import RecognitionSession, SessionStudent
    from tests.recognition.face_service.factories import make_session

    old = make_session(1, status="stopped", stopped_at=NOW - timedelta(days=30) - TICK)
    recent = make_session(2, status="stopped", stopped_at=NOW - timedelta(days=30))
    running = make_session(3)  # never stopped: kept whatever its age

    removed = retention.run_cleanup(now=NOW)

    assert set(RecognitionSession.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not SessionStudent.objects.filter(session_id=old.pk).exists()  # the embeddings went too
    assert removed["face_service_sessions"] == 1
