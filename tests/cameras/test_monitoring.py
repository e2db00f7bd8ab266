"""Camera health: status changes, offline alerts (over 5 minutes), recovery, and the scheduled check.

Results are fed to ``cameras.monitoring.apply_probe`` as deterministic ``ProbeResult``s; "five minutes
later" is made by moving ``offline_since`` into the past, never by waiting. Live messages go over the
real Redis channel layer to a real ``/ws`` consumer; negative checks ("nothing more arrives") publish a
sentinel afterwards and expect it to be the next message. The end-to-end checks open only 127.0.0.1.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection, connections
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts import tokens
from accounts.models import Notification
from cameras import monitoring, tasks
from cameras.choices import AlertLevel, CameraStatus
from cameras.models import Alert, Camera
from cameras.monitoring import apply_probe, offline_source
from cameras.probing import ProbeResult
from config import realtime
from config.asgi import application
from tests.factories import CameraFactory, UserFactory, role_user

TIMEOUT = 5
OK = ProbeResult(ok=True, latency_ms=42.0, fps=25.0, width=640, height=360, codec="h264", bitrate_mbps=1.5)
DOWN = ProbeResult(ok=False, error="Connection refused")
GATE = {"id": "CAM-01", "name": "Gate"}  # the camera the checks below watch


def offline_for(camera: Camera, duration: timedelta) -> Camera:
    """The camera as if it had gone offline ``duration`` ago."""
    Camera.objects.filter(pk=camera.pk).update(status=CameraStatus.OFFLINE, offline_since=timezone.now() - duration)
    camera.refresh_from_db()
    return camera


def open_alerts(camera: Camera):
    return Alert.objects.filter(source=offline_source(camera.pk), resolved_at__isnull=True)


# --- Status changes ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_failed_check_marks_an_online_camera_offline():
    camera = CameraFactory(**GATE, status=CameraStatus.ONLINE)
    outcome = apply_probe(camera, DOWN)
    camera.refresh_from_db()
    assert outcome.status_changed is True
    assert camera.status == CameraStatus.OFFLINE
    assert camera.offline_since == camera.last_checked
    assert camera.last_error == "Connection refused"


@pytest.mark.django_db
def test_first_failed_check_raises_no_alert():
    camera = CameraFactory(**GATE, status=CameraStatus.ONLINE)
    outcome = apply_probe(camera, DOWN)
    assert outcome.alert_raised is False
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_second_failed_check_is_not_a_status_change_and_keeps_offline_since():
    camera = CameraFactory(**GATE, status=CameraStatus.ONLINE)
    apply_probe(camera, DOWN)
    first_offline_since = Camera.objects.get(pk=camera.pk).offline_since
    outcome = apply_probe(camera, DOWN)
    assert outcome.status_changed is False
    assert Camera.objects.get(pk=camera.pk).offline_since == first_offline_since


@pytest.mark.django_db
def test_successful_check_marks_the_camera_online_and_records_the_stream():
    camera = CameraFactory(**GATE, status=CameraStatus.OFFLINE)
    outcome = apply_probe(camera, OK)
    camera.refresh_from_db()
    assert outcome.status_changed is True
    assert camera.status == CameraStatus.ONLINE
    assert camera.offline_since is None
    assert camera.last_seen == camera.last_checked
    assert (camera.width, camera.height, camera.fps, camera.codec) == (640, 360, 25.0, "h264")
    assert (camera.latency, camera.bitrate) == (42.0, 1.5)


@pytest.mark.django_db
def test_failed_check_keeps_the_last_known_stream_facts():
    camera = CameraFactory(**GATE, status=CameraStatus.ONLINE, width=1920, height=1080, fps=30)
    apply_probe(camera, DOWN)
    camera.refresh_from_db()
    assert (camera.width, camera.height, camera.fps) == (1920, 1080, 30)


# --- Offline alerts ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_offline_for_under_five_minutes_raises_no_alert():
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=4, seconds=50))
    outcome = apply_probe(camera, DOWN)
    assert outcome.alert_raised is False
    assert not Alert.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_offline_for_five_minutes_raises_exactly_one_alert():
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=5, seconds=1))
    outcome = apply_probe(camera, DOWN)
    assert outcome.alert_raised is True
    alert = Alert.objects.get()
    assert alert.source == "camera-offline:CAM-01"
    assert alert.camera_id == "CAM-01"
    assert alert.level == AlertLevel.HIGH
    assert alert.resolved_at is None
    assert "Gate" in alert.title


@pytest.mark.django_db
def test_offline_alert_comes_with_one_notification_for_whoever_sees_cameras():
    watcher = role_user("ROLE-CAM-WATCH", ["cameras:read"])
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=6))
    apply_probe(camera, DOWN)
    notification = Notification.objects.get()
    assert notification.user == watcher
    assert notification.level == "critical"
    assert notification.title == Alert.objects.get().title
    assert notification.link == f"/alerts#{Alert.objects.get().id}"


@pytest.mark.django_db
def test_further_failed_checks_raise_no_second_alert():
    role_user("ROLE-CAM-WATCH", ["cameras:read"])
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=6))
    apply_probe(camera, DOWN)
    later = [apply_probe(camera, DOWN) for _ in range(3)]
    assert [outcome.alert_raised for outcome in later] == [False, False, False]
    assert Alert.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_recovery_resolves_the_open_alert():
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=6))
    apply_probe(camera, DOWN)
    outcome = apply_probe(camera, OK)
    assert outcome.alert_resolved is True
    alert = Alert.objects.get()
    assert alert.resolved_at is not None
    assert not open_alerts(camera).exists()


@pytest.mark.django_db
def test_recovery_sends_a_resolved_notification():
    watcher = role_user("ROLE-CAM-WATCH", ["cameras:read"])
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=6))
    apply_probe(camera, DOWN)
    apply_probe(camera, OK)
    resolved = Notification.objects.get(title__startswith="Resolved: ")
    assert resolved.title == f"Resolved: {Alert.objects.get().title}"
    assert resolved.level == "info"
    assert resolved.user == watcher


@pytest.mark.django_db
def test_recovery_without_an_open_alert_resolves_nothing():
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=1))
    apply_probe(camera, DOWN)
    outcome = apply_probe(camera, OK)
    assert outcome.alert_resolved is False
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_new_outage_after_recovery_raises_a_new_alert():
    camera = offline_for(CameraFactory(**GATE), timedelta(minutes=6))
    apply_probe(camera, DOWN)
    apply_probe(camera, OK)
    camera = offline_for(camera, timedelta(minutes=7))
    assert apply_probe(camera, DOWN).alert_raised is True
    assert Alert.objects.count() == 2
    assert open_alerts(camera).count() == 1


@pytest.mark.django_db
def test_a_camera_in_maintenance_is_never_alerted():
    camera = CameraFactory(**GATE, status=CameraStatus.MAINTENANCE)
    Camera.objects.filter(pk=camera.pk).update(offline_since=timezone.now() - timedelta(hours=2))
    outcomes = [apply_probe(camera, DOWN) for _ in range(3)]
    assert not any(outcome.alert_raised for outcome in outcomes)
    assert not Alert.objects.exists()
    assert Camera.objects.get(pk=camera.pk).status == CameraStatus.MAINTENANCE


@pytest.mark.django_db
def test_a_camera_in_maintenance_stays_in_maintenance_when_it_answers():
    camera = CameraFactory(**GATE, status=CameraStatus.MAINTENANCE)
    outcome = apply_probe(camera, OK)
    assert outcome.status_changed is False
    assert Camera.objects.get(pk=camera.pk).status == CameraStatus.MAINTENANCE


# --- Live messages over the real channel layer ----------------------------------------------------


@pytest.fixture
async def socket(transactional_db):
    """A ``/ws`` connection of a viewer; disconnected and its thread's database connection closed after."""
    user = await sync_to_async(UserFactory)(role_id="ROLE-VIEWER")
    token = (await sync_to_async(tokens.issue_tokens)(user)).access
    communicator = WebsocketCommunicator(application, f"/ws?token={token}")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "connected"
    yield communicator
    await communicator.disconnect(timeout=1)
    await sync_to_async(connections.close_all)()


