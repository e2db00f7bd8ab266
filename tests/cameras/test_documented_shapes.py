"""Each cameras and system answer built as a dict is what the OpenAPI document says (summary, export and
import, test-connection and snapshot, the 003 camera test, the system figures and banners)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cameras.choices import CameraStatus
from cameras.models import Camera
from config.models import SystemMetric
from tests.cameras.conftest import LiveStream
from tests.documented import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_camera(rtsp_server: LiveStream) -> Camera:
    return Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url, status=CameraStatus.OFFLINE)


@pytest.fixture
def dead_camera(closed_port_url: str) -> Camera:
    return Camera.objects.create(id="CAM-02", name="Unplugged", stream_url=closed_port_url, tags=["gate"])


def test_the_camera_summary_is_documented(viewer_client, dead_camera):
    assert_documented(viewer_client.get("/api/v1/cameras/summary"), "/api/v1/cameras/summary")


def test_the_camera_export_is_documented(viewer_client, dead_camera):
    assert_documented(viewer_client.get("/api/v1/cameras/export"), "/api/v1/cameras/export")


def test_the_camera_import_result_is_documented(admin_client):
    body = {"cameras": [{"id": "CAM-09", "name": "Dock", "streamUrl": "rtsp://127.0.0.1:9/dock.mp4"}]}

    assert_documented(admin_client.post("/api/v1/cameras/import", body, format="json"), "/api/v1/cameras/import")


def test_a_working_connection_test_is_documented(operator_client, live_camera):
    response = operator_client.post("/api/v1/cameras/CAM-01/test-connection")

    assert_documented(response, "/api/v1/cameras/{id}/test-connection")


def test_a_failed_connection_test_is_documented(operator_client, dead_camera):
    response = operator_client.post("/api/v1/cameras/CAM-02/test-connection")

    assert_documented(response, "/api/v1/cameras/{id}/test-connection")


def test_a_snapshot_is_documented(operator_client, live_camera):
    assert_documented(operator_client.post("/api/v1/cameras/CAM-01/snapshot"), "/api/v1/cameras/{id}/snapshot")


def test_a_working_003_camera_test_is_documented(admin_client, live_camera):
    assert_documented(admin_client.post("/config/cameras/CAM-01/test"), "/config/cameras/{id}/test")


def test_a_failed_003_camera_test_is_documented(admin_client, dead_camera):
    assert_documented(admin_client.post("/config/cameras/CAM-02/test"), "/config/cameras/{id}/test")


def test_the_system_summary_is_documented(viewer_client, dead_camera):
    assert_documented(viewer_client.get("/api/v1/system/summary"), "/api/v1/system/summary")


def test_the_latest_metrics_and_their_history_are_documented(viewer_client):
    now = timezone.now()
    for minutes in (30, 10):
        SystemMetric.objects.create(
            category="cpu",
            label="CPU usage",
            value=12.5,
            unit="%",
            limit_value=100.0,
            timestamp=now - timedelta(minutes=minutes),
        )

    assert_documented(viewer_client.get("/api/v1/system/health/metrics"), "/api/v1/system/health/metrics")
    history = viewer_client.get("/api/v1/system/health/metrics", {"history": "1", "label": "CPU usage"})
    assert_documented(history, "/api/v1/system/health/metrics")


def test_the_services_are_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/system/health/services"), "/api/v1/system/health/services")


def test_the_network_metrics_are_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/system/network-metrics"), "/api/v1/system/network-metrics")


def test_the_uptime_is_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/system/uptime"), "/api/v1/system/uptime")


def test_the_version_is_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/system/version"), "/api/v1/system/version")


def test_banners_are_documented(admin_client):
    body = {"message": "Maintenance at 22:00", "level": "warning"}

    assert_documented(
        admin_client.post("/api/v1/services/banner-messages", body, format="json"), "/api/v1/services/banner-messages"
    )
    assert_documented(admin_client.get("/api/v1/services/banner-messages"), "/api/v1/services/banner-messages")


def test_clearing_notifications_is_documented(admin_client):
    assert_documented(admin_client.delete("/api/v1/notifications"), "/api/v1/notifications")
