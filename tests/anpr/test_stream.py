"""003 ``WS /events/stream`` over the real Redis channel layer, fed by real ingest requests.

Negative checks ("nothing arrives") send the event that must be dropped and then one that must arrive:
the first message received has to be the second one. Order, not timing, decides.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from rest_framework.test import APIClient

from accounts import tokens
from anpr.consumers import CLOSE_FORBIDDEN
from config.asgi import application
from config.realtime import CLOSE_UNAUTHENTICATED
from tests.anpr.conftest import jpeg_bytes, multipart, spec_event
from tests.conftest import key_client, role_client
from tests.factories import ApiKeyFactory, UserFactory, WatchlistEntryFactory, role_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 5


@pytest.fixture(autouse=True)
async def _close_consumer_connections():
    """The consumer reads credentials in asgiref's worker thread; close that thread's database connection
    so the test database can be dropped at the end of the run."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def reader_token(db) -> str:
    return tokens.issue_tokens(role_user("ROLE-ANPR-READER", ["anpr:read"])).access


@pytest.fixture
def ingest_client(db) -> APIClient:
    return key_client("anpr:ingest")


@pytest.fixture
async def connect():
    """Open stream connections; every one is disconnected after the test."""
    opened: list[WebsocketCommunicator] = []

    async def _connect(query: str, headers: list[tuple[bytes, bytes]] | None = None):
        communicator = WebsocketCommunicator(application, f"/events/stream?{query}", headers=headers or [])
        opened.append(communicator)
        connected, detail = await communicator.connect(timeout=TIMEOUT)
        return communicator, connected, detail

    yield _connect
    for communicator in opened:
        await communicator.disconnect(timeout=1)


async def ingest(client: APIClient, event: dict, **images: bytes) -> int:
    if images:
        response = await sync_to_async(client.post)("/events/ingest", multipart(event, **images), format="multipart")
    else:
        response = await sync_to_async(client.post)("/events/ingest", event, format="json")
    return response.status_code


# --- Connecting ------------------------------------------------------------------------------------


async def test_connect_with_a_token_holding_anpr_read_is_accepted(connect, reader_token):
    _, connected, _ = await connect(f"token={reader_token}")
    assert connected


async def test_connect_with_an_api_key_holding_anpr_read_is_accepted(connect):
    key = await sync_to_async(ApiKeyFactory)(scopes=["anpr:read"])
    _, connected, _ = await connect(f"api_key={key.raw}")
    assert connected


async def test_connect_with_a_bearer_header_is_accepted(connect, reader_token):
    _, connected, _ = await connect("", headers=[(b"authorization", f"Bearer {reader_token}".encode())])
    assert connected


async def test_connect_with_an_x_api_key_header_is_accepted(connect):
    key = await sync_to_async(ApiKeyFactory)(scopes=["anpr:read"])
    _, connected, _ = await connect("", headers=[(b"x-api-key", key.raw.encode())])
    assert connected


async def test_connect_without_credentials_is_refused(connect):
    _, connected, code = await connect("")
    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


async def test_connect_with_a_garbage_token_is_refused(connect):
    _, connected, code = await connect("token=not.a.jwt")
    assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)


async def test_connect_with_an_unknown_api_key_is_refused(connect):
    _, connected, code = await connect("api_key=bec_" + "0" * 32)
    assert (connected, code) == (False, CLOSE_UNAUTHENTICATED)


async def test_connect_as_a_user_without_anpr_read_is_refused(connect, viewer_user):
    token = await sync_to_async(lambda: tokens.issue_tokens(viewer_user).access)()
    _, connected, code = await connect(f"token={token}")
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


async def test_connect_with_an_ingest_only_key_is_refused(connect, api_key):
    _, connected, code = await connect(f"api_key={api_key.raw}")
    assert (connected, code) == (False, CLOSE_FORBIDDEN)


async def test_ping_is_answered_with_pong(connect, reader_token):
    communicator, _, _ = await connect(f"token={reader_token}")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(TIMEOUT) == {"type": "pong"}


# --- Events ----------------------------------------------------------------------------------------


async def test_accepted_event_arrives_as_003_shows(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}")
    event = spec_event()
    assert await ingest(ingest_client, event, crop=jpeg_bytes()) == 202
    message = await communicator.receive_json_from(TIMEOUT)
    assert message["type"] == "event"
    assert set(message) == {"type", "data"}
    data = message["data"]
    assert data["id"] == data["event_id"] == event["event_id"]
    for field in ("timestamp", "camera_id", "zone_id", "plate_text", "confidence", "raw_candidates", "metadata"):
        assert data[field] == event[field]
    assert data["vehicle_info"] == event["vehicle_info"]
    assert "signature=" in data["crop_url"]
    assert data["frame_url"] is None
    assert data["created_at"].endswith("Z")


async def test_stream_carries_every_accepted_event_in_order(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}")
    for number in range(3):
        assert await ingest(ingest_client, spec_event(event_id=f"evt-{number}")) == 202
    received = [(await communicator.receive_json_from(TIMEOUT))["data"]["id"] for _ in range(3)]
    assert received == ["evt-0", "evt-1", "evt-2"]


