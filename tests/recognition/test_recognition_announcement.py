"""Recognition announces each enrolled person it recognises; attendance subscribes, recognition never calls it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from attendance.models import AttendanceLog
from recognition import detections
from recognition.providers import ProvidedFace, ProviderAnswer
from recognition.signals import person_recognized
from tests.factories import CameraFactory, FaceProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)

FRAME = np.zeros((480, 640, 3), dtype=np.uint8)
BOX = {"top": 100, "left": 200, "width": 120, "height": 140}


def _recognise(camera, profile):
    face = ProvidedFace(box=BOX, confidence=97.0, profile=profile, person_id=profile.employee_id, name=profile.name)
    return detections.record_detections(camera, FRAME, ProviderAnswer(faces=[face], latency_ms=5))


def test_a_recognition_of_an_enrolled_person_writes_their_attendance_log():
    camera, profile = CameraFactory(), FaceProfileFactory()

    _recognise(camera, profile)

    log = AttendanceLog.objects.get(employee_id=profile.employee_id)
    assert log.camera_id == camera.pk


def test_an_unknown_face_is_not_announced():
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    person_recognized.connect(listener)
    try:
        face = ProvidedFace(box=BOX, confidence=80.0)
        detections.record_detections(CameraFactory(), FRAME, ProviderAnswer(faces=[face], latency_ms=5))
    finally:
        person_recognized.disconnect(listener)

    assert received == []
    assert not AttendanceLog.objects.exists()


def test_a_failing_subscriber_keeps_the_detection_and_logs_its_cause(caplog):
    def broken(sender, **kwargs):
        raise RuntimeError("subscriber broke")

    person_recognized.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="argus.recognition"):
            [row] = _recognise(CameraFactory(), FaceProfileFactory())
    finally:
        person_recognized.disconnect(broken)

    assert type(row).objects.filter(pk=row.pk).exists()
    assert "subscriber broke" in caplog.text
    # the other subscriber (attendance) still ran
    assert AttendanceLog.objects.filter(employee_id=row.person_id).exists()
