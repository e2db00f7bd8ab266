"""Snapshots: a real frame from the RTSP server, stored (filesystem or S3), recorded, and served by signed URL."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import cv2
import httpx
import numpy as np
import pytest
from django.core.files.storage import default_storage
from moto.server import ThreadedMotoServer

from cameras.models import Camera, Snapshot
from cameras.probing import StreamUnavailable
from cameras.snapshots import snapshot_url, take_snapshot
from tests.cameras.conftest import LiveStream
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

KEY_PATTERN = r"snapshots/CAM-01/\d{8}T\d{12}Z\.jpg"


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG OpenCV can read"
    return image


@pytest.fixture
def camera(rtsp_server: LiveStream) -> Camera:
    return CameraFactory(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)


@pytest.fixture
def dead_camera(closed_port_url: str) -> Camera:
    return CameraFactory(id="CAM-02", name="Unplugged", stream_url=closed_port_url, thumbnail="old.jpg")


def test_snapshot_stores_a_jpeg_of_the_stream_size_under_the_camera_key(camera: Camera, rtsp_server: LiveStream):
    snapshot = take_snapshot(camera)
    assert re.fullmatch(KEY_PATTERN, snapshot.storage_key)
    with default_storage.open(snapshot.storage_key, "rb") as stored:
        image = decode(stored.read())
    assert image.shape[:2] == (rtsp_server.clip.height, rtsp_server.clip.width)


def test_snapshot_records_the_frame(camera: Camera, rtsp_server: LiveStream):
    snapshot = take_snapshot(camera)
    row = Snapshot.objects.get(pk=snapshot.pk)
    assert (row.camera_id, row.width, row.height) == ("CAM-01", rtsp_server.clip.width, rtsp_server.clip.height)
    assert row.size_bytes == default_storage.size(row.storage_key) > 0


def test_snapshot_key_carries_the_utc_time_it_was_taken(camera: Camera):
    snapshot = take_snapshot(camera)
    assert snapshot.storage_key.endswith(snapshot.taken_at.strftime("%Y%m%dT%H%M%S%fZ.jpg"))
    assert snapshot.taken_at.utcoffset() == timedelta(0)


def test_snapshot_becomes_the_thumbnail_without_touching_the_rest_of_the_camera(camera: Camera):
    before = Camera.objects.get(pk=camera.pk)
    snapshot = take_snapshot(camera)
    after = Camera.objects.get(pk=camera.pk)
    assert after.thumbnail == snapshot.storage_key
    assert (after.updated_at, after.version) == (before.updated_at, before.version)


def test_snapshot_opens_the_stream_with_a_password_full_of_special_characters(rtsp_server: LiveStream):
    camera = CameraFactory(
        id="CAM-01", name="Gate", stream_url=rtsp_server.url.replace("rtsp://", "rtsp://admin@"),
        stream_password="p@ss:w/rd#1?%",
    )  # fmt: skip
    assert take_snapshot(camera).width == rtsp_server.clip.width


def test_signed_url_serves_the_same_bytes_through_the_files_view(camera: Camera, client):
    snapshot = take_snapshot(camera)
    url = snapshot_url(snapshot)
    assert url.startswith(f"/files/{snapshot.storage_key}?")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with default_storage.open(snapshot.storage_key, "rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


def test_snapshot_url_without_its_signature_is_refused(camera: Camera, client):
    snapshot = take_snapshot(camera)
    assert client.get(f"/files/{snapshot.storage_key}").status_code == 403


def test_dead_camera_raises_stream_unavailable(dead_camera: Camera):
    with pytest.raises(StreamUnavailable, match="Connection refused"):
        take_snapshot(dead_camera, timeout=5)


def test_dead_camera_stores_nothing(dead_camera: Camera, settings):
    with pytest.raises(StreamUnavailable):
        take_snapshot(dead_camera, timeout=5)
    assert not (Path(settings.MEDIA_ROOT) / "snapshots").exists()
    assert not Snapshot.objects.exists()
    assert Camera.objects.get(pk=dead_camera.pk).thumbnail == "old.jpg"


def test_camera_without_a_stream_url_raises_stream_unavailable():
    camera = CameraFactory(id="CAM-03", name="Unconfigured")
    with pytest.raises(StreamUnavailable, match="No stream URL"):
        take_snapshot(camera)


# --- S3 (moto's server mode: a real HTTP S3 endpoint) ------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings) -> Iterator[tuple[str, object]]:
    """A fresh bucket, made the default storage the way settings.py configures S3."""
    bucket = f"argus-test-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **credentials)
    s3.create_bucket(Bucket=bucket)
    # Assigning STORAGES fires setting_changed: Django drops its cached storages and default_storage.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "querystring_auth": True,
                "querystring_expire": 600,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    yield bucket, s3


def test_snapshot_on_s3_stores_the_object_in_the_bucket(camera: Camera, s3_bucket):
    bucket, s3 = s3_bucket
    snapshot = take_snapshot(camera)
    stored = s3.get_object(Bucket=bucket, Key=snapshot.storage_key)["Body"].read()
    assert re.fullmatch(KEY_PATTERN, snapshot.storage_key)
    assert decode(stored).shape[1] == snapshot.width


def test_snapshot_on_s3_signed_url_is_a_presigned_url_that_downloads_the_bytes(camera: Camera, s3_bucket, s3_endpoint):
    bucket, s3 = s3_bucket
    snapshot = take_snapshot(camera)
    url = snapshot_url(snapshot)
    assert url.startswith(s3_endpoint)
    assert "Signature=" in url  # SigV2 or SigV4, as botocore chooses for the configured signature_version
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == s3.get_object(Bucket=bucket, Key=snapshot.storage_key)["Body"].read()
