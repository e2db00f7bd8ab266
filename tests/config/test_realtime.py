"""The /ws WebSocket (001 "WebSocket Channels") over the real Redis channel layer.

Negative checks ("nothing arrives") publish the message that must be dropped and then one that
must arrive: the first message received has to be the second one. Order, not timing, decides.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from accounts import tokens
from config import realtime
from config.asgi import application
from tests.factories import UserFactory, role_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 5


@pytest.fixture(autouse=True)
async def _close_consumer_connections():
    """The consumer reads users in asgiref's worker thread; close that thread's database connection
    so the test database can be dropped at the end of the run."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def viewer(db):
    """Someone watching the live view: cameras and detections, read only."""
    return role_user("ROLE-LIVE", ["cameras:read", "detections:read"])


@pytest.fixture
def viewer_token(viewer) -> str:
    return tokens.issue_tokens(viewer).access


@pytest.fixture
def no_cameras_token(db) -> str:
    return tokens.issue_tokens(role_user("ROLE-ATTENDANCE", ["attendance:read"])).access


@pytest.fixture
async def connect():
    """Open ``/ws`` connections; every one, accepted or refused, is disconnected after the test so no
    consumer is left waiting on the channel layer. A consumer stopping while it is blocked in the
    layer's Redis read only ends when that read times out (channels_redis waits up to 5 s), so the
    test stops waiting for it after a second and cancels it."""
    opened: list[WebsocketCommunicator] = []

    async def _connect(token: str | None = None, path: str | None = None) -> tuple[WebsocketCommunicator, bool, object]:
        communicator = WebsocketCommunicator(application, path or f"/ws?token={token}")
        opened.append(communicator)
        connected, detail = await communicator.connect(timeout=TIMEOUT)
        return communicator, connected, detail

    yield _connect
    for communicator in opened:
        await communicator.disconnect(timeout=1)


@pytest.fixture
async def socket(connect, viewer_token):
    communicator, connected, _ = await connect(viewer_token)
    assert connected
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "connected"
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, channel: str, camera_id: str | None = None) -> dict:
    message = {"action": "subscribe", "channel": channel}
    if camera_id:
        message["cameraId"] = camera_id
    await communicator.send_json_to(message)
    return await communicator.receive_json_from(TIMEOUT)


publish_detection = sync_to_async(realtime.detections.detection)
publish_alert = sync_to_async(realtime.alerts.alert)
publish_status = sync_to_async(realtime.camera_status.status_changed)
publish_notification = sync_to_async(realtime.notifications.notification)


# --- Connecting -----------------------------------------------------------------------------------


async def test_connect_with_an_access_token_is_accepted(connect, viewer, viewer_token):
    communicator, connected, _ = await connect(viewer_token)
    assert connected
    assert await communicator.receive_json_from(TIMEOUT) == {"type": "connected", "userId": str(viewer.pk)}


async def test_connect_without_a_token_is_refused(connect):
    _, connected, code = await connect(path="/ws")
    assert not connected
    assert code == realtime.CLOSE_UNAUTHENTICATED


async def test_connect_with_an_empty_token_is_refused(connect):
    _, connected, _ = await connect(path="/ws?token=")
    assert not connected


async def test_connect_with_a_garbage_token_is_refused(connect):
    _, connected, code = await connect("not.a.jwt")
    assert not connected
    assert code == realtime.CLOSE_UNAUTHENTICATED


async def test_connect_with_a_refresh_token_is_refused(connect, viewer):
    pair = await sync_to_async(tokens.issue_tokens)(viewer)
    _, connected, _ = await connect(pair.refresh)
    assert not connected


async def test_connect_with_the_token_of_a_logged_out_session_is_refused(connect, viewer):
    pair = await sync_to_async(tokens.issue_tokens)(viewer)
    await sync_to_async(tokens.revoke)(pair.refresh)
    _, connected, code = await connect(pair.access)
    assert not connected
    assert code == realtime.CLOSE_UNAUTHENTICATED


async def test_connect_as_a_suspended_user_is_refused(connect, viewer, viewer_token):
    viewer.status = "suspended"
    await sync_to_async(viewer.save)(update_fields=["status"])
    _, connected, _ = await connect(viewer_token)
    assert not connected


# --- Messages ------------------------------------------------------------------------------------


async def test_ping_is_answered_with_pong(socket):
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(TIMEOUT) == {"type": "pong"}


async def test_subscribe_is_confirmed(socket):
    assert await _subscribe(socket, "detections", "CAM-01") == {
        "type": "subscribed",
        "channel": "detections",
        "cameraId": "CAM-01",
    }


async def test_subscribed_detection_arrives_in_the_001_shape(socket):
    await _subscribe(socket, "detections")
    detection = {"id": "d-1", "personId": "EMP-00412", "name": "Sophia Martinez", "confidence": 99.2}
    await publish_detection("CAM-01", detection)
    assert await socket.receive_json_from(TIMEOUT) == {
        "type": "detection",
        "channel": "detections",
        "cameraId": "CAM-01",
        "detection": detection,
    }


async def test_camera_status_arrives_in_the_001_shape(socket):
    await _subscribe(socket, "camera-status")
    await publish_status("CAM-01", "online", "2025-11-05T10:30:00Z")
    assert await socket.receive_json_from(TIMEOUT) == {
        "type": "camera-status",
        "channel": "camera-status",
        "cameraId": "CAM-01",
        "status": "online",
        "lastSeen": "2025-11-05T10:30:00Z",
    }


