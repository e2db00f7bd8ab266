"""Django Admin of the Odoo configuration (write-only API key, "test the connection") and the sync log."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from integrations.models import OdooConfig
from tests.integrations.odoo_peer import OdooPeer, configure

pytestmark = pytest.mark.django_db

CHANGE = "/admin/integrations/odooconfig/1/change/"


@pytest.fixture
def admin_site(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def peer():
    odoo = OdooPeer()
    yield odoo
    odoo.stop()


def form_of(config: OdooConfig, **changes) -> dict:
    data = {
        "base_url": config.base_url,
        "database": config.database,
        "company": config.company,
        "username": config.username,
        "employee_match_field": config.employee_match_field,
        "failure_alert_threshold": config.failure_alert_threshold,
        "api_key": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("path", ["/admin/integrations/odooconfig/", "/admin/integrations/odoosynclog/"])
def test_changelists_load(admin_site, peer, path):
    configure(peer)

    assert admin_site.get(path).status_code == 200


def test_the_config_page_never_shows_the_api_key(admin_site, peer):
    configure(peer)

    response = admin_site.get(CHANGE)

    assert response.status_code == 200
    assert peer.api_key not in response.content.decode()


def test_saving_with_an_empty_api_key_keeps_the_stored_one(admin_site, peer):
    config = configure(peer)

    response = admin_site.post(CHANGE, form_of(config, company="ACME Vietnam"))

    assert response.status_code == 302
    config = OdooConfig.load()
    assert (config.company, config.api_key) == ("ACME Vietnam", peer.api_key)


def test_test_connection_action_reports_the_outcome(admin_site, peer):
    configure(peer)

    response = admin_site.post(
        "/admin/integrations/odooconfig/", {"action": "test_connection", "_selected_action": ["1"]}, follow=True
    )

    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Connected to Odoo 17.0 as sync-bot@example.com")


def test_sync_now_queues_one_run_and_names_it(admin_site, peer, django_capture_on_commit_callbacks):
    configure(peer)

    with django_capture_on_commit_callbacks() as queued:
        response = admin_site.post(
            "/admin/integrations/odooconfig/", {"action": "sync_now", "_selected_action": ["1"]}, follow=True
        )

    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Sync queued (run ") and len(queued) == 1


def test_sync_now_without_a_configuration_queues_nothing(admin_site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = admin_site.post(
            "/admin/integrations/odooconfig/", {"action": "sync_now", "_selected_action": ["1"]}, follow=True
        )

    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Configure Odoo first."]
    assert queued == []
