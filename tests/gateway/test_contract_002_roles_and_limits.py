"""002's RBAC and per-endpoint limits where Argus has the route: the ``manager`` role, ``analytics:*``
permissions standing for counting's, ``/api/v1/cameras`` at 100/min, analytics at 50/min, and a global limit
(a setting, off by default)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.permissions_catalogue import grants
from tests.conftest import client_for, key_client, role_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANALYTICS = "/api/v1/counts/analytics"


def test_the_manager_role_is_seeded_with_002s_permissions():
    manager = Role.objects.get(pk="ROLE-MANAGER")

    assert manager.name == "Manager"
    assert set(manager.permissions) == {"cameras:read", "cameras:write", "analytics:read", "users:read"}


def test_a_manager_reads_cameras_and_analytics():
    client = client_for(UserFactory(role_id="ROLE-MANAGER"))

    assert client.get("/api/v1/cameras").status_code == 200
    assert client.get(ANALYTICS).status_code == 200
    assert client.get("/api/v1/users").status_code == 200


def test_a_manager_may_not_change_users():
    client = client_for(UserFactory(role_id="ROLE-MANAGER"))

    assert client.post("/api/v1/users", {"email": "x@example.com"}, format="json").status_code == 403


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        (["analytics:read"], "counts:read", True),
        (["analytics:write"], "counts:ingest", True),
        (["analytics:*"], "counts:read", True),
        (["analytics:*"], "counts:ingest", True),
        (["analytics:read"], "counts:ingest", False),
        (["analytics:read"], "cameras:read", False),
    ],
)
def test_analytics_permissions_stand_for_countings(granted, required, allowed):
    assert grants(granted, required) is allowed


def test_a_key_scoped_analytics_read_reads_analytics():
    assert key_client("analytics:read").get(ANALYTICS).status_code == 200


def test_the_camera_routes_allow_100_a_minute():
    client = role_client("ROLE-CAM", ["cameras:read"])

    response = client.get("/api/v1/cameras")

    assert response["X-RateLimit-Limit"] == "100"


def test_the_camera_routes_share_one_bucket(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cameras": 2}
    client = role_client("ROLE-CAM", ["cameras:read"])
    client.get("/api/v1/cameras")
    client.get("/api/v1/cameras/summary")

    response = client.get("/api/v1/cameras")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_001"


def test_analytics_allow_50_a_minute():
    response = role_client("ROLE-COUNTS", ["counts:read"]).get(ANALYTICS)

    assert response["X-RateLimit-Limit"] == "50"


def test_the_global_limit_counts_every_client(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "global": 3}
    first, second = role_client("ROLE-A", ["cameras:read"]), role_client("ROLE-B", ["cameras:read"])

    codes = [client.get("/api/v1/cameras").status_code for client in (first, second, first, second)]

    assert codes == [200, 200, 200, 429]


def test_there_is_no_global_limit_by_default(settings):
    assert settings.RATE_LIMITS["global"] is None
