"""End to end: a real RTSP camera looking at an enrolled person (a video made from their photo), ``POST
/detections/send-frame``, a real Celery worker grabbing the frame, and the detection arriving over the
WebSocket, in the live list and in attendance."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from accounts import tokens
from attendance.models import AttendanceLog, AttendanceRecord
from cameras.rtsp_server import RtspTestServer, make_slideshow_clip
from config.asgi import application
from recognition.models import Detection, DetectionEventLog
from tests.factories import CameraFactory, ShiftScheduleFactory
from tests.recognition.conftest import enrol, photo_file

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module")
def face_camera(tmp_path_factory, shared_data_dir):
    """An RTSP server streaming two clips: Person One (img2) and a stranger (img26)."""
    folder = tmp_path_factory.mktemp("face-rtsp")
    make_slideshow_clip(folder / "person.mp4", [shared_data_dir / "faces" / "img2.jpg"], seconds_each=8)
    make_slideshow_clip(folder / "stranger.mp4", [shared_data_dir / "faces" / "img26.jpg"], seconds_each=8)
    with RtspTestServer(folder, log_path=folder / "server.log") as server:
        yield server


@pytest.fixture(scope="module")
def shared_data_dir() -> Path:
    path = Path(__file__).resolve().parents[3] / "shared" / "data"
    if not (path / "faces").is_dir():
        pytest.skip("../shared/data is absent (a user's own clone): the face photographs are not here")
    return path


def _wait_for_event(job_id: str, timeout: float = 90) -> DetectionEventLog:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = DetectionEventLog.objects.get(pk=job_id)
        if event.status != "processing":
            return event
        time.sleep(0.5)
    raise AssertionError(f"detection job {job_id} still processing after {timeout} s")


def test_send_frame_recognises_the_person_on_a_real_camera(
    admin_client, admin_user, shared_data_dir, face_camera, celery_worker_process
):
    assert (
        enrol(admin_client, "EMP-001", "Person One", [photo_file(shared_data_dir / "faces" / "img1.jpg")]).status_code
        == 201
    )
    # Engineering's shift started at midnight with no grace: any sighting today is a late arrival.
    ShiftScheduleFactory(
        id="SHIFT-ENG",
        name="Engineering",
        start_time=dt.time(0, 0),
        end_time=dt.time(23, 59),
        grace_minutes=0,
        departments=["Engineering"],
        expected_headcount=1,
    )
    CameraFactory(id="CAM-01", name="Main entrance", stream_url=face_camera.url("person.mp4", loop=True))
    token = tokens.issue_tokens(admin_user).access

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws?token={token}")
        connected, _ = await socket.connect(timeout=5)
        assert connected
        await socket.receive_json_from(5)  # connected
        await socket.send_json_to({"action": "subscribe", "channel": "detections", "cameraId": "CAM-01"})
        await socket.receive_json_from(5)  # subscribed
        post = sync_to_async(admin_client.post)
        response = await post("/api/v1/detections/send-frame", {"cameraId": "CAM-01"}, format="json")
        assert response.status_code == 202
        message = await socket.receive_json_from(120)
        await socket.disconnect(timeout=1)
        await sync_to_async(connections.close_all)()
        return response.json()["data"]["jobId"], message

    job_id, message = async_to_sync(scenario)()

    event = _wait_for_event(job_id)
    assert event.status == "received", event.error_message
    detection = Detection.objects.get(event=event)
    assert detection.person_id == "EMP-001" and detection.status == "authorized"
    assert message["type"] == "detection" and message["cameraId"] == "CAM-01"
    assert message["detection"]["personId"] == "EMP-001"
    assert message["detection"]["name"] == "Person One"
    assert message["detection"]["thumbnail"]
    live = admin_client.get("/api/v1/detections/live", {"cameraId": "CAM-01"}).json()["data"]
    assert live[0]["id"] == str(detection.id)
    # The recognition counts as the person's attendance for the (site-local) day: in at the sighting.
    log = AttendanceLog.objects.get(employee_id="EMP-001")
    assert log.check_in == detection.timestamp and log.camera_id == "CAM-01"
    assert log.status == "late" and log.shift_id == "SHIFT-ENG" and log.accuracy == detection.confidence
    assert AttendanceRecord.objects.get(person_id="EMP-001").status == "on-site"


def test_send_frame_on_a_camera_looking_at_a_stranger_stores_an_unknown(
    admin_client, shared_data_dir, face_camera, celery_worker_process
):
    assert (
        enrol(admin_client, "EMP-001", "Person One", [photo_file(shared_data_dir / "faces" / "img1.jpg")]).status_code
        == 201
    )
    CameraFactory(id="CAM-02", name="Back door", stream_url=face_camera.url("stranger.mp4", loop=True))

    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-02"}, format="json")

    event = _wait_for_event(response.json()["data"]["jobId"])
    assert event.status == "received", event.error_message
    [detection] = Detection.objects.filter(event=event)
    assert detection.status == "unknown" and detection.person_id == ""
