"""``GET /config/exporters/{id}/deliveries`` (beyond 003): the delivery log of one exporter, paginated."""

from __future__ import annotations

import pytest

from integrations import outbox
from integrations.models import OutboxMessage
from tests.integrations.conftest import make_due, rest_exporter

pytestmark = pytest.mark.django_db


def test_deliveries_list_each_event_with_its_attempts(admin_client, http_peer):
    exporter = rest_exporter(http_peer(fail_first=1).url)
    outbox.enqueue_event({"event_id": "evt-001"}, "evt-001")
    message = OutboxMessage.objects.get()
    outbox.dispatch(message.pk)
    make_due(message)
    outbox.dispatch(message.pk)
    body = admin_client.get(f"/config/exporters/{exporter.pk}/deliveries").json()
    assert (body["total"], body["skip"], body["limit"]) == (1, 0, 100)
    (item,) = body["items"]
    assert (item["event_id"], item["kind"], item["status"], item["attempts"]) == (
        "evt-001",
        "anpr.event",
        "delivered",
        2,
    )
    assert item["next_attempt_at"] is None
    assert item["delivered_at"].endswith("Z")
    assert item["last_error"].startswith("HTTP 503")
    assert [(a["number"], a["ok"], a["http_status"]) for a in item["history"]] == [(1, False, 503), (2, True, 200)]


def test_deliveries_show_when_a_failed_event_is_tried_next(admin_client, closed_url):
    exporter = rest_exporter(closed_url)
    outbox.enqueue_event({"event_id": "evt-001"}, "evt-001")
    outbox.dispatch(OutboxMessage.objects.get().pk)
    (item,) = admin_client.get(f"/config/exporters/{exporter.pk}/deliveries").json()["items"]
    assert (item["status"], item["last_error"]) == ("failed", "Connection refused")
    assert item["next_attempt_at"].endswith("Z")


def test_deliveries_filter_by_status(admin_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    outbox.enqueue_event({}, "evt-001")
    outbox.enqueue_event({}, "evt-002")
    OutboxMessage.objects.filter(key="evt-002").update(status="dead")
    body = admin_client.get(f"/config/exporters/{exporter.pk}/deliveries?status=dead").json()
    assert [item["event_id"] for item in body["items"]] == ["evt-002"]


def test_deliveries_are_newest_first_and_paged(admin_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    for n in range(1, 4):
        outbox.enqueue_event({}, f"evt-{n:03d}")
    body = admin_client.get(f"/config/exporters/{exporter.pk}/deliveries?skip=1&limit=1").json()
    assert [item["event_id"] for item in body["items"]] == ["evt-002"]
    assert body["total"] == 3


def test_deliveries_of_another_exporter_are_not_listed(admin_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    rest_exporter("http://127.0.0.1:9/")
    outbox.enqueue_event({}, "evt-001")
    assert admin_client.get(f"/config/exporters/{exporter.pk}/deliveries").json()["total"] == 1


def test_deliveries_with_an_unknown_status_are_refused(admin_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    response = admin_client.get(f"/config/exporters/{exporter.pk}/deliveries?status=lost")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["status"]


def test_deliveries_of_an_unknown_exporter_answer_404(admin_client):
    assert admin_client.get("/config/exporters/exporter-404/deliveries").status_code == 404


def test_user_without_anpr_read_cannot_see_deliveries(viewer_client):
    exporter = rest_exporter("http://127.0.0.1:9/")
    assert viewer_client.get(f"/config/exporters/{exporter.pk}/deliveries").status_code == 403


def test_deliveries_queries_do_not_grow_with_the_log(admin_client, closed_url, django_assert_max_num_queries):
    exporter = rest_exporter(closed_url)
    for n in range(1, 11):
        outbox.enqueue_event({}, f"evt-{n:03d}")
    for message in OutboxMessage.objects.all():
        outbox.dispatch(message.pk)
    with django_assert_max_num_queries(6):
        assert admin_client.get(f"/config/exporters/{exporter.pk}/deliveries").json()["total"] == 10
