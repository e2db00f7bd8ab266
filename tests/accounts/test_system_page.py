"""The System health page (the dashboard shell's): who may see it, what it shows, and what it costs."""

from __future__ import annotations

import pytest
from django.utils import timezone

from config.models import BannerMessage, SystemMetric
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/system/"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_viewer_sees_it(viewer_user):
    assert signed_in(viewer_user).get("/system/").status_code == 200


def test_the_old_address_leads_to_it(viewer_user):
    response = signed_in(viewer_user).get("/cameras/system/")

    assert response.status_code == 301 and response["Location"] == "/system/"


def test_navigation_links_it(admin_user):
    html = signed_in(admin_user).get("/").content.decode()

    assert '<a href="/system/"' in html and ">System health</a>" in html


def test_system_page_needs_system_read(operator_user):
    response = signed_in(operator_user).get("/system/")

    assert response.status_code == 403
    assert b"system:read" in response.content


def test_system_page_shows_metrics_services_and_banners(viewer_user):
    now = timezone.now()
    SystemMetric.objects.create(category="cpu", label="CPU usage", value=42.5, unit="%", limit_value=100, timestamp=now)
    SystemMetric.objects.create(
        category="disk", label="Disk used /", value=10, unit="GB", limit_value=50, timestamp=now
    )
    BannerMessage.objects.create(message="Maintenance at 22:00", level="warning")
    BannerMessage.objects.create(message="Long gone", level="info", active=False)

    html = signed_in(viewer_user).get("/system/").content.decode()

    assert 'data-category="cpu"' in html and "CPU usage" in html and "42.50 %" in html
    assert 'style="width: 20%"' in html  # 10 of 50 GB
    assert 'data-service-id="web"' in html and 'data-service-id="database"' in html
    assert '<span class="badge green">running</span>' in html  # at least the web process itself
    assert "Maintenance at 22:00" in html and "Long gone" not in html
    assert 'data-metrics-url="/api/v1/system/health/metrics"' in html
    assert 'data-services-url="/api/v1/system/health/services"' in html


def test_system_page_without_metrics_says_so(viewer_user):
    html = signed_in(viewer_user).get("/system/").content.decode()

    assert "No metrics collected yet" in html


@pytest.mark.parametrize("count", [5, 10])
def test_system_page_costs_the_same_queries_however_many_metrics_and_banners(
    viewer_user, count, django_assert_max_num_queries
):
    for number in range(count):
        SystemMetric.objects.create(category="cpu", label=f"CPU core {number}", value=number, unit="%")
        BannerMessage.objects.create(message=f"Banner {number}", level="info")
    client = signed_in(viewer_user)
    client.get("/system/")  # the services are checked (and stored) once; they stay fresh after

    with django_assert_max_num_queries(11):  # the web service is re-checked and stored on every view
        html = client.get("/system/").content.decode()

    assert html.count("CPU core ") == count and html.count("Banner ") == count
