"""Django Admin of the camera domain: every changelist loads, passwords stay encrypted and masked, actions work."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from cameras.models import Alert, Camera, Sensor, Snapshot, Zone
from config.models import BannerMessage, SystemMetric, SystemService
from tests.factories import AlertFactory, CameraFactory, SnapshotFactory

pytestmark = pytest.mark.django_db

SECRET = "adm1n-S3cret"
POLYGON = {"type": "polygon", "points": [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]}


@pytest.fixture
def admin_site(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def one_of_each(db) -> None:
    camera = CameraFactory(id="CAM-01", name="Lobby", stream_url="rtsp://127.0.0.1:8554/x.mp4", enabled=False)
    zone = Zone.objects.create(id="zone-001", name="Door", camera=camera, geometry=POLYGON)
    Sensor.objects.create(id="sensor-001", name="Barrier", type="barrier", camera=camera, zone=zone)
    SnapshotFactory(camera=camera, storage_key="snapshots/CAM-01/x.jpg", width=640, height=360, taken_at=timezone.now())
    AlertFactory(
        id="ALERT-1", title="Camera offline: Lobby", level="high", camera=camera, source="camera-offline:CAM-01"
    )
    SystemMetric.objects.create(category="cpu", label="CPU usage", value=12.5, unit="%")
    SystemService.objects.create(id="worker", name="Celery worker", status="running")
    BannerMessage.objects.create(message="Maintenance tonight", level="warning")


@pytest.mark.parametrize(
    "model",
    [
        "cameras/camera",
        "cameras/zone",
        "cameras/sensor",
        "cameras/snapshot",
        "cameras/alert",
        "config/systemmetric",
        "config/systemservice",
        "config/bannermessage",
    ],
)
def test_changelist_loads(admin_site, one_of_each, model):
    response = admin_site.get(f"/admin/{model}/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize(
    "model",
    [
        "cameras/camera",
        "cameras/zone",
        "cameras/sensor",
        "cameras/alert",
        "config/systemservice",
        "config/bannermessage",
    ],
)
def test_add_form_loads(admin_site, model):
    assert admin_site.get(f"/admin/{model}/add/").status_code == 200


def test_changelist_needs_a_staff_login(client, one_of_each):
    response = client.get("/admin/cameras/camera/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def camera_form(**fields) -> dict:
    form = {
        "id": "CAM-09",
        "name": "Gate",
        "location": "North",
        "stream_type": "RTSP",
        "status": "offline",
        "tags": "[]",
        # What the page shows for a new camera (the vision workers' defaults).
        "analysis_fps": "5.0",
        "detect_width": "1280",
        "detect_height": "720",
        "ip_address": "",
        "width": "",
        "height": "",
        "zone": "",
        "detection_model": "",
        "ocr_models": "[]",
        "metadata": "{}",
        # A site address: stored only, never opened (the camera is not enabled).
        "stream_address": f"rtsp://admin:{SECRET}@10.20.0.9:554/live",
    }
    return {**form, **fields}


def test_admin_turns_recognition_on_with_the_analysis_settings(admin_site):
    response = admin_site.post(
        "/admin/cameras/camera/add/",
        camera_form(recognition_enabled="on", analysis_fps="2.5", detect_width="960", detect_height="540"),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    camera = Camera.objects.get(pk="CAM-09")
    assert camera.recognition_enabled is True
    assert (camera.analysis_fps, camera.detect_width, camera.detect_height) == (2.5, 960, 540)


def test_the_admin_form_has_no_recognition_interval(admin_site):
    html = admin_site.get("/admin/cameras/camera/add/").content.decode()

    assert 'name="analysis_fps"' in html and 'name="recognition_enabled"' in html
    assert "recognition_interval" not in html


def test_adding_a_camera_stores_its_password_encrypted(admin_site):
    response = admin_site.post("/admin/cameras/camera/add/", camera_form())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stream_url, stream_password FROM {Camera._meta.db_table} WHERE id = %s", ["CAM-09"])
        stream_url, stream_password = cursor.fetchone()
    assert stream_url == "rtsp://admin@10.20.0.9:554/live"
    assert SECRET not in stream_password
    assert Camera.objects.get(pk="CAM-09").stream_password == SECRET


def test_adding_a_camera_takes_its_ip_address_from_the_url(admin_site):
    admin_site.post("/admin/cameras/camera/add/", camera_form())
    assert Camera.objects.get(pk="CAM-09").ip_address == "10.20.0.9"


def test_adding_a_camera_keeps_an_ip_address_given_in_the_form(admin_site):
    admin_site.post("/admin/cameras/camera/add/", camera_form(ip_address="10.20.0.10"))
    assert Camera.objects.get(pk="CAM-09").ip_address == "10.20.0.10"


def test_adding_a_camera_with_an_invalid_url_shows_the_error(admin_site):
    response = admin_site.post("/admin/cameras/camera/add/", camera_form(stream_address="http://10.20.0.9/x"))
    assert response.status_code == 200
    assert "stream_address" in response.context["adminform"].form.errors
    assert not Camera.objects.exists()


def test_camera_change_page_shows_the_url_masked(admin_site):
    admin_site.post("/admin/cameras/camera/add/", camera_form())
    response = admin_site.get("/admin/cameras/camera/CAM-09/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "rtsp://admin:***@10.20.0.9:554/live" in page
    assert SECRET not in page


def test_saving_the_change_page_unchanged_keeps_the_password(admin_site):
    admin_site.post("/admin/cameras/camera/add/", camera_form())
    response = admin_site.post(
        "/admin/cameras/camera/CAM-09/change/",
        camera_form(name="Gate (renamed)", stream_address="rtsp://admin:***@10.20.0.9:554/live"),
    )
    assert response.status_code == 302
    camera = Camera.objects.get(pk="CAM-09")
    assert (camera.name, camera.stream_password, camera.version) == ("Gate (renamed)", SECRET, 2)


def test_the_acknowledge_action_acknowledges_the_selected_alerts(admin_site, one_of_each):
    AlertFactory(id="ALERT-2", title="Other", level="low")
    response = admin_site.post("/admin/cameras/alert/", {"action": "acknowledge", "_selected_action": ["ALERT-1"]})
    assert response.status_code == 302
    assert Alert.objects.get(pk="ALERT-1").acknowledged is True
    assert Alert.objects.get(pk="ALERT-2").acknowledged is False


def test_the_mute_action_mutes_the_selected_alerts(admin_site, one_of_each):
    admin_site.post("/admin/cameras/alert/", {"action": "mute", "_selected_action": ["ALERT-1"]})
    assert Alert.objects.get(pk="ALERT-1").muted is True


def test_the_disable_action_disables_the_selected_cameras(admin_site, one_of_each):
    Camera.objects.filter(pk="CAM-01").update(enabled=True)
    admin_site.post("/admin/cameras/camera/", {"action": "disable", "_selected_action": ["CAM-01"]})
    assert Camera.objects.get(pk="CAM-01").enabled is False


def test_snapshot_change_page_loads(admin_site, one_of_each):
    snapshot = Snapshot.objects.get()
    assert admin_site.get(f"/admin/cameras/snapshot/{snapshot.pk}/change/").status_code == 200


def test_unknown_snapshot_change_page_redirects(admin_site):
    response = admin_site.get(f"/admin/cameras/snapshot/{uuid.uuid4()}/change/")
    assert response.status_code == 302


def test_adding_a_camera_with_its_own_match_threshold_keeps_it(admin_site):
    response = admin_site.post("/admin/cameras/camera/add/", camera_form(match_threshold="0.06"))

    assert response.status_code == 302
    assert Camera.objects.get(pk="CAM-09").match_threshold == 0.06


def test_a_match_threshold_looser_than_twice_the_models_is_refused_in_admin(admin_site):
    response = admin_site.post("/admin/cameras/camera/add/", camera_form(match_threshold="0.5"))

    assert response.status_code == 200
    assert "match_threshold" in response.context["adminform"].form.errors
    assert not Camera.objects.exists()
