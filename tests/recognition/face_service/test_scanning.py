"""A session camera's analysis on the vision pipeline, in the test process: the watch is fed the frames of the
classroom video (three faces: two students and a visitor) as a decoder hands them out, and reports at the
session's scanInterval."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from cameras import services
from cameras.vision import registry
from cameras.vision.decoder import DecoderStats, Frame
from cameras.vision.registry import AnalysedFrame, Motion, VisionStream, stream_key
from recognition.face_service import scanning, vision
from recognition.models import RecognitionResult, SessionCamera
from tests.recognition.face_service.conftest import read_photo
from tests.recognition.face_service.factories import make_session

pytestmark = pytest.mark.django_db

T0 = 1_790_000_000.0


@pytest.fixture(scope="module")
def classroom_pixels(videos) -> np.ndarray:
    capture = cv2.VideoCapture(str(videos["classroom"]))
    ok, pixels = capture.read()
    capture.release()
    assert ok
    return pixels


@pytest.fixture
def classroom_session(classroom_stream, student_embeddings):
    return make_session(camera_url=classroom_stream, students=student_embeddings, similarity_threshold=0.85)


def watch_of(session) -> tuple[VisionStream, vision.SessionCameras]:
    (demand,) = [d for d in vision.session_camera_demands() if d.settings["session"] == str(session.pk)]
    stream = VisionStream(stream_key(demand.url), (demand,))
    analyzer = vision.watch_session_cameras(stream)
    assert analyzer is not None
    return stream, analyzer


def show(analyzer, stream, pixels, at: float, moving: bool = True, index: int = 1) -> None:
    frame = Frame(pixels=pixels, captured_at=at, index=index, connection=1)
    motion = Motion(active=moving, score=0.1 if moving else 0.0)
    analyzer.on_frame(AnalysedFrame(frame=frame, motion=motion, stream=stream))
    # the search runs in the watch's own thread: wait for it, as the stream's thread never does
    assert all(watch.wait_idle() for watch in analyzer.watches)


def streaming() -> DecoderStats:
    return DecoderStats(connected=True)


def camera_of(session) -> SessionCamera:
    return SessionCamera.objects.get(session=session)


def test_the_watch_reports_the_students_the_camera_sees(classroom_session, classroom_pixels, engine):
    stream, analyzer = watch_of(classroom_session)
    show(analyzer, stream, classroom_pixels, T0)

    analyzer.tick(time.time() + 2, streaming())

    recognised = RecognitionResult.objects.filter(session=classroom_session).select_related("student")
    assert sorted(r.student.user_id for r in recognised) == [201, 202]
    assert all(r.similarity >= 1 - engine.threshold for r in recognised)
    # timed at the capture of the frame that matched, not at the report
    assert {r.detected_at for r in recognised} == {datetime.fromtimestamp(T0, UTC)}


def test_a_report_counts_frames_and_faces_on_the_camera(classroom_session, classroom_pixels, engine):
    stream, analyzer = watch_of(classroom_session)
    show(analyzer, stream, classroom_pixels, T0)

    analyzer.tick(time.time() + 2, streaming())

    camera = camera_of(classroom_session)
    assert (camera.scans, camera.frames_processed, camera.faces_detected, camera.faces_matched) == (1, 1, 3, 2)
    assert camera.processing_seconds > 0
    assert camera.last_frame_at == datetime.fromtimestamp(T0, UTC)


def test_results_wait_for_the_scan_interval(classroom_stream, student_embeddings, classroom_pixels, engine):
    session = make_session(camera_url=classroom_stream, students=student_embeddings, scan_interval=30)
    stream, analyzer = watch_of(session)
    show(analyzer, stream, classroom_pixels, T0)

    analyzer.tick(time.time() + 5, streaming())
    assert not RecognitionResult.objects.filter(session=session).exists()
    analyzer.tick(time.time() + 31, streaming())
    assert RecognitionResult.objects.filter(session=session).count() == 2


def test_a_face_followed_across_frames_is_one_track_embedded_once(classroom_session, classroom_pixels, engine):
    stream, analyzer = watch_of(classroom_session)
    for index in range(5):
        show(analyzer, stream, classroom_pixels, T0 + index / 2, index=index + 1)

    (watch,) = analyzer.watches
    # three people, three tracks; the model ran for each track's first shot only (the later ones are no better)
    assert sorted(len(track.embedded) for track in watch.tracker.tracks.values()) == [1, 1, 1]
    named = sorted(track.state["student"].person for track in watch.tracker.tracks.values() if "student" in track.state)
    assert len(named) == 2


def test_a_student_is_recorded_once_per_session(classroom_session, classroom_pixels, engine):
    stream, analyzer = watch_of(classroom_session)
    show(analyzer, stream, classroom_pixels, T0, index=1)
    analyzer.tick(time.time() + 2, streaming())
    show(analyzer, stream, classroom_pixels, T0 + 1, index=2)
    analyzer.tick(time.time() + 4, streaming())

    assert RecognitionResult.objects.filter(session=classroom_session).count() == 2
    assert (camera_of(classroom_session).scans, camera_of(classroom_session).faces_matched) == (2, 4)


def test_moving_frames_are_searched_at_the_analysis_rate_and_still_ones_once_per_interval(
    classroom_stream, student_embeddings, classroom_pixels, engine, settings
):
    settings.FACE_SERVICE_ANALYSIS_FPS = 1
    session = make_session(camera_url=classroom_stream, students=student_embeddings, scan_interval=5)
    stream, analyzer = watch_of(session)
    for index in range(25):  # 5 s of motion at 5 fps: searched once a second
        show(analyzer, stream, classroom_pixels, T0 + index / 5, index=index + 1)
    for index in range(25, 75):  # then 10 s with nothing moving: once per 5 s interval
        show(analyzer, stream, classroom_pixels, T0 + index / 5, moving=False, index=index + 1)

    analyzer.tick(time.time() + 6, streaming())

    assert camera_of(session).frames_processed == 5 + 2


def test_a_stopped_session_records_no_result(classroom_session, classroom_pixels, engine, post):
    stream, analyzer = watch_of(classroom_session)
    show(analyzer, stream, classroom_pixels, T0)
    post("recognition/stop-session", {"slotId": 1})

    analyzer.close()

    assert not RecognitionResult.objects.filter(session=classroom_session).exists()
    assert not [d for d in vision.session_camera_demands() if d.settings["session"] == str(classroom_session.pk)]


def test_a_camera_that_gives_no_frame_counts_a_failed_scan(engine, dead_stream):
    session = make_session(camera_url=dead_stream)
    _stream, analyzer = watch_of(session)

    analyzer.tick(time.time() + 2, DecoderStats(connected=False, last_error="Connection refused"))

    camera = camera_of(session)
    assert (camera.scans, camera.failed_scans, camera.consecutive_failures) == (1, 1, 1)
    assert camera.error == "Connection refused"


def test_only_active_cameras_of_active_sessions_are_watched(classroom_stream, dead_stream):
    from recognition.face_service.choices import SessionCameraStatus

    watched = make_session(slot_id=1, camera_url=classroom_stream)
    failed = make_session(slot_id=2, camera_url=dead_stream)
    SessionCamera.objects.filter(session=failed).update(status=SessionCameraStatus.FAILED)

    demands = list(vision.session_camera_demands())

    assert [(d.kind, d.id) for d in demands] == [("session-camera", str(camera_of(watched).pk))]
    assert demands[0].settings == {"session": str(watched.pk), "scan_interval": 1, "threshold": 0.85}


def test_a_session_camera_shares_the_stream_of_a_platform_camera_with_its_url(classroom_stream):
    services.create_camera({"id": "CAM-01", "name": "A101", "stream_url": classroom_stream})
    make_session(camera_url=classroom_stream)

    (stream,) = registry.wanted_streams().values()

    assert sorted(d.kind for d in stream.demands) == ["camera", "session-camera"]


def test_a_stranger_close_to_a_student_is_not_taken_for_them_under_dlib(engine, settings):
    photo = read_photo("img1.jpg")  # person A; the only student is img26, another person
    visitor = engine.embed(photo, engine.detect(photo)[0])
    other = read_photo("img26.jpg")
    student = engine.embed(other, engine.detect(other)[0])
    faces = [({"top": 0}, visitor)]
    # At 004's default 0.85 the raw similarity (about 0.90) would pass; the Dlib floor (0.93) does not.
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
