"""Camera health from the vision worker: status, the probe leaving watched cameras alone, the live picture and
thumbnail, and the supervisor's alert for a camera nobody analyses."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.storage import default_storage

from cameras import tasks
from cameras.models import Alert, Camera
from cameras.vision import health, live
from cameras.vision.worker import VisionWorker
from tests.cameras.test_vision_worker import dead_camera, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def worker(settings):
    settings.VISION_THUMBNAIL_SECONDS = 1.0
    worker = VisionWorker("worker-in-test", poll_seconds=0.5)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(15)


def test_a_watched_camera_goes_online_with_its_streams_facts(worker, rtsp_server):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)

    wait_for(lambda: Camera.objects.get(pk="CAM-01").status == "online", 20, "online")

    camera = Camera.objects.get(pk="CAM-01")
    assert (camera.codec, camera.width, camera.height, camera.fps) == ("h264", 640, 360, 25.0)
    assert camera.last_seen is not None


def test_a_watched_camera_keeps_a_fresh_thumbnail(worker, rtsp_server):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)
    wait_for(lambda: Camera.objects.get(pk="CAM-01").thumbnail, 20, "a thumbnail")
    first = Camera.objects.get(pk="CAM-01").thumbnail

    wait_for(lambda: Camera.objects.get(pk="CAM-01").thumbnail != first, 10, "a newer thumbnail")

    assert default_storage.exists(Camera.objects.get(pk="CAM-01").thumbnail)
    assert not default_storage.exists(first)  # the previous live thumbnail is not kept


def test_the_live_picture_is_served_to_signed_in_staff(worker, rtsp_server, client, admin_user):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)
    wait_for(lambda: live.latest_jpeg("CAM-01"), 20, "a live picture")
    client.force_login(admin_user)

    response = client.get("/cameras/CAM-01/live.jpg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"\xff\xd8")


def test_the_live_picture_needs_a_sign_in(client):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url="rtsp://127.0.0.1:9/x.mp4")

    assert client.get("/cameras/CAM-01/live.jpg").status_code == 302


def test_an_unwatched_camera_has_no_live_picture(client, admin_user):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url="rtsp://127.0.0.1:9/x.mp4")
    client.force_login(admin_user)

    response = client.get("/cameras/CAM-01/live.jpg")

    assert response.status_code == 204
    assert response.content == b""


def test_a_dead_stream_is_reported_offline(worker):
    dead_camera("CAM-01")

    wait_for(lambda: Camera.objects.get(pk="CAM-01").last_checked, 30, "a verdict")

    camera = Camera.objects.get(pk="CAM-01")
    assert camera.status == "offline" and camera.offline_since is not None
    assert "refused" in camera.last_error.lower()
    state = health.watch_states(["CAM-01"])["CAM-01"]
    assert not state["online"] and "refused" in state["error"].lower()


def test_the_health_probe_leaves_watched_cameras_to_their_worker(worker, rtsp_server):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)
    wait_for(lambda: health.watched(["CAM-01"]), 20, "watched")

    counts = tasks.check_camera_health()

    assert counts["checked"] == 0 and counts["watched"] == 1


def test_the_supervisor_alerts_once_for_a_camera_nobody_analyses():
    dead_camera("CAM-01")
    Camera.objects.filter(pk="CAM-01").update(recognition_enabled=True)
    now = time.time()

    first = health.supervise(now=now)
    later = health.supervise(now=now + health.UNWATCHED_ALERT_AFTER_SECONDS + 1)
    again = health.supervise(now=now + health.UNWATCHED_ALERT_AFTER_SECONDS + 30)

    assert first["alerted"] == [] and later["alerted"] == ["CAM-01"] and again["alerted"] == []
    alert = Alert.objects.get(source=health.unwatched_source("CAM-01"), resolved_at__isnull=True)
    assert "no vision worker holds it" in alert.description


def test_the_supervisor_resolves_the_alert_once_frames_flow(worker, rtsp_server):
    Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url, recognition_enabled=True)
    health.supervise(now=time.time() - 2 * health.UNWATCHED_ALERT_AFTER_SECONDS)
    health.supervise(now=time.time())
    assert Alert.objects.filter(source=health.unwatched_source("CAM-01"), resolved_at__isnull=True).exists()

    wait_for(lambda: health.watched(["CAM-01"]), 20, "watched")
    outcome = health.supervise()

    assert outcome["watched"] == ["CAM-01"]
    assert not Alert.objects.filter(source=health.unwatched_source("CAM-01"), resolved_at__isnull=True).exists()


def test_a_camera_without_recognition_or_counting_needs_no_supervision():
    dead_camera("CAM-01")

    assert health.supervise(now=time.time() + 3600) == {"watched": [], "unwatched": [], "alerted": []}
