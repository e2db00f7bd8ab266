"""The faces analyzer while the database is away (recognition.vision): nothing a passing needs is lost, nothing
is written twice. Here the failures are injected at the analyzer's database calls (the search, the write, the
announcement); tests/config/test_faults.py takes the real test database away under a live worker."""

from __future__ import annotations

import logging
import time

import cv2
import numpy as np
import pytest
from django.db import OperationalError

from attendance.models import AttendanceLog, AttendanceRecord
from cameras.vision.decoder import Frame
from cameras.vision.registry import AnalysedFrame, Motion, StreamDemand, VisionStream
from recognition import detections, enrolment, matching, vision
from recognition.detections import TrackVerdict, record_track, track_detection_id
from recognition.models import Detection, DetectionEventLog
from recognition.vision import FaceAnalyzer, PendingTracks, video_engine
from tests.factories import CameraFactory
from tests.recognition.conftest import jpeg_file

pytestmark = pytest.mark.django_db(transaction=True)

MOVING = Motion(active=True, score=0.2, regions=((0, 0, 1280, 720),))


def face_frame(astronaut: np.ndarray) -> np.ndarray:
    frame = np.full((720, 1280, 3), 120, np.uint8)
    frame[40:300, 40:240] = cv2.resize(astronaut[0:260, 100:300], (200, 260))
    return frame


@pytest.fixture
def scene(astronaut, monkeypatch):
    """A camera with recognition on, the astronaut enrolled, an analyzer on it (retries without waiting), and the
    pending list of the process replaced by one the test works off itself."""
    camera = CameraFactory(id="CAM-FLT", recognition_enabled=True)
    enrolment.create_profile({"employee_id": "EMP-AST", "name": "Astronaut"}, [jpeg_file(astronaut, "astronaut.jpg")])
    monkeypatch.setattr(vision, "RETRY_FIRST_SECONDS", 0.0)
    pending = PendingTracks(limit=vision.PENDING_MAX_TRACKS)
    pending.background = False
    monkeypatch.setattr(vision, "PENDING", pending)
    stream = VisionStream("s-flt", (StreamDemand(kind="camera", id=camera.pk, url="rtsp://127.0.0.1:1/x"),))
    analyzer = FaceAnalyzer(stream, [camera.pk], engine=video_engine())
    frame = face_frame(astronaut)

    def show(at: float, pixels: np.ndarray | None = None) -> None:
        picture = Frame(pixels=frame if pixels is None else pixels, captured_at=at, index=int(at * 10))
        analyzer.on_frame(AnalysedFrame(frame=picture, motion=MOVING, stream=stream))

    return camera, analyzer, show, pending


class Outage:
    """Makes a database call raise as if PostgreSQL were away while ``down``; counts the calls."""

    def __init__(self, monkeypatch, module, name: str, *, after: bool = False):
        self.down = True
        self.calls = 0
        real = getattr(module, name)

        def call(*args, **kwargs):
            self.calls += 1
            if self.down and not after:
                raise OperationalError("the database system is shutting down")
            result = real(*args, **kwargs)
            if self.down and after:  # committed, but the answer never arrives
                raise OperationalError("server closed the connection unexpectedly")
            return result

        monkeypatch.setattr(module, name, call)


def test_a_face_whose_search_failed_is_searched_again_and_named_once(scene, monkeypatch):
    _camera, analyzer, show, _ = scene
    outage = Outage(monkeypatch, matching, "identify")

    show(1000.0)
    show(1000.2)
    assert not Detection.objects.exists()  # not even as unknown: the shot was never searched
    assert analyzer.pending() == 1 and outage.calls >= 1

    outage.down = False
    show(1000.4)
    show(1000.6)

    [detection] = Detection.objects.all()
    assert detection.person_id == "EMP-AST" and detection.track_id in analyzer.tracker.tracks
    assert list(AttendanceLog.objects.values_list("employee_id", flat=True)) == ["EMP-AST"]
    assert analyzer.pending() == 0


def test_a_write_whose_answer_was_lost_is_found_again_not_doubled(scene, monkeypatch):
    camera, _analyzer, show, _ = scene
    heard = []
    real_announce = vision.announce_recognition
    monkeypatch.setattr(vision, "announce_recognition", lambda d, c, **kw: heard.append(d.pk) or real_announce(d, c))
    outage = Outage(monkeypatch, detections, "record_track", after=True)

    show(1000.0)
    assert Detection.objects.count() == 1 and heard == []  # committed, but the analyzer could not know

    outage.down = False
    show(1000.2)
    show(1000.4)

    [detection] = Detection.objects.all()
    assert detection.pk == track_detection_id(camera.pk, detection.track_id)
    assert DetectionEventLog.objects.filter(payload__trackId=detection.track_id).count() == 1
    assert heard == [detection.pk]
    assert AttendanceLog.objects.filter(employee_id="EMP-AST").count() == 1


