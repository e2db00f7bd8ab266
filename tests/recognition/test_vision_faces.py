"""Faces on a live camera, end to end: a real RTSP stream in which people enter and leave, a real vision
worker (``manage.py run_vision``), the enrolled people in PostgreSQL; one detection per track, the right
names, strangers as unknown, attendance once per track."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage

from attendance.models import AttendanceLog
from cameras.models import Camera
from cameras.rtsp_server import RtspTestServer, make_slideshow_clip
from cameras.vision.decoder import Frame
from cameras.vision.registry import AnalysedFrame, Motion, StreamDemand, VisionStream, analyzer_factories
from recognition import enrolment
from recognition.choices import FACE_MODELS
from recognition.models import Detection, DetectionEventLog, UnknownCluster
from recognition.vision import FaceAnalyzer, face_analyzer, video_engine
from tests.recognition.conftest import jpeg_file, read_photo

SHARED_FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"
CLIP = "walk.mp4"
# The clip: nobody, Ann (img2; enrolled from img1), nobody, a stranger (img26), nobody, Bob (img14; enrolled
# from img13), nobody. Each scene lasts SCENE_SECONDS.
SCENES = ("empty", "img2.jpg", "empty", "img26.jpg", "empty", "img14.jpg", "empty")
SCENE_SECONDS = 3


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {seconds} s")


@pytest.fixture(scope="module")
def walk_stream(tmp_path_factory) -> Iterator[str]:
    """An RTSP stream (played once per connection) of people entering and leaving a grey room."""
    if not SHARED_FACES.is_dir():
        pytest.skip("../shared/data/faces is absent")
    directory = tmp_path_factory.mktemp("walk")
    empty = directory / "empty.png"
    cv2.imwrite(str(empty), np.full((480, 640, 3), 120, np.uint8))
    photos = [empty if scene == "empty" else SHARED_FACES / scene for scene in SCENES]
    make_slideshow_clip(directory / CLIP, photos, seconds_each=SCENE_SECONDS, size=(640, 480), fps=10)
    with RtspTestServer(directory, log_path=directory / "server.log") as server:
        yield server.url(CLIP)


def enrol(employee_id: str, name: str, photo: str):
    image = read_photo(SHARED_FACES / photo)
    return enrolment.create_profile({"employee_id": employee_id, "name": name}, [jpeg_file(image, photo)])


def test_people_entering_and_leaving_give_one_detection_per_track(walk_stream, vision_worker_processes):
    enrol("EMP-ANN", "Ann", "img1.jpg")
    enrol("EMP-BOB", "Bob", "img13.jpg")
    camera = Camera.objects.create(id="CAM-WALK", name="Walkway", stream_url=walk_stream, recognition_enabled=True)
    started = time.time()
    worker = vision_worker_processes("worker-faces")
    # Bob comes last: once his detection is in and the stranger's track has closed, the walk is over.
    wait_for(
        lambda: (
            Detection.objects.filter(person_id="EMP-BOB").exists()
            and Detection.objects.filter(status="unknown").exists()
        ),
        120,
        "Bob and the stranger detected",
    )
    time.sleep(3)  # Bob's track closes (2 s unseen) before the worker stops
    worker.terminate()
    worker.wait(15)

    rows = list(Detection.objects.filter(camera=camera).order_by("timestamp"))
    # One detection per passing, in the order they passed, with the right names; the stranger unknown.
    assert [(row.person_id, row.name, row.status) for row in rows] == [
        ("EMP-ANN", "Ann", "authorized"),
        ("", "", "unknown"),
        ("EMP-BOB", "Bob", "authorized"),
    ]
    assert len({row.track_id for row in rows}) == 3 and all(row.thumbnail for row in rows)
    for row in rows:
        event = DetectionEventLog.objects.get(pk=row.event_id)
        # Stamped with its frame's capture time: after the worker started, before the row was last stored (an
        # unknown's detection takes the track's best crop when it leaves, which may come after the first shot).
        assert started < row.timestamp.timestamp() <= event.created_at.timestamp()
        assert event.timestamp == row.timestamp and event.payload["trackId"] == row.track_id
    ann = DetectionEventLog.objects.get(pk=rows[0].event_id).payload
    assert ann["distance"] <= FACE_MODELS["Dlib"].threshold and (ann["margin"] is None or ann["margin"] > 0)
    # Attendance heard Ann and Bob (and nobody for the stranger).
    assert sorted(AttendanceLog.objects.values_list("employee_id", flat=True)) == ["EMP-ANN", "EMP-BOB"]
    # The stranger's track is one sighting of one unknown-face cluster, with a crop of its own (issue 20).
    [cluster] = UnknownCluster.objects.all()
    [sighting] = cluster.sightings.all()
    assert sighting.detection_id == rows[1].pk and cluster.cameras == ["CAM-WALK"] and cluster.count == 1
    assert sighting.storage_key.startswith("unknown-faces/") and default_storage.exists(sighting.storage_key)


def stream_of(*demands: StreamDemand) -> VisionStream:
    return VisionStream("s-test", demands)


def test_the_faces_analyzer_is_registered_with_the_pipeline():
    assert ("faces", face_analyzer) in analyzer_factories()


def test_a_camera_without_recognition_gets_no_faces_analyzer():
    camera = StreamDemand(
        kind="camera", id="CAM-01", url="rtsp://127.0.0.1:1/x", settings={"recognition_enabled": False}
    )

    assert face_analyzer(stream_of(camera)) is None


def test_only_the_cameras_with_recognition_on_a_shared_stream_are_analysed():
    url = "rtsp://127.0.0.1:1/x"
    on = StreamDemand(kind="camera", id="CAM-01", url=url, settings={"recognition_enabled": True})
    off = StreamDemand(kind="camera", id="CAM-02", url=url, settings={"recognition_enabled": False})

    analyzer = face_analyzer(stream_of(on, off))

    assert isinstance(analyzer, FaceAnalyzer) and analyzer.camera_ids == ["CAM-01"]


def test_faces_are_searched_at_the_cameras_rate_on_a_stream_decoded_faster():
    # Counting asks for 25 fps on the same decoder; the camera's faces are searched at its own 5 fps.
    url = "rtsp://127.0.0.1:1/x"
    camera = StreamDemand(kind="camera", id="CAM-01", url=url, fps=5.0, settings={"recognition_enabled": True})
    counting = StreamDemand(kind="counting", id="CAM-01", url=url, fps=25.0)
    stream = stream_of(camera, counting)
    analyzer = FaceAnalyzer(stream, ["CAM-01"], engine=video_engine())
    grey = np.full((360, 640, 3), 120, np.uint8)
    moving = Motion(active=True, score=0.1, regions=((0, 0, 640, 360),))

    for index in range(50):  # two seconds of frames at 25 fps, all of them moving
        frame = Frame(pixels=grey, captured_at=1000.0 + index / 25, index=index + 1)
        analyzer.on_frame(AnalysedFrame(frame=frame, motion=moving, stream=stream))

    assert analyzer.frames_searched == 10


def test_the_analyzer_decides_at_the_cameras_own_threshold_the_strictest_on_a_shared_stream():
    url = "rtsp://127.0.0.1:1/x"
    loose = StreamDemand(
        kind="camera", id="CAM-01", url=url, settings={"recognition_enabled": True, "match_threshold": 0.09}
    )
    strict = StreamDemand(
        kind="camera", id="CAM-02", url=url, settings={"recognition_enabled": True, "match_threshold": 0.05}
    )

    assert face_analyzer(stream_of(loose, strict)).threshold == 0.05
    assert face_analyzer(stream_of(loose)).threshold == 0.09


def test_without_a_camera_threshold_the_analyzer_uses_the_models():
    plain = StreamDemand(kind="camera", id="CAM-01", url="rtsp://127.0.0.1:1/x", settings={"recognition_enabled": True})

    assert face_analyzer(stream_of(plain)).threshold == FACE_MODELS["Dlib"].threshold


def test_a_camera_threshold_is_part_of_what_its_analysis_reads():
    from cameras.vision.camera_streams import analysis_settings

    camera = Camera(id="CAM-09", name="Door", recognition_enabled=True, match_threshold=0.06)

    assert analysis_settings(camera)["match_threshold"] == 0.06


def face_in_a_corner(astronaut: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 1280x720 grey frame with the astronaut's head in its upper left corner, and where the head is."""
    frame = np.full((720, 1280, 3), 120, np.uint8)
    head = cv2.resize(astronaut[0:260, 100:300], (200, 260))
    frame[40:300, 40:240] = head
    return frame, (40, 40, 200, 260)


