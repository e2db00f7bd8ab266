"""A face track's detection (recognition.detections.record_track): one row per track, stamped with its frame's
capture time, updated by better shots, announced to attendance once."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.core.files.storage import default_storage

from recognition.detections import TrackVerdict, record_track
from recognition.models import Detection
from recognition.signals import person_recognized
from tests.factories import CameraFactory, FaceProfileFactory

pytestmark = pytest.mark.django_db

FRAME = np.full((360, 640, 3), 128, np.uint8)
CAPTURED_AT = 1_760_000_000.25


def verdict(profile=None, captured_at: float = CAPTURED_AT, distance: float | None = 0.05) -> TrackVerdict:
    return TrackVerdict(
        track_id="TRACK-abc",
        profile=profile,
        distance=distance,
        margin=0.04,
        confidence=95.0,
        box={"top": 50, "left": 100, "width": 80, "height": 80},
        captured_at=captured_at,
        shots=2,
    )


@pytest.fixture
def announcements():
    heard = []

    def receiver(sender, *, detection, camera, **kwargs):
        heard.append(detection.person_id)

    person_recognized.connect(receiver)
    yield heard
    person_recognized.disconnect(receiver)


def test_a_tracks_detection_is_stamped_with_its_frames_capture_time(django_capture_on_commit_callbacks):
    camera = CameraFactory()

    with django_capture_on_commit_callbacks(execute=True):
        detection, _ = record_track(camera, FRAME, verdict(FaceProfileFactory()))

    stored = Detection.objects.get(pk=detection.pk)
    assert stored.timestamp == datetime.fromtimestamp(CAPTURED_AT, tz=UTC)
    assert stored.track_id == "TRACK-abc" and stored.status == "authorized"
    assert stored.event.payload["margin"] == 0.04 and stored.event.trigger == "track"


def test_a_better_shot_updates_the_same_detection_and_replaces_its_thumbnail(django_capture_on_commit_callbacks):
    camera, profile = CameraFactory(), FaceProfileFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = record_track(camera, FRAME, verdict(profile))
    old_thumbnail = first.thumbnail

    with django_capture_on_commit_callbacks(execute=True):
        second, _ = record_track(camera, FRAME, verdict(profile, captured_at=CAPTURED_AT + 1), existing=first)

    assert Detection.objects.count() == 1 and second.pk == first.pk
    assert second.thumbnail != old_thumbnail and not default_storage.exists(old_thumbnail)
    assert Detection.objects.get().timestamp == datetime.fromtimestamp(CAPTURED_AT + 1, tz=UTC)


def test_attendance_hears_a_track_once(announcements, django_capture_on_commit_callbacks):
    camera, profile = CameraFactory(), FaceProfileFactory()

    with django_capture_on_commit_callbacks(execute=True):
        first, _ = record_track(camera, FRAME, verdict(profile))
        record_track(camera, FRAME, verdict(profile, captured_at=CAPTURED_AT + 1), existing=first)

    assert announcements == [profile.employee_id]


def test_an_unknown_track_is_stored_as_unknown_and_not_announced(announcements, django_capture_on_commit_callbacks):
    camera = CameraFactory()

    with django_capture_on_commit_callbacks(execute=True):
        detection, announced = record_track(camera, FRAME, verdict(None, distance=0.3))

    assert not announced and announcements == []
    assert detection.status == "unknown" and detection.person_id == "" and detection.thumbnail
