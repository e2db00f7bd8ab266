"""Each ANPR answer is what the OpenAPI document says: the payload functions and the schema serializers agree."""

from __future__ import annotations

import pytest

from tests.anpr.conftest import jpeg_bytes, multipart, spec_event
from tests.documented import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(edge_client):
    body = multipart(spec_event(), frame=jpeg_bytes(), crop=jpeg_bytes(seed=3))
    response = edge_client.post("/events/ingest", body, format="multipart")
    assert response.status_code == 202
    return response


def test_ingest_answers_the_documented_acceptance(stored):
    assert_documented(stored, "/events/ingest")


def test_an_event_is_the_documented_event(reader_client, stored):
    assert_documented(reader_client.get(f"/events/{stored.json()['id']}"), "/events/{event_id}")


def test_an_event_without_zone_images_or_extras_is_documented_too(edge_client, reader_client):
    event = spec_event(zone_id=None, raw_candidates=None, vehicle_info=None, tpms_status=None, metadata=None)
    edge_client.post("/events/ingest", event, format="json")

    assert_documented(reader_client.get(f"/events/{event['event_id']}"), "/events/{event_id}")


def test_the_event_list_is_documented(reader_client, stored):
    assert_documented(reader_client.get("/events"), "/events")


def test_the_stats_are_documented(reader_client, stored):
    assert_documented(reader_client.get("/events/stats"), "/events/stats")


def test_the_stats_of_nothing_are_documented(reader_client):
    assert_documented(reader_client.get("/events/stats"), "/events/stats")


def test_a_model_is_documented(editor_client):
    body = {"name": "YOLOv8 plates", "type": "detector", "version": "8.1", "parameters": {"conf": 0.4}}
    created = editor_client.post("/config/models", body, format="json")

    assert_documented(created, "/config/models")
    assert_documented(editor_client.get(f"/config/models/{created.json()['id']}"), "/config/models/{id}")
    assert_documented(editor_client.get("/config/models"), "/config/models")


def test_a_watchlist_entry_is_documented(editor_client):
    body = {"plate_text": "ABC-123", "list_type": "deny", "reason": "stolen"}
    created = editor_client.post("/config/watchlists", body, format="json")

    assert_documented(created, "/config/watchlists")
    assert_documented(editor_client.get(f"/config/watchlists/{created.json()['id']}"), "/config/watchlists/{id}")
    assert_documented(editor_client.get("/config/watchlists"), "/config/watchlists")
