"""One scan of a session camera, run in the test process against the real RTSP classroom stream."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from recognition.face_service import scanning
from recognition.models import RecognitionResult, SessionCamera
from tests.recognition.face_service.conftest import read_photo
from tests.recognition.face_service.factories import make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def classroom_session(classroom_stream, student_embeddings):
    return make_session(camera_url=classroom_stream, students=student_embeddings, similarity_threshold=0.85)


def scan(session, engine):
    camera = SessionCamera.objects.get(session=session)
    return scanning.scan_camera(camera.pk, str(camera.scan_chain), engine=engine)


def test_a_scan_records_the_students_the_camera_sees(classroom_session, engine):
    outcome = scan(classroom_session, engine)
    assert (outcome.keep_scanning, outcome.faces, outcome.matched, outcome.new_results) == (True, 3, 2, 2)
    recognised = RecognitionResult.objects.filter(session=classroom_session).select_related("student")
    assert sorted(r.student.user_id for r in recognised) == [201, 202]
    assert all(r.similarity >= 0.92 for r in recognised)


def test_a_scan_counts_frames_and_faces_on_the_camera(classroom_session, engine):
    scan(classroom_session, engine)
    camera = SessionCamera.objects.get(session=classroom_session)
    assert (camera.scans, camera.frames_processed, camera.faces_detected, camera.faces_matched) == (1, 1, 3, 2)
    assert camera.processing_seconds > 0
    assert camera.last_frame_at is not None


def test_a_student_is_recorded_once_per_session(classroom_session, engine):
    scan(classroom_session, engine)
    outcome = scan(classroom_session, engine)
    assert (outcome.matched, outcome.new_results) == (2, 0)
    assert RecognitionResult.objects.filter(session=classroom_session).count() == 2


def test_a_stopped_session_ends_the_chain(classroom_session, engine, post):
    post("recognition/stop-session", {"slotId": 1})
    camera = SessionCamera.objects.get(session=classroom_session)
    assert scanning.scan_camera(camera.pk, str(uuid.uuid4()), engine=engine).keep_scanning is False
    assert SessionCamera.objects.get(pk=camera.pk).scans == 0


def test_a_superseded_chain_ends(classroom_session, engine):
    camera = SessionCamera.objects.get(session=classroom_session)
    outcome = scanning.scan_camera(camera.pk, str(uuid.uuid4()), engine=engine)
    assert outcome.keep_scanning is False


def test_a_camera_that_stops_answering_keeps_its_chain_and_counts_the_failure(engine, dead_stream):
    session = make_session(camera_url=dead_stream)
    outcome = scan(session, engine)
    assert outcome.keep_scanning is True
    assert outcome.error == "Connection refused"
    camera = SessionCamera.objects.get(session=session)
    assert (camera.scans, camera.failed_scans, camera.consecutive_failures) == (1, 1, 1)
    assert camera.error == "Connection refused"


def test_a_stranger_close_to_a_student_is_not_taken_for_them_under_dlib(engine, settings):
    photo = read_photo("img1.jpg")  # person A; the only student is img26, another person
    visitor = engine.embed(photo, engine.detect(photo)[0])
    other = read_photo("img26.jpg")
    student = engine.embed(other, engine.detect(other)[0])
    faces = [({"top": 0}, visitor)]
    # At 004's default 0.85 the raw similarity (about 0.90) would pass; the Dlib floor (0.92) does not.
    assert scanning.match_faces(faces, [(1, student)], 0.85)[1] == 1
    assert scanning.match_faces(faces, [(1, student)], scanning.effective_threshold(0.85, engine))[1] == 0


def test_the_model_floor_can_be_switched_off(engine, settings):
    settings.FACE_SERVICE_ENFORCE_MODEL_THRESHOLD = False
    assert scanning.effective_threshold(0.85, engine) == 0.85


def test_each_student_takes_their_most_similar_face():
    student = np.array([1.0, 0.0], dtype=np.float32)
    faces = [({"left": 1}, np.array([0.9, 0.1], dtype=np.float32)), ({"left": 2}, np.array([1.0, 0.01]))]
    matches, matched = scanning.match_faces(faces, [(5, student)], 0.5)
    assert matched == 2
    assert [(m.student_id, m.box) for m in matches] == [(5, {"left": 2})]