async def subscribe(communicator: WebsocketCommunicator, channel: str) -> None:
    await communicator.send_json_to({"action": "subscribe", "channel": channel})
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "subscribed"


async_apply_probe = sync_to_async(apply_probe)
async_camera = sync_to_async(CameraFactory)
async_offline_for = sync_to_async(offline_for)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_first_failure_publishes_a_camera_status_message(socket):
    await subscribe(socket, "camera-status")
    camera = await async_camera(**GATE, status=CameraStatus.ONLINE)
    await async_apply_probe(camera, DOWN)
    message = await socket.receive_json_from(TIMEOUT)
    assert message == {
        "type": "camera-status",
        "channel": "camera-status",
        "cameraId": "CAM-01",
        "status": "offline",
        "lastSeen": None,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_failure_while_already_offline_publishes_nothing(socket):
    await subscribe(socket, "camera-status")
    camera = await async_camera(**GATE, status=CameraStatus.ONLINE)
    await async_apply_probe(camera, DOWN)
    assert (await socket.receive_json_from(TIMEOUT))["status"] == "offline"
    await async_apply_probe(camera, DOWN)
    await sync_to_async(realtime.camera_status.status_changed)("SENTINEL", "online", None)
    assert (await socket.receive_json_from(TIMEOUT))["cameraId"] == "SENTINEL"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_an_offline_alert_is_published_on_the_alerts_channel(socket):
    await subscribe(socket, "alerts")
    camera = await async_offline_for(await async_camera(**GATE), timedelta(minutes=6))
    await async_apply_probe(camera, DOWN)
    alert = await sync_to_async(Alert.objects.get)()
    message = await socket.receive_json_from(TIMEOUT)
    assert (message["type"], message["channel"], message["cameraId"]) == ("alert", "alerts", "CAM-01")
    assert message["alert"]["id"] == alert.id
    assert message["alert"]["level"] == "high"
    assert message["alert"]["resolvedAt"] is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_second_failed_check_publishes_no_second_alert(socket):
    await subscribe(socket, "alerts")
    camera = await async_offline_for(await async_camera(**GATE), timedelta(minutes=6))
    await async_apply_probe(camera, DOWN)
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "alert"
    await async_apply_probe(camera, DOWN)
    await sync_to_async(realtime.alerts.alert)({"id": "SENTINEL"})
    assert (await socket.receive_json_from(TIMEOUT))["alert"]["id"] == "SENTINEL"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_recovery_publishes_the_online_status(socket):
    await subscribe(socket, "camera-status")
    camera = await async_offline_for(await async_camera(**GATE), timedelta(minutes=6))
    await async_apply_probe(camera, OK)
    message = await socket.receive_json_from(TIMEOUT)
    assert (message["cameraId"], message["status"]) == ("CAM-01", "online")
    assert message["lastSeen"].endswith("Z")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_recovery_publishes_the_resolved_alert(socket):
    await subscribe(socket, "alerts")
    camera = await async_offline_for(await async_camera(**GATE), timedelta(minutes=6))
    await async_apply_probe(camera, DOWN)
    raised = await socket.receive_json_from(TIMEOUT)
    await async_apply_probe(camera, OK)
    resolved = await socket.receive_json_from(TIMEOUT)
    assert resolved["alert"]["id"] == raised["alert"]["id"]
    assert resolved["alert"]["resolvedAt"].endswith("Z")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_an_offline_alert_is_announced_as_a_notification(socket):
    await subscribe(socket, "notifications")
    camera = await async_offline_for(await async_camera(**GATE), timedelta(minutes=6))
    await async_apply_probe(camera, DOWN)
    message = await socket.receive_json_from(TIMEOUT)
    assert (message["type"], message["channel"]) == ("notification", "notifications")
    assert message["notification"]["title"] == "Camera offline: Gate"
    assert message["notification"]["level"] == "critical"


# --- The scheduled check, end to end --------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_all_cameras_finds_the_live_camera_online_and_the_dead_one_offline(rtsp_server, closed_port_url):
    CameraFactory(id="CAM-01", name="Live", stream_url=rtsp_server.url, enabled=True)
    CameraFactory(id="CAM-02", name="Dead", stream_url=closed_port_url, enabled=True, status=CameraStatus.ONLINE)
    outcomes = {outcome.camera_id: outcome for outcome in monitoring.check_all_cameras(timeout=10)}
    assert set(outcomes) == {"CAM-01", "CAM-02"}
    assert (outcomes["CAM-01"].online, outcomes["CAM-02"].online) == (True, False)
    statuses = dict(Camera.objects.values_list("id", "status"))
    assert statuses == {"CAM-01": CameraStatus.ONLINE, "CAM-02": CameraStatus.OFFLINE}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_all_cameras_records_the_live_streams_resolution(rtsp_server):
    CameraFactory(id="CAM-01", name="Live", stream_url=rtsp_server.url, enabled=True)
    monitoring.check_all_cameras(timeout=10)
    camera = Camera.objects.get(pk="CAM-01")
    assert (camera.width, camera.height) == (rtsp_server.clip.width, rtsp_server.clip.height)
    assert camera.last_seen is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_all_cameras_finds_a_camera_without_parameter_sets_in_its_sdp_online(in_band_stream):
    CameraFactory(id="CAM-01", name="In-band", stream_url=in_band_stream.url, enabled=True)
    monitoring.check_all_cameras(timeout=10)
    camera = Camera.objects.get(pk="CAM-01")
    assert (camera.status, camera.width, camera.height) == (
        CameraStatus.ONLINE,
        in_band_stream.clip.width,
        in_band_stream.clip.height,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_all_cameras_skips_disabled_cameras(closed_port_url):
    CameraFactory(id="CAM-01", stream_url=closed_port_url, enabled=True)
    CameraFactory(id="CAM-02", stream_url=closed_port_url, enabled=False)
    outcomes = monitoring.check_all_cameras(timeout=5)
    assert [outcome.camera_id for outcome in outcomes] == ["CAM-01"]
    assert Camera.objects.get(pk="CAM-02").last_checked is None


def database_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_check_all_cameras_leaves_no_database_connection_open(closed_port_url):
    for number in range(1, 4):
        CameraFactory(id=f"CAM-0{number}", stream_url=closed_port_url, enabled=True)
    before = database_sessions()
    monitoring.check_all_cameras(timeout=5)
    after = database_sessions()
    for _ in range(50):  # a closed session leaves pg_stat_activity when its backend has exited
        if after <= before:
            break
        time.sleep(0.1)
        after = database_sessions()
    assert after == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_real_worker_runs_the_health_task_and_returns_its_counts(
    celery_worker_process, rtsp_server, closed_port_url
):
    CameraFactory(id="CAM-01", name="Live", stream_url=rtsp_server.url, enabled=True)
    CameraFactory(id="CAM-02", name="Dead", stream_url=closed_port_url, enabled=True)
    # The schedule does not keep results; this one call asks for its result to be kept.
    result = tasks.check_camera_health.apply_async(ignore_result=False)
    counts = result.get(timeout=120)
    assert counts == {"checked": 2, "watched": 0, "online": 1, "alerts_raised": 0, "alerts_resolved": 0}
    statuses = dict(Camera.objects.values_list("id", "status"))
    assert statuses == {"CAM-01": CameraStatus.ONLINE, "CAM-02": CameraStatus.OFFLINE}


@pytest.mark.django_db
def test_beat_schedule_checks_camera_health_every_two_minutes():
    schedule = PeriodicTask.objects.select_related("interval").get(name="Check camera health")
    assert schedule.task == "cameras.check_camera_health"
    assert schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (120, "seconds")
