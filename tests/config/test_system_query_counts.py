"""What the system health lists cost in queries: the summary, the services and the banners each cost the same
with N and 2N rows. (Beside test_system_*.py: it moves with them.)"""

from __future__ import annotations

import pytest

from config.models import BannerMessage
from tests.factories import AlertFactory, CameraFactory, DetectionFactory, FaceProfileFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [3, 6])
def test_summary_costs_the_same_queries_however_many_rows(viewer_client, count, django_assert_max_num_queries):
    for _ in range(count):
        camera = CameraFactory(status="online")
        AlertFactory(camera=camera)
        DetectionFactory(camera=camera, profile=FaceProfileFactory())

    with django_assert_max_num_queries(9):
        data = viewer_client.get("/api/v1/system/summary").json()["data"]

    assert (data["activeCameras"], data["registeredPeople"], data["peopleDetectedToday"]) == (count, count, count)


def test_services_cost_a_fixed_number_of_queries(viewer_client, django_assert_max_num_queries):
    viewer_client.get("/api/v1/system/health/services")  # every service checked and stored once

    with django_assert_max_num_queries(7):  # the web service is re-checked and stored on every read
        data = viewer_client.get("/api/v1/system/health/services").json()["data"]

    assert {service["id"] for service in data} >= {"web", "database"}


@pytest.mark.parametrize("count", [3, 6])
def test_banners_cost_the_same_queries_however_many(viewer_client, count, django_assert_max_num_queries):
    for number in range(count):
        BannerMessage.objects.create(message=f"Banner {number}", level="info")

    with django_assert_max_num_queries(3):
        data = viewer_client.get("/api/v1/services/banner-messages").json()["data"]

    assert len(data) == count
