"""An ANPR event accepted over 003's ingest is owed to every enabled exporter, in the transaction that stores it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from anpr.models import PlateEvent
from anpr.signals import plate_event_accepted
from integrations.models import OutboxMessage
from tests.anpr.conftest import SPEC_EVENT, spec_event
from tests.integrations.conftest import rest_exporter

pytestmark = pytest.mark.django_db

URL = "/events/ingest"


@pytest.fixture
def edge_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key.raw)
    return client


def test_an_ingested_event_is_owed_to_each_enabled_exporter(edge_client):
    first = rest_exporter("http://127.0.0.1:9/a")
    second = rest_exporter("http://127.0.0.1:9/b")
    rest_exporter("http://127.0.0.1:9/c", enabled=False)

    response = edge_client.post(URL, SPEC_EVENT, format="json")

    assert response.status_code == 202, response.content
    owed = OutboxMessage.objects.filter(key=SPEC_EVENT["event_id"])
    assert sorted(owed.values_list("exporter_id", flat=True)) == sorted([first.pk, second.pk])
    assert owed.first().payload["plate_text"] == "ABC123"


def test_a_repeated_event_is_owed_once(edge_client):
    rest_exporter("http://127.0.0.1:9/a")

    edge_client.post(URL, SPEC_EVENT, format="json")
    edge_client.post(URL, SPEC_EVENT, format="json")

    assert OutboxMessage.objects.filter(key=SPEC_EVENT["event_id"]).count() == 1


@pytest.mark.undocumented  # a simulated crash: its 500 is rightly not in the document
def test_an_event_whose_subscriber_fails_is_not_stored(edge_client):
    def broken(sender, **kwargs):
        raise RuntimeError("outbox unavailable")

    rest_exporter("http://127.0.0.1:9/a")
    plate_event_accepted.connect(broken)
    try:
        response = edge_client.post(URL, spec_event(event_id="evt-broken"), format="json")
    finally:
        plate_event_accepted.disconnect(broken)

    assert response.status_code == 500

    assert not PlateEvent.objects.filter(pk="evt-broken").exists()
    assert not OutboxMessage.objects.filter(key="evt-broken").exists()
