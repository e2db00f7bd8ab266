"""The Beat watchdog: forgotten sessions expire, waiting results are sent, and the schedule itself is created
by the migration. (Session cameras are carried on by the vision workers, not restarted by Beat.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from recognition.face_service import sessions
from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.models import SessionCamera
from tests.recognition.face_service.factories import make_session

pytestmark = pytest.mark.django_db


def test_a_session_never_stopped_expires(settings):
    settings.FACE_SERVICE_MAX_SESSION_HOURS = 1
    session = make_session(started_ago=2 * 3600)
    assert sessions.watch_sessions()["expired"] == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED
    assert SessionCamera.objects.get(session=session).status == SessionCameraStatus.STOPPED


def test_the_watchdog_runs_every_minute():
    task = PeriodicTask.objects.get(task="recognition.face_service.watch_sessions")
    assert (task.interval.every, task.interval.period, task.enabled) == (60, "seconds", True)


def test_previews_whose_signed_url_expired_are_pruned_and_fresh_ones_kept(settings):
    import os

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from recognition.face_service.camera_checks import PREVIEW_FOLDER

    old = default_storage.save(f"{PREVIEW_FOLDER}/camera_preview_1.jpg", ContentFile(b"jpeg"))
    fresh = default_storage.save(f"{PREVIEW_FOLDER}/camera_preview_2.jpg", ContentFile(b"jpeg"))
    stale = (timezone.now() - timedelta(seconds=settings.SIGNED_URL_MAX_AGE + 60)).timestamp()
    os.utime(default_storage.path(old), (stale, stale))

    report = sessions.watch_sessions()

    assert report["previews_pruned"] == 1
    assert not default_storage.exists(old) and default_storage.exists(fresh)
