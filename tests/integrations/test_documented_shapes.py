"""Each integrations answer built as a dict (Odoo test, sync, status; an exporter's test) is what the
OpenAPI document says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.documented import assert_documented
from tests.factories import AttendanceLogFactory
from tests.integrations.conftest import rest_exporter
from tests.integrations.odoo_peer import OdooPeer, configure

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer():
    odoo = OdooPeer()
    odoo.add_employee("Sophia Martinez", barcode="EMP-00412")
    yield odoo
    odoo.stop()


def test_a_working_odoo_test_is_documented(admin_client, peer):
    configure(peer)

    assert_documented(admin_client.post("/api/v1/odoo/test", {}, format="json"), "/api/v1/odoo/test")


def test_a_failed_odoo_test_is_documented(admin_client, peer):
    configure(peer, api_key="wrong")

    assert_documented(admin_client.post("/api/v1/odoo/test", {}, format="json"), "/api/v1/odoo/test")


def test_the_sync_job_is_documented(admin_client, peer):
    configure(peer)

    assert_documented(admin_client.post("/api/v1/odoo/sync", {}, format="json"), "/api/v1/odoo/sync")


def test_the_odoo_status_is_documented(admin_client, peer):
    configure(peer)
    AttendanceLogFactory(employee_id="EMP-00412", check_in=datetime(2025, 11, 3, 9, tzinfo=UTC))

    assert_documented(admin_client.get("/api/v1/odoo/status"), "/api/v1/odoo/status")


def test_the_status_of_an_unconfigured_odoo_is_documented(admin_client):
    assert_documented(admin_client.get("/api/v1/odoo/status"), "/api/v1/odoo/status")


def test_the_odoo_config_is_documented(admin_client, peer):
    configure(peer)

    assert_documented(admin_client.get("/api/v1/odoo/config"), "/api/v1/odoo/config")


def test_a_working_exporter_test_is_documented(admin_client, http_peer):
    exporter = rest_exporter(http_peer().url)

    assert_documented(admin_client.post(f"/config/exporters/{exporter.pk}/test"), "/config/exporters/{id}/test")


def test_a_failed_exporter_test_is_documented(admin_client, closed_url):
    exporter = rest_exporter(closed_url)

    assert_documented(admin_client.post(f"/config/exporters/{exporter.pk}/test"), "/config/exporters/{id}/test")