@pytest.mark.django_db(transaction=True)
def test_faces_are_searched_where_the_picture_moves(astronaut):
    camera = StreamDemand(
        kind="camera", id="CAM-01", url="rtsp://127.0.0.1:1/x", settings={"recognition_enabled": True}
    )
    stream = stream_of(camera)
    analyzer = FaceAnalyzer(stream, ["CAM-01"], engine=video_engine())
    pixels, head = face_in_a_corner(astronaut)
    frame = Frame(pixels=pixels, captured_at=1000.0, index=1)

    analyzer.on_frame(
        AnalysedFrame(frame=frame, motion=Motion(active=True, score=0.05, regions=(head,)), stream=stream)
    )

    assert len(analyzer.tracker.tracks) == 1


@pytest.mark.django_db(transaction=True)
def test_a_face_away_from_the_motion_is_not_searched(astronaut):
    camera = StreamDemand(
        kind="camera", id="CAM-01", url="rtsp://127.0.0.1:1/x", settings={"recognition_enabled": True}
    )
    stream = stream_of(camera)
    analyzer = FaceAnalyzer(stream, ["CAM-01"], engine=video_engine())
    pixels, _ = face_in_a_corner(astronaut)
    frame = Frame(pixels=pixels, captured_at=1000.0, index=1)
    elsewhere = Motion(active=True, score=0.02, regions=((1000, 500, 120, 120),))

    analyzer.on_frame(AnalysedFrame(frame=frame, motion=elsewhere, stream=stream))

    assert analyzer.frames_searched == 1 and analyzer.tracker.tracks == {}
