# ruff: noqa: F811  (the fixtures of test_realtime.py, imported, are then named as test arguments)
"""WebSocket permissions hold for the life of the connection, not only at connect: a suspended user or a
signed-out session stops receiving at the next message (checked again every couple of seconds)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from accounts import consumers, tokens
from config import realtime
from tests.config.test_realtime import (  # noqa: F401  (fixtures)
    TIMEOUT,
    _close_consumer_connections,
    _subscribe,
    connect,
    publish_status,
    viewer,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _check_every_message(monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)


async def _listening(connect, access: str):
    communicator, connected, _ = await connect(access)
    assert connected
    assert (await communicator.receive_json_from(TIMEOUT))["type"] == "connected"
    assert (await _subscribe(communicator, "camera-status"))["type"] == "subscribed"
    return communicator


async def _closed_without_the_message(communicator) -> None:
    output = await communicator.receive_output(TIMEOUT)
    assert output == {"type": "websocket.close", "code": realtime.CLOSE_UNAUTHENTICATED}


async def test_a_suspended_user_stops_receiving(connect, viewer):
    pair = await sync_to_async(tokens.issue_tokens)(viewer)
    communicator = await _listening(connect, pair.access)
    await publish_status("CAM-01", "online", None)
    assert (await communicator.receive_json_from(TIMEOUT))["type"]

    viewer.status = "suspended"
    await sync_to_async(viewer.save)()
    await publish_status("CAM-01", "offline", None)

    await _closed_without_the_message(communicator)


async def test_a_signed_out_session_stops_receiving(connect, viewer):
    pair = await sync_to_async(tokens.issue_tokens)(viewer)
    communicator = await _listening(connect, pair.access)

    await sync_to_async(tokens.revoke)(pair.refresh)
    await publish_status("CAM-01", "offline", None)

    await _closed_without_the_message(communicator)
