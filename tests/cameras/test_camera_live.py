"""Testing cameras and taking snapshots through the API, against the real RTSP server on 127.0.0.1.

001: ``POST /api/v1/cameras/{id}/test-connection`` and ``/snapshot``; 003: ``POST /config/cameras/{id}/test``.
Dead cameras are local ports nothing listens on; no other address is ever opened.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cameras.choices import CameraStatus
from cameras.models import Camera, Snapshot
from tests.cameras.conftest import LiveStream
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_camera(rtsp_server: LiveStream) -> Camera:
    return CameraFactory(id="CAM-01", name="Lobby", stream_url=rtsp_server.url, status=CameraStatus.OFFLINE)


@pytest.fixture
def dead_camera(closed_port_url: str) -> Camera:
    return CameraFactory(id="CAM-02", name="Unplugged", stream_url=closed_port_url, status=CameraStatus.ONLINE)


# --- 001 test-connection ----------------------------------------------------------------------------


@pytest.fixture
def live_test(operator_client, live_camera) -> dict:
    response = operator_client.post("/api/v1/cameras/CAM-01/test-connection")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_test_connection_of_a_live_camera_succeeds(live_test):
    assert live_test["success"] is True
    assert live_test["message"] == "Connection OK"


def test_test_connection_measures_latency(live_test):
    assert live_test["latencyMs"] > 0


def test_test_connection_reports_the_clips_resolution(live_test, rtsp_server: LiveStream):
    assert live_test["resolution"] == f"{rtsp_server.clip.width}x{rtsp_server.clip.height}"


def test_test_connection_reports_codec_fps_and_bitrate(live_test):
    assert live_test["codec"]
    assert live_test["fps"] > 0
    assert live_test["bitrate"] > 0


def test_test_connection_of_a_live_camera_marks_it_online(live_test):
    camera = Camera.objects.get(pk="CAM-01")
    assert camera.status == CameraStatus.ONLINE
    assert camera.last_seen is not None


def test_test_connection_of_a_camera_without_parameter_sets_in_its_sdp_succeeds(operator_client, in_band_stream):
    CameraFactory(id="CAM-03", name="In-band", stream_url=in_band_stream.url, status=CameraStatus.OFFLINE)

    response = operator_client.post("/api/v1/cameras/CAM-03/test-connection")

    data = response.json()["data"]
    assert (data["success"], data["message"]) == (True, "Connection OK")
    assert data["resolution"] == f"{in_band_stream.clip.width}x{in_band_stream.clip.height}"
    assert Camera.objects.get(pk="CAM-03").status == CameraStatus.ONLINE


def test_test_connection_of_a_dead_camera_fails(operator_client, dead_camera):
    response = operator_client.post("/api/v1/cameras/CAM-02/test-connection")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["success"] is False
    assert data["message"].startswith("Connection failed: ")
    assert data["resolution"] is None


def test_test_connection_of_a_dead_camera_marks_it_offline(operator_client, dead_camera):
    operator_client.post("/api/v1/cameras/CAM-02/test-connection")
    camera = Camera.objects.get(pk="CAM-02")
    assert camera.status == CameraStatus.OFFLINE
    assert camera.last_error


def test_viewer_cannot_test_a_connection(viewer_client, dead_camera):
    assert viewer_client.post("/api/v1/cameras/CAM-02/test-connection").status_code == 403
    assert Camera.objects.get(pk="CAM-02").last_checked is None


def test_test_connection_of_an_unknown_camera_is_404(operator_client):
    assert operator_client.post("/api/v1/cameras/CAM-404/test-connection").status_code == 404


# --- 001 snapshot -----------------------------------------------------------------------------------


@pytest.fixture
def snapshot_answer(operator_client, live_camera):
    return operator_client.post("/api/v1/cameras/CAM-01/snapshot")


def test_snapshot_answers_201_with_asset_id_url_and_timestamp(snapshot_answer):
    assert snapshot_answer.status_code == 201, snapshot_answer.content
    data = snapshot_answer.json()["data"]
    assert data["assetId"] == str(Snapshot.objects.get().id)
    assert data["url"]
    assert data["timestamp"].endswith("Z")


def test_snapshot_url_serves_a_jpeg_of_the_stream(snapshot_answer, client, rtsp_server: LiveStream):
    response = client.get(snapshot_answer.json()["data"]["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    assert body[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(body, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (rtsp_server.clip.height, rtsp_server.clip.width)


def test_snapshot_becomes_the_cameras_thumbnail(snapshot_answer, operator_client):
    thumbnail = operator_client.get("/api/v1/cameras/CAM-01").json()["data"]["thumbnail"]
    assert thumbnail
    assert Camera.objects.get(pk="CAM-01").thumbnail == Snapshot.objects.get().storage_key


def test_snapshot_of_a_dead_camera_is_503_camera_unreachable(operator_client, dead_camera):
    response = operator_client.post("/api/v1/cameras/CAM-02/snapshot")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "CAMERA_UNREACHABLE"


def test_snapshot_of_a_dead_camera_records_nothing(operator_client, dead_camera):
    operator_client.post("/api/v1/cameras/CAM-02/snapshot")
    assert not Snapshot.objects.exists()


def test_viewer_cannot_take_a_snapshot(viewer_client, dead_camera):
    assert viewer_client.post("/api/v1/cameras/CAM-02/snapshot").status_code == 403


# --- 003 test ---------------------------------------------------------------------------------------


def test_003_test_of_a_live_camera_answers_stream_info(operator_client, live_camera, rtsp_server: LiveStream):
    response = operator_client.post("/config/cameras/CAM-01/test?timeout=5")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "RTSP stream connection successful"
    assert body["response_time_ms"] > 0
    info = body["stream_info"]
    assert set(info) == {"codec", "width", "height", "fps"}
    assert (info["width"], info["height"]) == (rtsp_server.clip.width, rtsp_server.clip.height)
    assert info["codec"]
    assert info["fps"] == pytest.approx(rtsp_server.clip.fps, rel=0.2)


def test_003_test_of_a_dead_camera_is_503_failed(operator_client, dead_camera):
    response = operator_client.post("/config/cameras/CAM-02/test?timeout=5")
    assert response.status_code == 503
    body = response.json()
    assert set(body) == {"status", "message", "error", "response_time_ms"}
    assert body["status"] == "failed"
    assert body["error"]
    assert body["message"] == f"Failed to connect to RTSP stream: {body['error']}"
    assert body["response_time_ms"] >= 0


def test_003_test_of_a_dead_camera_marks_it_offline(operator_client, dead_camera):
    operator_client.post("/config/cameras/CAM-02/test?timeout=5")
    assert Camera.objects.get(pk="CAM-02").status == CameraStatus.OFFLINE


@pytest.mark.parametrize("timeout", ["0", "99", "soon"])
def test_003_test_refuses_a_timeout_outside_1_to_60(operator_client, dead_camera, timeout):
    response = operator_client.post(f"/config/cameras/CAM-02/test?timeout={timeout}")
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["errors"] == [{"field": "timeout", "message": "must be an integer from 1 to 60"}]
    assert {"detail", "timestamp", "request_id"} <= set(body)
    assert Camera.objects.get(pk="CAM-02").last_checked is None


def test_003_test_of_an_unknown_camera_is_404(operator_client):
    response = operator_client.post("/config/cameras/cam-404/test?timeout=5")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_NOT_FOUND"
