"""Celery: a real worker process runs the platform's tasks; Beat reads its schedule from the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import UserSession
from accounts.tasks import purge_expired_sessions
from config.celery import app
from tests.factories import UserFactory


def _session(user, expires_at) -> UserSession:
    return UserSession.objects.create(user=user, token_hash=uuid.uuid4().hex * 2, expires_at=expires_at)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_purges_only_sessions_expired_over_a_day_ago(celery_worker_process):
    user = UserFactory()
    now = timezone.now()
    long_expired = _session(user, now - timedelta(days=3))
    just_expired = _session(user, now - timedelta(hours=1))
    live = _session(user, now + timedelta(days=7))

    result = purge_expired_sessions.delay()

    assert result.get(timeout=30) == 1
    remaining = set(UserSession.objects.values_list("pk", flat=True))
    assert long_expired.pk not in remaining
    assert {just_expired.pk, live.pk} <= remaining


def test_tasks_go_to_this_runs_queue():
    assert app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE
    assert settings.REDIS_PREFIX in settings.CELERY_TASK_DEFAULT_QUEUE


def test_beat_uses_the_database_scheduler():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.beat_scheduler == settings.CELERY_BEAT_SCHEDULER


@pytest.mark.django_db
def test_session_purge_is_seeded_as_a_daily_periodic_task():
    task = PeriodicTask.objects.select_related("crontab").get(name="Purge expired refresh sessions")
    assert task.task == "accounts.purge_expired_sessions"
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("30", "3")
    assert task.interval is None


@pytest.mark.django_db
def test_every_seeded_periodic_task_names_a_registered_task():
    app.loader.import_default_modules()
    seeded = set(PeriodicTask.objects.exclude(task="celery.backend_cleanup").values_list("task", flat=True))
    assert seeded
    assert seeded <= set(app.tasks)