async def test_unsubscribed_channel_is_not_delivered(socket):
    await _subscribe(socket, "alerts")
    await publish_detection("CAM-01", {"id": "dropped"})
    await publish_alert({"id": "a-1"}, camera_id="CAM-01")
    assert await socket.receive_json_from(TIMEOUT) == {
        "type": "alert",
        "channel": "alerts",
        "alert": {"id": "a-1"},
        "cameraId": "CAM-01",
    }
    assert await socket.receive_nothing()


async def test_camera_filter_drops_other_cameras(socket):
    await _subscribe(socket, "detections", "CAM-01")
    await publish_detection("CAM-02", {"id": "dropped"})
    await publish_detection("CAM-01", {"id": "kept"})
    message = await socket.receive_json_from(TIMEOUT)
    assert message["cameraId"] == "CAM-01"
    assert message["detection"] == {"id": "kept"}
    assert await socket.receive_nothing()


async def test_unsubscribe_stops_delivery(socket):
    await _subscribe(socket, "detections")
    await _subscribe(socket, "alerts")
    await socket.send_json_to({"action": "unsubscribe", "channel": "detections"})
    assert await socket.receive_json_from(TIMEOUT) == {
        "type": "unsubscribed",
        "channel": "detections",
        "cameraId": None,
    }
    await publish_detection("CAM-01", {"id": "dropped"})
    await publish_alert({"id": "a-2"})
    assert (await socket.receive_json_from(TIMEOUT))["type"] == "alert"
    assert await socket.receive_nothing()


async def test_unsubscribing_one_camera_keeps_the_others(socket):
    await _subscribe(socket, "detections", "CAM-01")
    await _subscribe(socket, "detections", "CAM-02")
    await socket.send_json_to({"action": "unsubscribe", "channel": "detections", "cameraId": "CAM-01"})
    await socket.receive_json_from(TIMEOUT)
    await publish_detection("CAM-01", {"id": "dropped"})
    await publish_detection("CAM-02", {"id": "kept"})
    assert (await socket.receive_json_from(TIMEOUT))["detection"] == {"id": "kept"}
    assert await socket.receive_nothing()


async def test_unknown_channel_is_an_error(socket):
    message = await _subscribe(socket, "gossip")
    assert message["type"] == "error"
    assert message["code"] == "UNKNOWN_CHANNEL"


async def test_unknown_action_is_an_error(socket):
    await socket.send_json_to({"action": "shout", "channel": "detections"})
    message = await socket.receive_json_from(TIMEOUT)
    assert message["type"] == "error"
    assert message["code"] == "INVALID_MESSAGE"


async def test_a_message_that_is_not_an_object_is_an_error(socket):
    await socket.send_json_to(["subscribe", "detections"])
    message = await socket.receive_json_from(TIMEOUT)
    assert message["type"] == "error"
    assert message["code"] == "INVALID_MESSAGE"


async def test_subscribing_without_the_channel_permission_is_auth_003(connect, no_cameras_token):
    communicator, connected, _ = await connect(no_cameras_token)
    assert connected
    await communicator.receive_json_from(TIMEOUT)
    message = await _subscribe(communicator, "detections")
    assert message["type"] == "error"
    assert message["code"] == "AUTH_003"
    assert message["channel"] == "detections"


async def test_refused_subscription_delivers_nothing(connect, no_cameras_token):
    communicator, _, _ = await connect(no_cameras_token)
    await communicator.receive_json_from(TIMEOUT)
    await _subscribe(communicator, "detections")
    await _subscribe(communicator, "notifications")
    await publish_detection("CAM-01", {"id": "dropped"})
    await publish_notification({"title": "hello"})
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "notification"
    assert await communicator.receive_nothing()


async def test_notifications_need_no_permission(connect, no_cameras_token):
    communicator, _, _ = await connect(no_cameras_token)
    await communicator.receive_json_from(TIMEOUT)
    assert (await _subscribe(communicator, "notifications"))["type"] == "subscribed"


async def test_notification_for_one_user_reaches_only_that_user(connect, db):
    alice, bob = await sync_to_async(UserFactory.create_batch)(2)
    sockets = []
    for user in (alice, bob):
        pair = await sync_to_async(tokens.issue_tokens)(user)
        communicator, connected, _ = await connect(pair.access)
        assert connected
        await communicator.receive_json_from(TIMEOUT)
        await _subscribe(communicator, "notifications")
        sockets.append(communicator)
    alice_socket, bob_socket = sockets
    await publish_notification({"title": "for alice"}, user_id=str(alice.pk))
    await publish_notification({"title": "for everyone"})
    assert await alice_socket.receive_json_from(TIMEOUT) == {
        "type": "notification",
        "channel": "notifications",
        "notification": {"title": "for alice"},
    }
    assert (await alice_socket.receive_json_from(TIMEOUT))["notification"] == {"title": "for everyone"}
    assert (await bob_socket.receive_json_from(TIMEOUT))["notification"] == {"title": "for everyone"}
    assert await bob_socket.receive_nothing()


async def test_detections_need_the_detections_permission_not_only_cameras(connect, db):
    # 001's Viewer reads cameras but not detections (names of the people seen).
    token = await sync_to_async(lambda: tokens.issue_tokens(UserFactory(role_id="ROLE-VIEWER")).access)()
    communicator, _, _ = await connect(token)
    await communicator.receive_json_from(TIMEOUT)  # connected

    refused = await _subscribe(communicator, "detections")
    allowed = await _subscribe(communicator, "camera-status")

    assert refused["type"] == "error" and refused["code"] == "AUTH_003"
    assert allowed["type"] == "subscribed"
