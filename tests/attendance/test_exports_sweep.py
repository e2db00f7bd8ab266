"""The sweep of abandoned exports (``attendance.sweep_abandoned_exports``): a job left processing by a worker
that stopped is failed once, saying why; a live run and a finished job are never touched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import Notification
from attendance import exports
from attendance.choices import ExportStatus
from attendance.export_tasks import (
    ABANDONED_AFTER,
    HARD_TIME_LIMIT,
    QUEUED_LOST_AFTER,
    generate_export,
    sweep_abandoned_exports,
    sweep_lost_exports,
)
from attendance.models import ExportJob
from tests.factories import ExportJobFactory, UserFactory

pytestmark = pytest.mark.django_db


def last_touched(job, ago: timedelta) -> ExportJob:
    """The job as if its run last wrote to it ``ago`` (``update`` leaves ``auto_now`` alone)."""
    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - ago)
    job.refresh_from_db()
    return job


def test_a_stale_processing_job_is_failed_saying_the_worker_stopped():
    owner = UserFactory(role_id="ROLE-ADMIN")
    job = last_touched(ExportJobFactory(user=owner, status=ExportStatus.PROCESSING), ABANDONED_AFTER * 2)

    failed = sweep_abandoned_exports()

    job.refresh_from_db()
    assert failed == [str(job.pk)]
    assert (job.status, job.error_message) == (ExportStatus.FAILED, exports.ABANDONED_MESSAGE)
    assert "worker running it stopped" in job.error_message
    notice = Notification.objects.get(user=owner)
    assert notice.title == "Export failed" and exports.ABANDONED_MESSAGE in notice.message


def test_a_stale_job_is_failed_once_however_many_sweeps_run():
    owner = UserFactory(role_id="ROLE-ADMIN")
    job = last_touched(ExportJobFactory(user=owner, status=ExportStatus.PROCESSING), ABANDONED_AFTER * 2)

    first, second = sweep_abandoned_exports(), sweep_abandoned_exports()

    assert (first, second) == ([str(job.pk)], [])
    assert Notification.objects.filter(user=owner).count() == 1


def test_a_running_job_within_the_hard_time_limit_is_left_alone():
    job = last_touched(ExportJobFactory(status=ExportStatus.PROCESSING), timedelta(seconds=HARD_TIME_LIMIT))

    assert sweep_abandoned_exports() == []

    job.refresh_from_db()
    assert (job.status, job.error_message) == (ExportStatus.PROCESSING, "")


@pytest.mark.parametrize("status", [ExportStatus.COMPLETED, ExportStatus.FAILED, ExportStatus.QUEUED])
def test_a_job_not_processing_is_never_touched_however_old(status):
    job = last_touched(ExportJobFactory(status=status, error_message="kept"), ABANDONED_AFTER * 10)

    assert sweep_abandoned_exports() == []

    job.refresh_from_db()
    assert (job.status, job.error_message) == (status, "kept")


def test_a_failed_abandoned_job_is_not_run_again_by_a_late_delivery():
    job = last_touched(ExportJobFactory(status=ExportStatus.PROCESSING), ABANDONED_AFTER * 2)
    sweep_abandoned_exports()

    result = generate_export(str(job.pk))

    job.refresh_from_db()
    assert result["status"] == ExportStatus.FAILED and job.error_message == exports.ABANDONED_MESSAGE


def test_beat_runs_the_sweep_more_often_than_a_job_can_be_abandoned():
    task = PeriodicTask.objects.get(task="attendance.sweep_abandoned_exports")

    assert task.enabled
    assert timedelta(seconds=task.interval.every) < ABANDONED_AFTER


# --- Queued jobs whose message was lost (the broker restarted without it) -------------------------------


def created(job, ago: timedelta) -> ExportJob:
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - ago, updated_at=timezone.now() - ago)
    job.refresh_from_db()
    return job


@pytest.fixture
def sent(monkeypatch):
    """The export messages sent to the broker (job ids), instead of sending them."""
    from attendance import export_tasks

    messages = []
    monkeypatch.setattr(export_tasks.generate_export, "delay", lambda job_id: messages.append(job_id))
    return messages


def test_a_job_queued_too_long_is_queued_again_once(sent):
    job = created(ExportJobFactory(), QUEUED_LOST_AFTER * 2)

    assert sweep_abandoned_exports() == []  # the abandoned (processing) jobs the sweep failed: none
    sweep_abandoned_exports()

    job.refresh_from_db()
    assert sent == [str(job.pk)]
    assert job.status == ExportStatus.QUEUED and job.requeued_at is not None


def test_a_job_queued_again_runs_to_completion_on_its_second_message(sent):
    job = created(ExportJobFactory(), QUEUED_LOST_AFTER * 2)
    sweep_lost_exports()

    result = generate_export(sent[0])

    job.refresh_from_db()
    assert result["status"] == ExportStatus.COMPLETED and job.status == ExportStatus.COMPLETED
    # The first message, only late after all, finds the job taken and leaves it.
    assert generate_export(str(job.pk))["status"] == ExportStatus.COMPLETED


def test_a_job_still_queued_long_after_its_second_message_is_failed_saying_why(sent):
    owner = UserFactory(role_id="ROLE-ADMIN")
    job = created(ExportJobFactory(user=owner), QUEUED_LOST_AFTER * 3)
    sweep_lost_exports()
    ExportJob.objects.filter(pk=job.pk).update(requeued_at=timezone.now() - QUEUED_LOST_AFTER * 1.1)

    outcome = sweep_lost_exports()

    job.refresh_from_db()
    assert outcome == {"requeued": [], "failed": [str(job.pk)]} and sent == [str(job.pk)]
    assert (job.status, job.error_message) == (ExportStatus.FAILED, exports.LOST_MESSAGE)
    notice = Notification.objects.get(user=owner)
    assert notice.title == "Export failed" and exports.LOST_MESSAGE in notice.message
    assert sweep_lost_exports() == {"requeued": [], "failed": []}


def test_a_recently_queued_job_and_a_job_requeued_recently_are_left_alone(sent):
    fresh = created(ExportJobFactory(), QUEUED_LOST_AFTER / 2)
    requeued = created(ExportJobFactory(), QUEUED_LOST_AFTER * 2)
    ExportJob.objects.filter(pk=requeued.pk).update(requeued_at=timezone.now() - QUEUED_LOST_AFTER / 2)

    assert sweep_lost_exports() == {"requeued": [], "failed": []}

    assert sent == []
    assert set(ExportJob.objects.values_list("status", flat=True)) == {ExportStatus.QUEUED}
    fresh.refresh_from_db()
    assert fresh.requeued_at is None


def test_a_broker_still_down_when_the_job_is_queued_again_fails_it_saying_so(monkeypatch):
    from attendance import export_tasks

    def refuse(job_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(export_tasks.generate_export, "delay", refuse)
    job = created(ExportJobFactory(), QUEUED_LOST_AFTER * 2)

    sweep_lost_exports()

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.error_message.startswith("Could not queue the export")
