"""001 notifications: your own and site-wide ones, acknowledge, clear; never someone else's."""

from __future__ import annotations

import pytest

from accounts.models import Notification
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/api/v1/notifications"


@pytest.fixture
def stranger(db):
    return UserFactory(role_id="ROLE-VIEWER", email="stranger@example.com")


@pytest.fixture
def inbox(viewer_user, admin_user, stranger) -> dict[str, Notification]:
    return {
        "mine": NotificationFactory(title="Yours", user=viewer_user, minutes_ago=1, level="warning", link="/alerts"),
        "broadcast": NotificationFactory(title="Everyone", user=None, minutes_ago=2),
        "mine-read": NotificationFactory(title="Yours, read", user=viewer_user, minutes_ago=3, acknowledged=True),
        "admins": NotificationFactory(title="Admin's", user=admin_user, minutes_ago=4),
        "strangers": NotificationFactory(title="Stranger's", user=stranger, minutes_ago=5),
    }


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["data"]]


def test_list_shows_own_and_site_wide_newest_first(viewer_client, inbox, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = viewer_client.get(NOTIFICATIONS)
    assert titles(response) == ["Yours", "Everyone", "Yours, read"]
    assert response.json()["meta"]["total"] == 3


def test_list_query_count_does_not_grow_with_the_notifications(
    viewer_client, viewer_user, inbox, django_assert_max_num_queries
):
    for number in range(40):
        NotificationFactory(title=f"More {number}", user=viewer_user, minutes_ago=10 + number)
    with django_assert_max_num_queries(6):
        response = viewer_client.get(NOTIFICATIONS, {"pageSize": 100})
    assert len(response.json()["data"]) == 43


def test_list_never_shows_another_users_notifications(viewer_client, inbox):
    assert "Stranger's" not in titles(viewer_client.get(NOTIFICATIONS))
    assert "Admin's" not in titles(viewer_client.get(NOTIFICATIONS))


def test_list_items_have_the_001_fields(viewer_client, inbox):
    first = viewer_client.get(NOTIFICATIONS).json()["data"][0]
    assert first == {
        "id": str(inbox["mine"].id),
        "title": "Yours",
        "message": "",
        "level": "warning",
        "acknowledged": False,
        "link": "/alerts",
        "timestamp": first["timestamp"],
    }


def test_list_filters_unacknowledged(viewer_client, inbox):
    assert titles(viewer_client.get(NOTIFICATIONS, {"acknowledged": "false"})) == ["Yours", "Everyone"]


def test_list_filters_acknowledged(viewer_client, inbox):
    assert titles(viewer_client.get(NOTIFICATIONS, {"acknowledged": "true"})) == ["Yours, read"]


def test_list_refuses_a_non_boolean_acknowledged(viewer_client, inbox):
    response = viewer_client.get(NOTIFICATIONS, {"acknowledged": "perhaps"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_list_pages(viewer_client, inbox):
    response = viewer_client.get(NOTIFICATIONS, {"page": 2, "pageSize": 2})
    assert titles(response) == ["Yours, read"]
    assert response.json()["meta"] == {"page": 2, "pageSize": 2, "total": 3, "totalPages": 2}


def test_list_needs_authentication(api_client, inbox):
    assert api_client.get(NOTIFICATIONS).status_code == 401


def test_list_by_an_api_key_is_forbidden(api_client, api_key, inbox):
    response = api_client.get(NOTIFICATIONS, HTTP_X_API_KEY=api_key.raw)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"


def test_clear_by_an_api_key_is_forbidden(api_client, api_key, inbox):
    response = api_client.delete(NOTIFICATIONS, HTTP_X_API_KEY=api_key.raw)
    assert response.status_code == 403
    assert Notification.objects.count() == 5


# --- Acknowledge ------------------------------------------------------------------------------------


def test_acknowledge_own_notification(viewer_client, inbox):
    response = viewer_client.post(f"{NOTIFICATIONS}/{inbox['mine'].id}/acknowledge")
    assert response.status_code == 200
    assert response.json()["data"]["acknowledged"] is True
    assert Notification.objects.get(pk=inbox["mine"].id).acknowledged is True


def test_acknowledge_another_users_notification_is_404(viewer_client, inbox):
    response = viewer_client.post(f"{NOTIFICATIONS}/{inbox['strangers'].id}/acknowledge")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert Notification.objects.get(pk=inbox["strangers"].id).acknowledged is False


def test_acknowledge_an_unknown_notification_is_404(viewer_client, inbox):
    response = viewer_client.post(f"{NOTIFICATIONS}/00000000-0000-4000-8000-000000000000/acknowledge")
    assert response.status_code == 404


def test_acknowledge_with_a_malformed_id_is_404(viewer_client, inbox):
    assert viewer_client.post(f"{NOTIFICATIONS}/not-a-uuid/acknowledge").status_code == 404


def test_acknowledge_by_an_api_key_is_forbidden(api_client, api_key, inbox):
    response = api_client.post(f"{NOTIFICATIONS}/{inbox['broadcast'].id}/acknowledge", HTTP_X_API_KEY=api_key.raw)
    assert response.status_code == 403
    assert Notification.objects.get(pk=inbox["broadcast"].id).acknowledged is False


# --- Clear ---------------------------------------------------------------------------------------------


def test_viewer_clear_removes_own_notifications(viewer_client, viewer_user, inbox):
    response = viewer_client.delete(NOTIFICATIONS)
    assert response.status_code == 200
    assert response.json()["data"] == {"deleted": 2}
    assert not Notification.objects.filter(user=viewer_user).exists()


def test_viewer_clear_keeps_site_wide_notifications(viewer_client, inbox):
    viewer_client.delete(NOTIFICATIONS)
    assert Notification.objects.filter(pk=inbox["broadcast"].pk).exists()


def test_clear_keeps_other_users_notifications(viewer_client, inbox):
    viewer_client.delete(NOTIFICATIONS)
    assert Notification.objects.filter(pk__in=[inbox["admins"].pk, inbox["strangers"].pk]).count() == 2


def test_admin_clear_removes_site_wide_notifications_too(admin_client, admin_user, inbox):
    response = admin_client.delete(NOTIFICATIONS)
    assert response.json()["data"] == {"deleted": 2}
    assert not Notification.objects.filter(user__isnull=True).exists()
    assert not Notification.objects.filter(user=admin_user).exists()
    assert Notification.objects.filter(pk=inbox["mine"].pk).exists()


def test_clear_with_the_acknowledged_filter_clears_only_those(viewer_client, inbox):
    response = viewer_client.delete(f"{NOTIFICATIONS}?acknowledged=true")
    assert response.json()["data"] == {"deleted": 1}
    assert not Notification.objects.filter(pk=inbox["mine-read"].pk).exists()
    assert Notification.objects.filter(pk=inbox["mine"].pk).exists()
