"""Django Admin of exporters, the outbox and the delivery log: secrets masked, "test now", "retry now"."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from integrations import outbox
from integrations.models import DeliveryAttempt, DeliveryStatus, Exporter, OutboxMessage
from tests.integrations.conftest import TOKEN, rest_exporter

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(client, admin_user):
    client.force_login(admin_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_of(exporter: Exporter, **changes) -> dict:
    data = {
        "name": exporter.name,
        "type": exporter.type,
        "url": exporter.url,
        "enabled": "on" if exporter.enabled else "",
        "headers": '{"X-Site": "gate-1"}',
        "auth": '{"type": "bearer", "token": "***"}',
        "config": "{}",
        "retry_config": '{"max_attempts": 3}',
        "metadata": "{}",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "path",
    ["/admin/integrations/exporter/", "/admin/integrations/outboxmessage/", "/admin/integrations/deliveryattempt/"],
)
def test_changelists_load(admin_site, path, closed_url):
    rest_exporter(closed_url)
    outbox.enqueue_event({}, "evt-001")
    outbox.dispatch(OutboxMessage.objects.get().pk)
    assert admin_site.get(path).status_code == 200


def test_exporter_page_shows_the_token_masked(admin_site):
    exporter = rest_exporter("http://127.0.0.1:9/")
    response = admin_site.get(f"/admin/integrations/exporter/{exporter.pk}/change/")
    assert response.status_code == 200
    assert TOKEN not in response.content.decode()


def test_exporter_saved_with_the_masked_token_keeps_it(admin_site):
    exporter = rest_exporter("http://127.0.0.1:9/")
    response = admin_site.post(f"/admin/integrations/exporter/{exporter.pk}/change/", form_of(exporter, name="New"))
    assert response.status_code == 302, response.content.decode()[:2000]
    exporter.refresh_from_db()
    assert exporter.name == "New"
    assert exporter.plain("auth")["token"] == TOKEN
    assert exporter.retry_config["max_attempts"] == 3


def test_exporter_added_in_admin_gets_the_next_id_and_an_encrypted_token(admin_site):
    data = form_of(Exporter(name="Admin", type="rest", url="http://127.0.0.1:9/", enabled=True),
                   auth='{"type": "bearer", "token": "adm-token"}')  # fmt: skip
    response = admin_site.post("/admin/integrations/exporter/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    exporter = Exporter.objects.get()
    assert exporter.pk == "exporter-001"
    assert exporter.auth == {"type": "bearer", "token": "***"}
    assert exporter.plain("auth")["token"] == "adm-token"


def test_exporter_with_an_invalid_url_is_refused_in_admin(admin_site):
    exporter = rest_exporter("http://127.0.0.1:9/")
    response = admin_site.post(f"/admin/integrations/exporter/{exporter.pk}/change/", form_of(exporter, url="ftp://x/"))
    assert response.status_code == 200
    assert "http:// or https://" in response.content.decode()
    exporter.refresh_from_db()
    assert exporter.url == "http://127.0.0.1:9/"


def test_test_now_action_reports_the_result(admin_site, http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    response = admin_site.post(
        "/admin/integrations/exporter/", {"action": "test_now", "_selected_action": [exporter.pk]}, follow=True
    )
    assert any("connection test successful" in m for m in messages_of(response))
    assert len(peer.requests) == 1


def test_retry_now_action_sends_a_dead_message_for_a_new_round(admin_site, closed_url):
    rest_exporter(closed_url, retry_config={"enabled": False})
    outbox.enqueue_event({}, "evt-001")
    message = OutboxMessage.objects.get()
    outbox.dispatch(message.pk)
    admin_site.post("/admin/integrations/outboxmessage/", {"action": "retry_now", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert (message.status, message.round_attempts) == (DeliveryStatus.PENDING, 0)


def test_delivery_log_is_read_only(admin_site, closed_url):
    rest_exporter(closed_url)
    outbox.enqueue_event({}, "evt-001")
    outbox.dispatch(OutboxMessage.objects.get().pk)
    attempt = DeliveryAttempt.objects.get()
    response = admin_site.post(f"/admin/integrations/deliveryattempt/{attempt.pk}/change/", {"ok": "on"})
    assert response.status_code == 403
    assert admin_site.get("/admin/integrations/deliveryattempt/add/").status_code == 403


def test_exporters_disabled_by_the_admin_action_are_owed_no_later_event(admin_site, closed_url):
    exporter = rest_exporter(closed_url)
    assert outbox.enqueue_event({}, "evt-001") == 1  # this process now keeps the list of enabled exporters
    admin_site.post("/admin/integrations/exporter/", {"action": "disable", "_selected_action": [exporter.pk]})

    assert outbox.enqueue_event({}, "evt-002") == 0


def test_exporters_enabled_by_the_admin_action_are_owed_the_next_event(admin_site, closed_url):
    exporter = rest_exporter(closed_url, enabled=False)
    assert outbox.enqueue_event({}, "evt-001") == 0
    admin_site.post("/admin/integrations/exporter/", {"action": "enable", "_selected_action": [exporter.pk]})

    assert outbox.enqueue_event({}, "evt-002") == 1
