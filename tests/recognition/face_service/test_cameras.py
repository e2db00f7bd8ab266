"""GET cameras/test-connection and cameras/capture-frame against the real RTSP classroom stream."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

from tests.factories import CameraFactory
from tests.recognition.face_service.conftest import BASE
from tests.recognition.face_service.factories import make_session

pytestmark = pytest.mark.django_db


def decode(jpeg: bytes) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None
    return pixels


# --- test-connection ---------------------------------------------------------------------------------


def test_a_live_camera_reports_its_rate_resolution_and_stability(client, classroom_stream):
    response = client.get(f"{BASE}/cameras/test-connection", {"rtspUrl": classroom_stream})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Camera connection successful"
    data = body["data"]
    assert (data["rtspUrl"], data["connected"]) == (classroom_stream, True)
    assert data["resolution"] == {"width": 960, "height": 360}
    assert data["frameRate"] == pytest.approx(10.0, abs=0.5)  # the clip is 10 fps
    assert data["stability"] == "stable"
    assert isinstance(data["latency"], int)
    assert data["testedAt"].endswith("Z")


def test_a_dead_camera_reports_why(client, dead_stream):
    body = client.get(f"{BASE}/cameras/test-connection", {"rtspUrl": dead_stream}).json()
    assert body["status"] == 200
    assert body["message"] == "Camera connection failed"
    assert body["data"]["connected"] is False
    assert body["data"]["error"] == "Connection refused"
    assert set(body["data"]) == {"rtspUrl", "connected", "error", "testedAt"}


def test_the_camera_password_is_masked_in_the_answer(client, dead_stream):
    url = dead_stream.replace("rtsp://", "rtsp://admin:hunter2@")
    body = client.get(f"{BASE}/cameras/test-connection", {"rtspUrl": url}).json()
    assert "hunter2" not in str(body)
    assert body["data"]["rtspUrl"].startswith("rtsp://admin:***@127.0.0.1:")


def test_test_connection_requires_the_rtsp_url(client):
    response = client.get(f"{BASE}/cameras/test-connection")
    assert response.status_code == 400
    assert response.json()["code"] == "RTSP_URL_REQUIRED"
    assert response.json()["message"] == "RTSP URL is required"


@pytest.mark.parametrize("path", ["cameras/test-connection", "cameras/capture-frame"])
def test_an_rtsp_url_on_a_blocked_range_is_refused_before_it_is_opened(client, path):
    response = client.get(f"{BASE}/{path}", {"rtspUrl": "rtsp://169.254.169.254:554/live"})

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_RTSP_URL"
    assert "may not point at this address" in response.json()["message"]


def test_test_connection_requires_an_api_key(db, classroom_stream):
    response = APIClient().get(f"{BASE}/cameras/test-connection", {"rtspUrl": classroom_stream})
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")


# --- capture-frame -----------------------------------------------------------------------------------


def test_it_captures_a_frame_as_base64(client, classroom_stream):
    response = client.get(f"{BASE}/cameras/capture-frame", {"rtspUrl": classroom_stream})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Frame captured successfully"
    data = body["data"]
    assert data["format"] == "base64"
    assert "cameraId" not in data
    prefix = "data:image/jpeg;base64,"
    assert data["image"].startswith(prefix)
    assert decode(base64.b64decode(data["image"][len(prefix) :])).shape[:2] == (360, 960)
    assert data["resolution"] == {"width": 960, "height": 360}


def test_a_file_capture_is_served_at_its_file_url(client, classroom_stream):
    data = client.get(f"{BASE}/cameras/capture-frame", {"rtspUrl": classroom_stream, "format": "file"}).json()["data"]
    assert data["format"] == "file"
    assert data["filePath"].endswith(".jpg") and "camera_preview_" in data["filePath"]
    served = APIClient().get(data["fileUrl"])
    assert served.status_code == 200
    assert decode(b"".join(served.streaming_content)).shape[:2] == (360, 960)


def test_a_camera_id_uses_the_stream_of_its_latest_session(client, classroom_stream):
    make_session(camera_url=classroom_stream)
    data = client.get(f"{BASE}/cameras/capture-frame", {"cameraId": 1}).json()["data"]
    assert data["cameraId"] == 1
    assert data["rtspUrl"] == classroom_stream


def test_a_camera_id_of_a_platform_camera_uses_its_stream(client, classroom_stream):
    CameraFactory(id="12", name="Hall", stream_url=classroom_stream)
    response = client.get(f"{BASE}/cameras/capture-frame", {"cameraId": 12})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["cameraId"] == 12


def test_an_unknown_camera_id_is_not_found(client):
    response = client.get(f"{BASE}/cameras/capture-frame", {"cameraId": 1})
    assert response.status_code == 404
    assert response.json() == {"status": 404, "message": "Camera not found: 1", "code": "CAMERA_NOT_FOUND"}


def test_capture_requires_a_camera_id_or_url(client):
    response = client.get(f"{BASE}/cameras/capture-frame")
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "Either cameraId or rtspUrl is required",
        "code": "CAMERA_ID_OR_RTSP_URL_REQUIRED",
    }


def test_capture_refuses_an_unknown_format(client, classroom_stream):
    response = client.get(f"{BASE}/cameras/capture-frame", {"rtspUrl": classroom_stream, "format": "png"})
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_FORMAT")


def test_a_dead_camera_fails_the_capture(client, dead_stream):
    response = client.get(f"{BASE}/cameras/capture-frame", {"rtspUrl": dead_stream})
    assert response.status_code == 500
    assert response.json() == {
        "status": 500,
        "message": "Failed to capture frame: Connection refused",
        "code": "FRAME_CAPTURE_FAILED",
    }