async def test_no_member_no_send_and_a_consumer_that_joins_later_gets_the_next_event(
    connect, reader_token, ingest_client, monkeypatch
):
    """With nobody on the stream an event is not handed to the publisher (a group_send to an empty group is
    two round trips for nothing); this process then holds "no member", and a consumer that joins moves the
    stamp, so the very next event reaches it."""
    from anpr import stream

    handed_over = []
    submit = stream.Publisher.submit
    monkeypatch.setattr(
        stream.Publisher, "submit", lambda self, message: handed_over.append(message) or submit(self, message)
    )

    assert await ingest(ingest_client, spec_event(event_id="evt-unheard")) == 202
    assert handed_over == []

    communicator, _, _ = await connect(f"token={reader_token}")
    assert await ingest(ingest_client, spec_event(event_id="evt-heard")) == 202
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["id"] == "evt-heard"
    assert [message["data"]["event_id"] for message in handed_over] == ["evt-heard"]


async def test_refused_events_are_not_streamed(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}")
    assert await ingest(ingest_client, spec_event(event_id="evt-1")) == 202
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["id"] == "evt-1"
    assert await ingest(ingest_client, spec_event(event_id="evt-1")) == 409
    assert await ingest(ingest_client, spec_event(event_id="evt-2", confidence=3)) == 400
    assert await ingest(ingest_client, spec_event(event_id="evt-3")) == 202
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["id"] == "evt-3"


async def test_camera_filter_passes_only_that_cameras_events(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}&camera_id=cam-002")
    await ingest(ingest_client, spec_event(event_id="evt-cam1", camera_id="cam-001"))
    await ingest(ingest_client, spec_event(event_id="evt-cam2", camera_id="cam-002"))
    message = await communicator.receive_json_from(TIMEOUT)
    assert (message["data"]["id"], message["data"]["camera_id"]) == ("evt-cam2", "cam-002")


async def test_zone_filter_passes_only_that_zones_events(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}&zone_id=zone-exit")
    await ingest(ingest_client, spec_event(event_id="evt-in", zone_id="zone-entrance"))
    await ingest(ingest_client, spec_event(event_id="evt-out", zone_id="zone-exit"))
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["id"] == "evt-out"


async def test_camera_and_zone_filters_combine(connect, reader_token, ingest_client):
    communicator, _, _ = await connect(f"token={reader_token}&camera_id=cam-001&zone_id=zone-exit")
    await ingest(ingest_client, spec_event(event_id="evt-a", camera_id="cam-001", zone_id="zone-entrance"))
    await ingest(ingest_client, spec_event(event_id="evt-b", camera_id="cam-002", zone_id="zone-exit"))
    await ingest(ingest_client, spec_event(event_id="evt-c", camera_id="cam-001", zone_id="zone-exit"))
    assert (await communicator.receive_json_from(TIMEOUT))["data"]["id"] == "evt-c"


async def test_every_connection_gets_the_event(connect, reader_token, ingest_client):
    first, _, _ = await connect(f"token={reader_token}")
    key = await sync_to_async(ApiKeyFactory)(scopes=["anpr:read"])
    second, _, _ = await connect(f"api_key={key.raw}")
    await ingest(ingest_client, spec_event())
    assert (await first.receive_json_from(TIMEOUT))["type"] == "event"
    assert (await second.receive_json_from(TIMEOUT))["type"] == "event"


# --- Watchlist alerts on /ws ---------------------------------------------------------------------------


async def test_deny_hit_is_announced_on_the_alerts_channel(ingest_client):
    await sync_to_async(WatchlistEntryFactory)(plate_text="ABC-123", list_type="deny", reason="Stolen")
    operator = await sync_to_async(lambda: tokens.issue_tokens(UserFactory(role_id="ROLE-OPERATOR")).access)()
    communicator = WebsocketCommunicator(application, f"/ws?token={operator}")
    try:
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert connected
        assert (await communicator.receive_json_from(TIMEOUT))["type"] == "connected"
        await communicator.send_json_to({"action": "subscribe", "channel": "alerts"})
        assert (await communicator.receive_json_from(TIMEOUT))["type"] == "subscribed"
        assert await ingest(ingest_client, spec_event(plate_text="abc123")) == 202
        message = await communicator.receive_json_from(TIMEOUT)
        assert (message["type"], message["channel"]) == ("alert", "alerts")
        assert message["alert"]["level"] == "high"
        assert message["alert"]["title"].startswith("Deny-listed plate abc123")
    finally:
        await communicator.disconnect(timeout=1)


async def test_stream_refuses_a_user_without_anpr_read_even_with_other_rights(connect):
    client = await sync_to_async(role_client)("ROLE-CAMS", ["cameras:read"])
    token = client.tokens.access
    _, connected, code = await connect(f"token={token}")
    assert (connected, code) == (False, CLOSE_FORBIDDEN)