def test_an_announcement_that_failed_is_sent_again_until_attendance_has_it(scene, monkeypatch):
    _camera, analyzer, show, _ = scene
    from attendance import receivers

    real = receivers.record_recognized_person
    state = {"down": True}

    def flaky(*args, **kwargs):
        if state["down"]:
            raise OperationalError("terminating connection due to administrator command")
        return real(*args, **kwargs)

    monkeypatch.setattr(receivers, "record_recognized_person", flaky)
    from recognition.signals import person_recognized

    person_recognized.disconnect(dispatch_uid="attendance.record_recognized_person")
    person_recognized.connect(flaky, dispatch_uid="attendance.record_recognized_person")
    try:
        show(1000.0)
        assert Detection.objects.count() == 1 and not AttendanceLog.objects.exists()
        state["down"] = False
        show(1000.2)
        show(1000.4)
    finally:
        person_recognized.disconnect(dispatch_uid="attendance.record_recognized_person")
        person_recognized.connect(real, dispatch_uid="attendance.record_recognized_person")

    assert AttendanceLog.objects.filter(employee_id="EMP-AST").count() == 1
    assert AttendanceRecord.objects.filter(person_id="EMP-AST").count() == 1
    assert analyzer.pending() == 0


def test_a_track_that_left_during_the_outage_is_written_once_the_database_is_back(scene, monkeypatch):
    _camera, analyzer, show, pending = scene
    outage = Outage(monkeypatch, matching, "identify")
    store = Outage(monkeypatch, detections, "record_track")

    show(1000.0)
    show(1000.2)
    analyzer.tick(1010.0, None)  # the face is gone long since: its track leaves the picture

    assert analyzer.tracker.tracks == {} and len(pending) == 1
    [(_, track)] = pending.items
    assert all(shot.pixels is None for shot in track.embedded)  # crops kept, not frames
    assert pending.flush() == 1 and not Detection.objects.exists()

    outage.down = store.down = False
    pending.backoff.retry_at = 0.0
    assert pending.flush() == 0

    [detection] = Detection.objects.all()
    assert detection.person_id == "EMP-AST" and detection.thumbnail
    assert detection.timestamp.timestamp() == pytest.approx(1000.0, abs=0.3)
    assert AttendanceLog.objects.filter(employee_id="EMP-AST").count() == 1


def test_past_its_bound_the_pending_list_gives_up_the_oldest_track_and_says_so(scene, monkeypatch, caplog):
    _camera, analyzer, show, _ = scene
    pending = PendingTracks(limit=2)
    pending.background = False
    monkeypatch.setattr(vision, "PENDING", pending)
    Outage(monkeypatch, matching, "identify")
    caplog.set_level(logging.ERROR, logger="argus.recognition")
    gone = []
    for n in range(3):
        show(1000.0 + 10 * n)
        show(1000.2 + 10 * n)
        gone.append(next(iter(analyzer.tracker.tracks)))
        analyzer.tick(1009.0 + 10 * n, None)

    assert [track.id for _, track in pending.items] == gone[1:]
    assert pending.given_up == 1
    assert any(gone[0] in record.getMessage() and "lost" in record.getMessage() for record in caplog.records)


def test_record_track_is_idempotent_per_camera_and_track(django_capture_on_commit_callbacks):
    camera = CameraFactory()
    verdict = TrackVerdict(
        track_id="TRACK-idem",
        profile=None,
        distance=0.3,
        margin=None,
        confidence=90.0,
        box={"top": 10, "left": 10, "width": 60, "height": 60},
        captured_at=1_760_000_000.5,
        shots=3,
    )
    frame = np.full((200, 200, 3), 90, np.uint8)

    first, _ = record_track(camera, frame, verdict)
    again, _ = record_track(camera, frame, verdict)  # no existing: as after a lost answer

    assert again.pk == first.pk and Detection.objects.count() == 1
    assert DetectionEventLog.objects.count() == 1 and again.thumbnail == first.thumbnail
    other, _ = record_track(CameraFactory(), frame, verdict)
    assert other.pk != first.pk and Detection.objects.count() == 2


