"""The cameras app's dashboard pages: camera grid and form, alerts, system health."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from cameras import alerting, services
from cameras.choices import AlertLevel, CameraStatus
from cameras.models import Camera, Snapshot
from tests.conftest import signed_in
from tests.factories import AlertFactory, CameraFactory, NotificationFactory, role_user

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-Pass"
URL_WITH_PASSWORD = f"rtsp://admin:{SECRET}@127.0.0.1:8554/live.mp4"
MASKED_URL = "rtsp://admin:***@127.0.0.1:8554/live.mp4"


@pytest.fixture
def nobody_user():
    """A signed-in user whose role grants nothing."""
    return role_user("ROLE-NOBODY", [])


@pytest.fixture
def camera():
    return services.create_camera(
        {"id": "CAM-07", "name": "Gate", "location": "North gate", "stream_url": URL_WITH_PASSWORD}
    )


@pytest.fixture
def alert(camera):
    created, _ = alerting.raise_once(
        source="camera-offline:CAM-07",
        title="Camera offline: Gate",
        description="no answer",
        level=AlertLevel.HIGH,
        camera=camera,
    )
    return created


def stored_password_column(camera_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT stream_password FROM cameras_camera WHERE id = %s", [camera_id])
        return cursor.fetchone()[0]


def form_data(**overrides) -> dict:
    data = {
        "name": "Lobby",
        "location": "Ground floor",
        "stream_type": "RTSP",
        "stream_url": URL_WITH_PASSWORD,
        "enabled": "on",
        "status": "offline",
        "tags": "indoor, lobby",
    }
    data.update(overrides)
    return data


# --- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cameras/", "/cameras/new/", "/cameras/alerts/"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", ["/cameras/", "/cameras/alerts/"])
def test_viewer_sees_the_read_pages(viewer_user, path):
    response = signed_in(viewer_user).get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/cameras/", "/cameras/alerts/"])
def test_read_pages_refuse_a_role_without_cameras_read(nobody_user, path):
    response = signed_in(nobody_user).get(path)

    assert response.status_code == 403
    assert b"cameras:read" in response.content
    assert b"Not allowed" in response.content


def test_viewer_cannot_write(viewer_user, camera, alert):
    client = signed_in(viewer_user)

    assert client.get("/cameras/new/").status_code == 403
    assert client.get("/cameras/CAM-07/edit/").status_code == 403
    assert client.post("/cameras/new/", form_data()).status_code == 403
    assert client.post("/cameras/CAM-07/test/").status_code == 403
    assert client.post("/cameras/CAM-07/snapshot/").status_code == 403
    assert client.post(f"/cameras/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.post(f"/cameras/alerts/{alert.pk}/mute/").status_code == 403
    alert.refresh_from_db()
    assert not alert.acknowledged and not alert.muted
    assert Camera.objects.count() == 1


def test_viewer_gets_no_write_buttons(viewer_user, camera, alert):
    grid = signed_in(viewer_user).get("/cameras/").content.decode()
    alerts = signed_in(viewer_user).get("/cameras/alerts/").content.decode()

    assert "/cameras/CAM-07/edit/" not in grid and "Add camera" not in grid
    assert f"/cameras/alerts/{alert.pk}/acknowledge/" not in alerts


def test_actions_refuse_get(operator_user, camera, alert):
    client = signed_in(operator_user)

    assert client.get("/cameras/CAM-07/test/").status_code == 405
    assert client.get(f"/cameras/alerts/{alert.pk}/acknowledge/").status_code == 405


def test_navigation_links_the_pages(admin_user):
    html = signed_in(admin_user).get("/").content.decode()

    assert '<a href="/cameras/"' in html and ">Cameras</a>" in html
    assert '<a href="/cameras/alerts/"' in html and ">Alerts</a>" in html


# --- Camera grid -----------------------------------------------------------------------------------


def test_grid_shows_each_camera(viewer_user, camera):
    Camera.objects.filter(pk=camera.pk).update(
        status=CameraStatus.ONLINE, width=1280, height=720, fps=25, last_seen=timezone.now()
    )
    services.create_camera({"id": "CAM-08", "name": "Dock", "status": "maintenance", "enabled": False})

    html = signed_in(viewer_user).get("/cameras/").content.decode()

    assert 'data-camera-id="CAM-07"' in html and 'data-camera-id="CAM-08"' in html
    assert "North gate" in html and "1280x720" in html and "25 fps" in html
    assert '<span class="badge green" data-role="status">online</span>' in html
    assert '<span class="badge amber" data-role="status">maintenance</span>' in html
    assert "No picture yet" in html
    assert MASKED_URL in html
    assert SECRET not in html
    assert 'data-token-url="/accounts/token/"' in html


def test_grid_shows_the_thumbnail_by_signed_url(viewer_user, camera):
    Camera.objects.filter(pk=camera.pk).update(thumbnail="snapshots/CAM-07/x.jpg")

    html = signed_in(viewer_user).get("/cameras/").content.decode()

    assert re.search(r'<img src="/files/snapshots/CAM-07/x\.jpg\?expires=\d+&amp;signature=[0-9a-f]+"', html)


# --- Add and edit ----------------------------------------------------------------------------------


def test_add_creates_a_camera_with_its_password_encrypted(operator_user):
    response = signed_in(operator_user).post("/cameras/new/", form_data(id="CAM-20"))

    assert response.status_code == 302
    assert response["Location"] == "/cameras/"
    camera = Camera.objects.get(pk="CAM-20")
    assert camera.name == "Lobby" and camera.tags == ["indoor", "lobby"] and camera.enabled
    assert camera.stream_url == "rtsp://admin@127.0.0.1:8554/live.mp4"
    assert camera.stream_password == SECRET
    assert SECRET not in stored_password_column("CAM-20")  # the column holds ciphertext


def test_add_without_id_takes_the_next_free_one(operator_user, camera):
    signed_in(operator_user).post("/cameras/new/", form_data())

    assert Camera.objects.filter(pk="CAM-08", name="Lobby").exists()


def test_edit_page_shows_the_url_masked(operator_user, camera):
    html = signed_in(operator_user).get("/cameras/CAM-07/edit/").content.decode()

    assert f'value="{MASKED_URL}"' in html
    assert SECRET not in html


def test_edit_with_the_masked_url_keeps_the_stored_password(operator_user, camera):
    data = form_data(name="Gate (renamed)", stream_url=MASKED_URL, version=camera.version)

    response = signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.name == "Gate (renamed)"
    assert camera.stream_password == SECRET


def test_edit_with_a_new_password_replaces_it(operator_user, camera):
    data = form_data(name="Gate", stream_url="rtsp://admin:n3w@127.0.0.1:8554/live.mp4", version=camera.version)

    signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    camera.refresh_from_db()
    assert camera.stream_password == "n3w"


def test_edit_leaves_unchanged_fields_alone(operator_user, camera):
    """A health check that changed the status after the page loaded is not overwritten by the form."""
    page_status = camera.status
    Camera.objects.filter(pk=camera.pk).update(status=CameraStatus.ONLINE)

    data = form_data(
        name="Gate", location="South gate", stream_url=MASKED_URL, status=page_status, tags="", version=camera.version
    )
    data["initial-status"] = page_status  # what the page showed, sent back beside the field
    signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    camera.refresh_from_db()
    assert camera.location == "South gate"
    assert camera.status == CameraStatus.ONLINE


def test_edit_can_set_maintenance(operator_user, camera):
    data = form_data(
        name="Gate", location="North gate", stream_url=MASKED_URL, status="maintenance", tags="", version=camera.version
    )

    signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    camera.refresh_from_db()
    assert camera.status == CameraStatus.MAINTENANCE


def test_edit_turns_recognition_on_with_the_analysis_settings(operator_user, camera):
    data = form_data(
        name="Gate",
        location="North gate",
        stream_url=MASKED_URL,
        tags="",
        version=camera.version,
        recognition_enabled="on",
        analysis_fps="2.5",
        detect_width="960",
        detect_height="540",
    )

    signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    camera.refresh_from_db()
    assert camera.recognition_enabled is True
    assert (camera.analysis_fps, camera.detect_width, camera.detect_height) == (2.5, 960, 540)


def test_edit_page_shows_the_analysis_settings_and_no_recognition_interval(operator_user, camera):
    services.update_camera(camera, {"recognition_enabled": True, "analysis_fps": 2.5})

    html = signed_in(operator_user).get("/cameras/CAM-07/edit/").content.decode()

    assert re.search(r'<input type="checkbox" name="recognition_enabled"[^>]* checked', html)
    assert re.search(r'name="analysis_fps" value="2.5"', html)
    assert 'name="detect_width" value="1280"' in html and 'name="detect_height" value="720"' in html
    assert "interval" not in html.lower()


def test_edit_with_the_analysis_settings_left_empty_keeps_them(operator_user, camera):
    services.update_camera(camera, {"analysis_fps": 2.5})
    camera.refresh_from_db()
    data = form_data(name="Gate", location="Moved", stream_url=MASKED_URL, tags="", version=camera.version)
    data.update(analysis_fps="", detect_width="", detect_height="")

    signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    camera.refresh_from_db()
    assert camera.location == "Moved"
    assert (camera.analysis_fps, camera.detect_width, camera.detect_height) == (2.5, 1280, 720)


def test_edit_refuses_an_analysis_rate_out_of_range(operator_user, camera):
    data = form_data(name="Gate", stream_url=MASKED_URL, version=camera.version, analysis_fps="60")

    response = signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    assert response.status_code == 200
    assert b"less than or equal to 30" in response.content
    camera.refresh_from_db()
    assert camera.analysis_fps == 5.0


def test_edit_refuses_a_stale_version(operator_user, camera):
    services.update_camera(camera, {"location": "Changed meanwhile"})

    data = form_data(name="Mine", stream_url=MASKED_URL, version=camera.version)
    response = signed_in(operator_user).post("/cameras/CAM-07/edit/", data)

    assert response.status_code == 200
    assert b"was changed by someone else" in response.content
    camera.refresh_from_db()
    assert camera.name == "Gate"


def test_service_errors_show_on_their_field_without_echoing_the_password(operator_user):
    data = form_data(stream_url=f"http://admin:{SECRET}@127.0.0.1/x.mp4")  # an HTTP URL for an RTSP camera

    response = signed_in(operator_user).post("/cameras/new/", data)

    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<div class="field invalid">\s*<label for="id_stream_url">', html)
    assert "RTSP" in html
    assert SECRET not in html
    assert "http://admin:***@127.0.0.1/x.mp4" in html
    assert "type it again" in html
    assert not Camera.objects.exists()


def test_add_refuses_the_mask_as_a_password(operator_user):
    response = signed_in(operator_user).post("/cameras/new/", form_data(stream_url=MASKED_URL))

    assert response.status_code == 200
    assert b"Type the real password" in response.content
    assert not Camera.objects.exists()


def test_add_refuses_a_taken_id(operator_user, camera):
    response = signed_in(operator_user).post("/cameras/new/", form_data(id="CAM-07"))

    assert response.status_code == 200
    assert b"Camera CAM-07 already exists" in response.content


def test_edit_of_an_unknown_camera_is_404(operator_user):
    assert signed_in(operator_user).get("/cameras/CAM-99/edit/").status_code == 404


# --- Test connection and snapshot (real RTSP server on loopback) ---------------------------------------


def test_test_connection_reports_a_dead_camera(operator_user, closed_port_url):
    services.create_camera({"id": "CAM-30", "name": "Dead", "stream_url": closed_port_url})

    response = signed_in(operator_user).post("/cameras/CAM-30/test/", follow=True)

    assert response.redirect_chain == [("/cameras/", 302)]
    assert "CAM-30: connection failed" in response.content.decode()
    assert Camera.objects.get(pk="CAM-30").last_checked is not None


def test_test_connection_and_snapshot_of_a_live_camera(operator_user, rtsp_server):
    services.create_camera({"id": "CAM-31", "name": "Live", "stream_url": rtsp_server.url})
    client = signed_in(operator_user)

    tested = client.post("/cameras/CAM-31/test/", follow=True).content.decode()
    shot = client.post("/cameras/CAM-31/snapshot/", follow=True).content.decode()

    assert "CAM-31: connection OK" in tested
    assert f"{rtsp_server.clip.width}x{rtsp_server.clip.height}" in tested
    assert "CAM-31: snapshot taken" in shot
    camera = Camera.objects.get(pk="CAM-31")
    assert camera.status == CameraStatus.ONLINE
    assert Snapshot.objects.filter(camera=camera).count() == 1
    assert re.search(rf'<img src="/files/{re.escape(camera.thumbnail)}\?expires=', shot)


def test_snapshot_of_a_dead_camera_says_why(operator_user, closed_port_url):
    services.create_camera({"id": "CAM-32", "name": "Dead", "stream_url": closed_port_url})

    html = signed_in(operator_user).post("/cameras/CAM-32/snapshot/", follow=True).content.decode()

    assert "CAM-32: could not grab a frame" in html
    assert not Snapshot.objects.exists()


# --- Alerts ----------------------------------------------------------------------------------------


def test_alerts_page_lists_alerts_and_notifications(operator_user, alert):
    html = signed_in(operator_user).get("/cameras/alerts/").content.decode()

    assert f'<tr id="{alert.pk}" data-alert-id="{alert.pk}">' in html
    assert '<span class="badge red" data-role="level">high</span>' in html
    assert "Camera offline: Gate" in html and "CAM-07" in html
    assert f'action="/cameras/alerts/{alert.pk}/acknowledge/"' in html
    # raise_once also sent a notification; its SPA link points at this page's row.
    assert f'<a href="#{alert.pk}">Camera offline: Gate</a>' in html
    # The row the script clones for live alerts.
    assert 'action="/cameras/alerts/__ID__/acknowledge/"' in html


def test_alerts_filter_by_level_and_open(viewer_user, alert):
    other, _ = alerting.raise_once(source="disk", title="Disk filling", description="", level=AlertLevel.LOW)
    alerting.resolve("disk")
    client = signed_in(viewer_user)

    by_level = client.get("/cameras/alerts/?level=low").content.decode()
    open_only = client.get("/cameras/alerts/?open=true").content.decode()
    resolved_only = client.get("/cameras/alerts/?open=false").content.decode()

    assert f'data-alert-id="{other.pk}"' in by_level and f'data-alert-id="{alert.pk}"' not in by_level
    assert f'data-alert-id="{alert.pk}"' in open_only and f'data-alert-id="{other.pk}"' not in open_only
    assert f'data-alert-id="{other.pk}"' in resolved_only and f'data-alert-id="{alert.pk}"' not in resolved_only


def test_acknowledge_button(operator_user, alert):
    response = signed_in(operator_user).post(
        f"/cameras/alerts/{alert.pk}/acknowledge/", {"next": "/cameras/alerts/?level=high"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/cameras/alerts/?level=high"
    alert.refresh_from_db()
    assert alert.acknowledged


def test_mute_and_unmute_buttons(operator_user, alert):
    client = signed_in(operator_user)

    client.post(f"/cameras/alerts/{alert.pk}/mute/", {"muted": "1"})
    alert.refresh_from_db()
    assert alert.muted
    html = client.get("/cameras/alerts/").content.decode()
    assert (
        '<input type="hidden" name="muted" value="0" data-role="muted-value"><button class="secondary" '
        'data-role="mute">Unmute</button>' in html
    )

    client.post(f"/cameras/alerts/{alert.pk}/mute/", {"muted": "0"})
    alert.refresh_from_db()
    assert not alert.muted


def test_buttons_do_not_redirect_off_site(operator_user, alert):
    response = signed_in(operator_user).post(
        f"/cameras/alerts/{alert.pk}/acknowledge/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == "/cameras/alerts/"


def test_buttons_need_the_csrf_token(operator_user, alert):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)

    assert client.post(f"/cameras/alerts/{alert.pk}/acknowledge/").status_code == 403
    alert.refresh_from_db()
    assert not alert.acknowledged


def test_acknowledging_an_unknown_alert_is_404(operator_user):
    assert signed_in(operator_user).post("/cameras/alerts/ALERT-NOPE/acknowledge/").status_code == 404


def test_notifications_for_someone_else_are_not_listed(viewer_user, operator_user):
    NotificationFactory(user=operator_user, title="For Otto only")
    NotificationFactory(user=None, title="For everyone")

    html = signed_in(viewer_user).get("/cameras/alerts/").content.decode()

    assert "For everyone" in html and "For Otto only" not in html


# --- System health ---------------------------------------------------------------------------------


# --- Query counts: each page costs the same with N and 2N rows ---------------------------------------


@pytest.mark.parametrize("count", [5, 10])
def test_grid_costs_the_same_queries_however_many_cameras(viewer_user, count, django_assert_max_num_queries):
    for number in range(count):
        CameraFactory(stream_url=URL_WITH_PASSWORD, thumbnail=f"snapshots/CAM-{number}/latest.jpg")
    client = signed_in(viewer_user)

    with django_assert_max_num_queries(4):
        html = client.get("/cameras/").content.decode()

    assert html.count("data-camera-id=") == count


@pytest.mark.parametrize("count", [5, 10])
def test_alerts_page_costs_the_same_queries_however_many_alerts(operator_user, count, django_assert_max_num_queries):
    for number in range(count):
        AlertFactory(camera=CameraFactory(), minutes_ago=number)
        NotificationFactory(user=operator_user, title=f"Notice {number}")
    client = signed_in(operator_user)

    with django_assert_max_num_queries(6):
        html = client.get("/cameras/alerts/").content.decode()

    assert html.count('data-alert-id="ALERT-') == count and html.count("data-notification-id=") == count


def test_each_tile_follows_its_cameras_live_picture(viewer_user, camera):
    html = signed_in(viewer_user).get("/cameras/").content.decode()

    assert 'data-live-src="/cameras/CAM-07/live.jpg"' in html


def test_a_watched_cameras_tile_starts_from_its_live_picture(client, admin_user):
    # Its stored thumbnail is replaced (and the old file deleted) every few seconds: a page could ask for one
    # already gone. The live picture is always there while a worker watches the camera.
    from cameras.vision.live import live_key
    from config.redis import get_redis

    Camera.objects.create(id="CAM-07", name="Gate", thumbnail="thumbnails/CAM-07/old.jpg")
    get_redis().set(live_key("CAM-07"), b"\xff\xd8\xff", ex=30)
    client.force_login(admin_user)

    html = client.get("/cameras/").content.decode()

    assert 'src="/cameras/CAM-07/live.jpg"' in html
    assert "thumbnails/CAM-07/old.jpg" not in html
