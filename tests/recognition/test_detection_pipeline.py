"""One frame through the detection pipeline: the built-in engine on the shared photographs, an external HTTP
provider on loopback, track ids, provider health with its alert, and the recognition loop's dispatcher."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from cameras.models import Alert
from recognition import detections
from recognition.models import Detection, DetectionEventLog, DetectionProviderConfig
from recognition.providers import HttpProvider, ProviderError, RetryPolicy
from tests.factories import CameraFactory, DetectionEventLogFactory, DetectionFactory, FaceProfileFactory
from tests.recognition.conftest import enrol, photo_file

pytestmark = pytest.mark.django_db


NOWHERE = "rtsp://127.0.0.1:9/none.mp4"  # a stream on a closed port: never read here


@pytest.fixture
def camera():
    return CameraFactory(id="CAM-01", name="Main entrance", stream_url=NOWHERE)


@pytest.fixture
def enrolled(admin_client, shared_data, engine):
    for photo, employee_id, name in (("img1", "EMP-001", "Person One"), ("img13", "EMP-013", "Person Thirteen")):
        response = enrol(admin_client, employee_id, name, [photo_file(shared_data / "faces" / f"{photo}.jpg")])
        assert response.status_code == 201, response.json()


def _event(camera) -> DetectionEventLog:
    return DetectionEventLogFactory(camera=camera, status="processing")


def _photo(shared_data, name: str) -> np.ndarray:
    return cv2.imread(str(shared_data / "faces" / name))


def test_an_enrolled_person_in_a_frame_is_an_authorized_detection(enrolled, camera, shared_data):
    result = detections.process_frame(_event(camera), _photo(shared_data, "img2.jpg"))

    [detection] = result.detections
    assert detection.person_id == "EMP-001" and detection.name == "Person One"
    assert detection.status == "authorized"
    assert detection.confidence > 90
    assert detection.track_id.startswith("TRACK-")
    assert set(detection.bounding_box) == {"top", "left", "width", "height"}
    assert default_storage.exists(detection.thumbnail)
    assert result.event.status == "received" and result.event.latency_ms is not None
    assert result.event.payload["faces"][0]["personId"] == "EMP-001"


def test_a_stranger_is_an_unknown_detection(enrolled, camera, shared_data):
    result = detections.process_frame(_event(camera), _photo(shared_data, "img26.jpg"))

    [detection] = result.detections
    assert detection.status == "unknown" and detection.person_id == "" and detection.profile is None


def test_an_enrolled_person_who_is_not_active_is_a_visitor(enrolled, camera, shared_data):
    Detection.objects.all().delete()
    from recognition.models import FaceProfile

    FaceProfile.objects.filter(employee_id="EMP-013").update(status="pending")

    [detection] = detections.process_frame(_event(camera), _photo(shared_data, "img14.jpg")).detections

    assert detection.person_id == "EMP-013" and detection.status == "visitor"


def test_every_face_of_a_group_photo_is_a_detection(enrolled, camera, shared_data):
    result = detections.process_frame(_event(camera), _photo(shared_data, "couple.jpg"))

    assert len(result.detections) == 2
    assert len({d.track_id for d in result.detections}) == 2


def test_the_same_person_seen_again_keeps_their_track(camera):
    now = timezone.now()
    first = detections.assign_track(camera.pk, "EMP-001", {"top": 0, "left": 0, "width": 50, "height": 50}, now)
    again = detections.assign_track(camera.pk, "EMP-001", {"top": 200, "left": 200, "width": 50, "height": 50}, now)
    other = detections.assign_track(camera.pk, "EMP-002", {"top": 400, "left": 0, "width": 50, "height": 50}, now)

    assert first == again
    assert other != first


def test_an_unknown_face_overlapping_a_recent_one_keeps_its_track(camera):
    now = timezone.now()
    first = detections.assign_track(camera.pk, "", {"top": 100, "left": 100, "width": 60, "height": 60}, now)
    moved = detections.assign_track(camera.pk, "", {"top": 105, "left": 108, "width": 60, "height": 60}, now)
    elsewhere = detections.assign_track(camera.pk, "", {"top": 400, "left": 400, "width": 60, "height": 60}, now)

    assert first == moved
    assert elsewhere != first


def _use_http_provider(url: str, api_key: str = "provider-key") -> DetectionProviderConfig:
    config = DetectionProviderConfig.load()
    config.kind, config.endpoint, config.api_key, config.timeout_seconds = "http", url, api_key, 5
    config.save()
    return config


def test_an_http_provider_gets_the_frame_and_its_detections_are_stored(camera, http_peer):
    person = FaceProfileFactory(employee_id="EMP-777", name="Known Person")
    answer = [
        {"personId": "EMP-777", "confidence": 96.4, "boundingBox": {"top": 5, "left": 6, "width": 30, "height": 40}},
        {"personId": None, "confidence": 71, "boundingBox": {"top": 50, "left": 50, "width": 20, "height": 20}},
    ]
    peer = http_peer(answer={"detections": answer})
    _use_http_provider(peer.url)
    result = detections.process_frame(_event(camera), np.full((120, 160, 3), 90, dtype=np.uint8))

    [request] = peer.requests
    assert request.headers["authorization"] == "Bearer provider-key"
    assert request.json["cameraId"] == "CAM-01" and request.json["image"]
    known, unknown = sorted(result.detections, key=lambda d: d.status)
    assert known.profile == person and known.status == "authorized" and known.confidence == 96.4
    assert known.source == "http"
    assert unknown.status == "unknown"


def test_an_http_provider_failing_once_is_retried(camera, http_peer):
    peer = http_peer(answer={"detections": []}, fail_first=1)
    config = _use_http_provider(peer.url)
    provider = HttpProvider(config, policy=RetryPolicy(max_attempts=3, initial_delay_ms=1), sleep=lambda s: None)
    answer = provider.detect(np.zeros((32, 32, 3), dtype=np.uint8), camera_id="CAM-01")

    assert len(peer.requests) == 2
    assert answer.faces == []


def test_a_provider_that_is_down_leaves_an_error_event(camera):
    _use_http_provider("http://127.0.0.1:9/detect")
    event = _event(camera)

    with pytest.raises(ProviderError):
        detections.process_frame(event, np.zeros((32, 32, 3), dtype=np.uint8))

    event.refresh_from_db()
    assert event.status == "error" and event.error_message
    assert not Detection.objects.exists()


def test_a_provider_going_offline_raises_one_alert_and_recovery_resolves_it(http_peer):
    _use_http_provider("http://127.0.0.1:9/detect")

    first = detections.check_provider()
    detections.check_provider()

    assert first["status"] == "offline"
    assert Alert.objects.filter(source="detection-provider", resolved_at__isnull=True).count() == 1
    assert DetectionProviderConfig.load().status == "offline"
    _use_http_provider(http_peer(answer={"detections": []}).url)
    assert detections.check_provider()["status"] == "connected"
    assert not Alert.objects.filter(source="detection-provider", resolved_at__isnull=True).exists()


def test_the_builtin_engine_reports_itself_connected(engine):
    report = detections.check_provider()

    assert report["status"] == "connected"
    assert DetectionProviderConfig.load().status == "connected"


def test_beat_checks_the_provider_every_5_min_and_no_longer_scans_cameras():
    from django_celery_beat.models import PeriodicTask

    provider = PeriodicTask.objects.get(task="recognition.check_detection_provider")

    assert (provider.interval.every, provider.interval.period) == (300, "seconds")
    assert not PeriodicTask.objects.filter(task="recognition.dispatch_scans").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/recognition/detection/",
        "/admin/recognition/detectioneventlog/",
        "/admin/recognition/detectionproviderconfig/",
        "/admin/recognition/recognitionsession/",
    ],
)
def test_admin_lists_the_detection_and_session_tables(client, admin_user, camera, path):
    DetectionFactory(camera=camera)
    client.force_login(admin_user)

    assert client.get(path).status_code == 200


def test_an_engine_crash_leaves_an_error_event_not_a_stuck_job(camera, monkeypatch):
    from recognition import providers

    def crash(self, pixels, *, camera_id=""):
        raise RuntimeError("dlib exploded")

    monkeypatch.setattr(providers.BuiltinProvider, "detect", crash)
    event = _event(camera)

    with pytest.raises(RuntimeError):
        detections.process_frame(event, np.zeros((32, 32, 3), dtype=np.uint8))

    event.refresh_from_db()
    assert event.status == "error" and event.error_message == "dlib exploded"