# --- With real parts: PostgreSQL refuses the test database while people pass a live camera ----------------

# The clip: nobody, Ann (img2; enrolled from img1), nobody, Bob (img14; from img13), nobody, Cid (img17; from
# img16), nobody, a stranger (img26), nobody; SCENE_SECONDS each, played once per connection.
FAULT_SCENES = ("empty", "img2.jpg", "empty", "img14.jpg", "empty", "img17.jpg", "empty", "img26.jpg", "empty")
# From Ann's detection: Bob's whole passing and part of Cid's fall in the outage, the stranger's after it. Shorter
# than the worker's lease (cameras.vision.leases.LEASE_SECONDS): the worker cannot renew it while its beat
# reads the cameras from the database.
OUTAGE_SECONDS = 10


@pytest.fixture(scope="module")
def fault_walk_stream(tmp_path_factory):
    from cameras.rtsp_server import RtspTestServer, make_slideshow_clip
    from tests.recognition.test_vision_faces import SCENE_SECONDS, SHARED_FACES

    if not SHARED_FACES.is_dir():
        pytest.skip("../shared/data/faces is absent")
    directory = tmp_path_factory.mktemp("fault-walk")
    empty = directory / "empty.png"
    cv2.imwrite(str(empty), np.full((480, 640, 3), 120, np.uint8))
    photos = [empty if scene == "empty" else SHARED_FACES / scene for scene in FAULT_SCENES]
    make_slideshow_clip(directory / "walk.mp4", photos, seconds_each=SCENE_SECONDS, size=(640, 480), fps=10)
    with RtspTestServer(directory, log_path=directory / "server.log") as server:
        yield server.url("walk.mp4")


def start_worker(worker_id: str, log_path):
    """A real ``manage.py run_vision`` on this run's database and Redis, its log kept in ``log_path``."""
    import subprocess
    import sys

    from tests.conftest import BASE_DIR, vision_worker_environment

    env = vision_worker_environment(ARGUS_LOG_FORMAT="plain")
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes it; closed with the test's tmp_path
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_vision", "--worker-id", worker_id],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_people_passing_while_postgresql_is_away_get_one_detection_and_one_attendance_each(fault_walk_stream, tmp_path):
    """A real worker watches a real RTSP stream; once Ann is detected, the test database refuses connections
    and its sessions are killed for OUTAGE_SECONDS, covering Bob's whole passing. Afterwards every passing
    has exactly one detection (the right person, one track each) and every enrolled person one attendance log
    and one presence row: Bob's, searched and written only after the database came back, is stamped with the
    capture time of a frame seen while it was away."""
    from django.db import connection

    from cameras.models import Camera
    from tests.config.test_faults import _database_outage
    from tests.recognition.test_vision_faces import enrol, wait_for

    enrol("EMP-ANN", "Ann", "img1.jpg")
    enrol("EMP-BOB", "Bob", "img13.jpg")
    enrol("EMP-CID", "Cid", "img16.jpg")
    camera = Camera.objects.create(
        id="CAM-FAULT", name="Fault walkway", stream_url=fault_walk_stream, recognition_enabled=True
    )
    name = connection.settings_dict["NAME"]
    log_path = tmp_path / "worker.log"
    worker = start_worker("worker-faults", log_path)
    try:
        wait_for(lambda: Detection.objects.filter(person_id="EMP-ANN").exists(), 120, "Ann detected")
        down_at = time.time()
        _database_outage(name, down=True)
        try:
            time.sleep(OUTAGE_SECONDS)
        finally:
            _database_outage(name, down=False)
        up_at = time.time()
        connection.close()  # the test's own session was killed too
        wait_for(
            lambda: (
                Detection.objects.filter(person_id__in=["EMP-BOB", "EMP-CID"]).count() >= 2
                and Detection.objects.filter(status="unknown").exists()
            ),
            120,
            "Bob, Cid and the stranger detected",
        )
        time.sleep(4)  # the stranger's track closes (2 s unseen) and any retry lands before the worker stops
    finally:
        worker.terminate()
        worker.wait(15)
    log = log_path.read_text(errors="replace")

    rows = list(Detection.objects.filter(camera=camera).order_by("timestamp"))
    assert [(row.person_id, row.status) for row in rows] == [
        ("EMP-ANN", "authorized"),
        ("EMP-BOB", "authorized"),
        ("EMP-CID", "authorized"),
        ("", "unknown"),
    ], log[-4000:]
    assert len({row.track_id for row in rows}) == 4 and all(row.thumbnail for row in rows)
    assert all(row.pk == track_detection_id(camera.pk, row.track_id) for row in rows)
    bob = rows[1]
    # Bob passed while the database was away; his row was written after it came back.
    assert down_at < bob.timestamp.timestamp() < up_at
    assert DetectionEventLog.objects.get(pk=bob.event_id).created_at.timestamp() > up_at
    assert "could not" in log and "answers again" in log, log[-4000:]
    # Attendance: exactly one log (and one presence row) per enrolled person, from their own passing.
    logs = {log.employee_id: log for log in AttendanceLog.objects.all()}
    assert sorted(logs) == ["EMP-ANN", "EMP-BOB", "EMP-CID"]
    assert AttendanceRecord.objects.count() == 3
    for row in rows[:3]:
        assert abs(logs[row.person_id].check_in.timestamp() - row.timestamp.timestamp()) < 4


