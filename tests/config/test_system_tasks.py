"""The system health Celery tasks and their Beat schedules."""

from __future__ import annotations

import time
import uuid

import pytest
from django_celery_beat.models import PeriodicTask

from config import tasks
from config.models import SystemMetric, SystemService


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("Collect system metrics", "config.collect_system_metrics"),
        ("Check platform services", "config.check_services"),
    ],
)
def test_beat_schedule_runs_the_task_every_minute(name, task):
    schedule = PeriodicTask.objects.select_related("interval").get(name=name)

    assert schedule.task == task
    assert schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (60, "seconds")


@pytest.mark.django_db
def test_metrics_task_stores_a_sample():
    stored = tasks.collect_system_metrics()

    assert stored == SystemMetric.objects.count()
    assert SystemMetric.objects.filter(category="cpu", label="CPU usage").exists()


@pytest.mark.django_db
def test_services_task_checks_every_service_but_web(settings):
    settings.CELERY_TASK_DEFAULT_QUEUE = f"argus-test-nobody-{uuid.uuid4().hex}"  # keep other sessions' workers out

    statuses = tasks.check_services()

    assert set(statuses) == {"worker", "beat", "database", "redis", "storage"}
    assert statuses["database"] == "running"
    assert not SystemService.objects.filter(id="web").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_the_metrics_task(celery_worker_process):
    tasks.collect_system_metrics.delay()

    deadline = time.monotonic() + 30
    while not SystemMetric.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert SystemMetric.objects.filter(category="memory").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_running_the_services_task_reports_itself_running(celery_worker_process, settings):
    # The fixture's worker uses the solo pool: it cannot answer its own ping while it runs the task.
    tasks.check_services.delay()

    deadline = time.monotonic() + 30
    while not SystemService.objects.filter(id="worker").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    worker = SystemService.objects.get(id="worker")
    assert worker.status == "running"
    assert f"{settings.REDIS_PREFIX}@localhost" in worker.detail
    assert worker.uptime
