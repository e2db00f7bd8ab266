"""003's ``WS /events/stream``: one connection per edge worker. A second connection with the same API key
replaces the first (closed with 4409) and gets the events; other workers' and people's connections stay."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from anpr.consumers import CLOSE_REPLACED
from tests.anpr.conftest import spec_event
from tests.anpr.test_stream import TIMEOUT, _close_consumer_connections, connect, ingest, ingest_client, reader_token
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

__all__ = ["_close_consumer_connections", "connect", "ingest_client", "reader_token"]  # fixtures reused


async def test_a_second_connection_of_a_key_replaces_the_first(connect, ingest_client):
    key = await sync_to_async(ApiKeyFactory)(scopes=["anpr:read"])
    first, _, _ = await connect(f"api_key={key.raw}")
    second, connected, _ = await connect(f"api_key={key.raw}")

    assert connected
    assert (await first.receive_output(TIMEOUT)) == {"type": "websocket.close", "code": CLOSE_REPLACED}
    await ingest(ingest_client, spec_event(event_id="evt-after"))
    assert (await second.receive_json_from(TIMEOUT))["data"]["id"] == "evt-after"


async def test_another_workers_connection_stays(connect, ingest_client):
    one, other = [await sync_to_async(ApiKeyFactory)(scopes=["anpr:read"]) for _ in range(2)]
    first, _, _ = await connect(f"api_key={one.raw}")
    await connect(f"api_key={other.raw}")

    await ingest(ingest_client, spec_event(event_id="evt-both"))

    assert (await first.receive_json_from(TIMEOUT))["data"]["id"] == "evt-both"


async def test_people_may_open_several_connections(connect, reader_token, ingest_client):
    first, _, _ = await connect(f"token={reader_token}")
    second, _, _ = await connect(f"token={reader_token}")

    await ingest(ingest_client, spec_event(event_id="evt-people"))

    assert (await first.receive_json_from(TIMEOUT))["data"]["id"] == "evt-people"
    assert (await second.receive_json_from(TIMEOUT))["data"]["id"] == "evt-people"