@pytest.mark.slow
def test_people_passing_while_redis_is_away_get_one_detection_and_one_attendance_each(
    fault_walk_stream, tmp_path, settings
):
    """The worker's Redis (a private server: cache, channel layer, leases) is killed once Ann is detected and
    started again, empty, after Bob and Cid have passed. Their detections and attendance do not need Redis: one
    each, never doubled (a live-list or WebSocket failure after the commit does not make the write look
    failed). Once Redis is back the worker holds the camera again by itself."""
    from django.db import connection

    from cameras.models import Camera
    from tests.cameras.test_vision_worker import holders
    from tests.config.test_faults import PrivateRedis
    from tests.recognition.test_vision_faces import enrol, wait_for

    redis_server = PrivateRedis(tmp_path)
    redis_server.start()
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": redis_server.url}}
    try:
        enrol("EMP-ANN", "Ann", "img1.jpg")
        enrol("EMP-BOB", "Bob", "img13.jpg")
        enrol("EMP-CID", "Cid", "img16.jpg")
        camera = Camera.objects.create(
            id="CAM-FAULT-R", name="Fault walkway", stream_url=fault_walk_stream, recognition_enabled=True
        )
        log_path = tmp_path / "worker.log"
        worker = start_worker("worker-redis", log_path)
        try:
            wait_for(lambda: Detection.objects.filter(person_id="EMP-ANN").exists(), 120, "Ann detected")
            redis_server.stop()
            down_at = time.time()
            wait_for(lambda: Detection.objects.filter(person_id="EMP-CID").exists(), 60, "Cid detected")
            time.sleep(3)  # Cid's track closes (2 s unseen) while Redis is still away
            redis_server.start()
            up_at = time.time()
            wait_for(lambda: holders(camera)["CAM-FAULT-R"] == "worker-redis", 30, "the camera held again")
        finally:
            worker.terminate()
            worker.wait(15)
        log = log_path.read_text(errors="replace")
        connection.close()

        # The passings before Redis came back (the worker restarts the stream once its lease is found gone).
        rows = list(Detection.objects.filter(camera=camera, timestamp__lt=up_at_datetime(up_at)).order_by("timestamp"))
        assert [(row.person_id, row.status) for row in rows] == [
            ("EMP-ANN", "authorized"),
            ("EMP-BOB", "authorized"),
            ("EMP-CID", "authorized"),
        ], log[-4000:]
        assert len({row.track_id for row in rows}) == 3
        assert all(down_at < row.timestamp.timestamp() for row in rows[1:])
        assert sorted(AttendanceLog.objects.values_list("employee_id", flat=True)) == ["EMP-ANN", "EMP-BOB", "EMP-CID"]
        assert AttendanceRecord.objects.count() == 3
    finally:
        redis_server.stop()


def up_at_datetime(moment: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, tz=UTC)


def test_the_backoff_doubles_up_to_its_bound_and_never_overflows_however_long_the_outage():
    from recognition.vision import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS, Backoff

    clock = {"now": 100.0}
    backoff = Backoff("test", clock=lambda: clock["now"])
    waits = []
    for _ in range(10_000):  # some days of an outage at the longest wait
        backoff.failed(OperationalError("down"), "write")
        waits.append(backoff.retry_at - clock["now"])

    assert waits[:3] == [RETRY_FIRST_SECONDS, 2 * RETRY_FIRST_SECONDS, 4 * RETRY_FIRST_SECONDS]
    assert max(waits) == waits[-1] == RETRY_MAX_SECONDS and not backoff.ready()
    backoff.succeeded()
    assert backoff.ready() and backoff.failures == 0
