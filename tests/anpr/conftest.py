"""Fixtures of the ANPR tests: real JPEG/PNG images made with OpenCV, events as edge workers send them,
clients holding each ANPR permission, and stored events with known values."""

from __future__ import annotations

import copy
import json
from typing import Any

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.conftest import role_client
from tests.factories import ApiKeyFactory

SPEC_EVENT: dict[str, Any] = {
    "event_id": "evt-20231215-001-cam1",
    "timestamp": "2023-12-15T14:30:45.123Z",
    "camera_id": "cam-001",
    "zone_id": "zone-entrance",
    "plate_text": "ABC123",
    "confidence": 0.95,
    "raw_candidates": [
        {"text": "ABC123", "confidence": 0.95, "model": "paddle-ocr"},
        {"text": "ABC123", "confidence": 0.92, "model": "tesseract"},
    ],
    "vehicle_info": {"color": "white", "type": "sedan", "confidence": 0.87},
    "tpms_status": {"sensors": 4, "temperature": 42, "pressure": 2.1, "status": "ok"},
    "metadata": {"edge_worker_id": "edge-001", "processing_time_ms": 245, "frame_number": 1523},
}


def spec_event(**changes: Any) -> dict[str, Any]:
    """003's example event, with ``changes`` (a value of None removes the field)."""
    event = copy.deepcopy(SPEC_EVENT)
    for name, value in changes.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def _picture(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    cv2.putText(image, f"ABC-{seed:03d}", (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return image


def jpeg_bytes(width: int = 320, height: int = 240, seed: int = 1) -> bytes:
    ok, encoded = cv2.imencode(".jpg", _picture(width, height, seed), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


def png_bytes(width: int = 200, height: int = 60, seed: int = 2) -> bytes:
    ok, encoded = cv2.imencode(".png", _picture(width, height, seed))
    assert ok
    return encoded.tobytes()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def multipart(event: dict[str, Any], **images: bytes) -> dict[str, Any]:
    body: dict[str, Any] = {"event": json.dumps(event)}
    for field, data in images.items():
        body[field] = upload(f"{field}.jpg", data)
    return body


def stored_files() -> list[str]:
    """Every file under anpr-events/ in the test's storage."""
    found: list[str] = []

    def walk(path: str) -> None:
        if not default_storage.exists(path):
            return
        directories, files = default_storage.listdir(path)
        found.extend(f"{path}/{name}" for name in files)
        for directory in directories:
            walk(f"{path}/{directory}")

    walk("anpr-events")
    return sorted(found)


def fetch(client: APIClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def assert_003_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code
    assert body["detail"]
    assert body["timestamp"].endswith("Z")
    assert body["request_id"]
    return body


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.fixture
def edge_client(api_key) -> APIClient:
    """An edge worker: an API key with the anpr:ingest scope."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key.raw)
    return client


@pytest.fixture
def reader_client(db) -> APIClient:
    return role_client("ROLE-ANPR-READER", ["anpr:read"])


@pytest.fixture
def editor_client(db) -> APIClient:
    return role_client("ROLE-ANPR-EDITOR", ["anpr:read", "anpr:write"])


@pytest.fixture
def read_key_client(db) -> APIClient:
    """A machine reading events: an API key with the anpr:read scope."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=ApiKeyFactory(scopes=["anpr:read"]).raw)
    return client
