"""Django Admin: the accounts models and Beat schedules, API keys shown once, admin changes audited."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.messages import get_messages
from django_celery_beat.models import PeriodicTask

from accounts.models import ApiKey, AuditLog, Role, UserSession
from accounts.tokens import issue_tokens
from tests.conftest import client_for
from tests.factories import ApiKeyFactory, AuditLogFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY_IN_MESSAGE = re.compile(r"\b(bec_[0-9a-f]{32})\b")


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_index_loads(admin):
    response = admin.get("/admin/")

    assert response.status_code == 200
    assert b"Accounts and access" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/role/",
        "/admin/accounts/apikey/",
        "/admin/accounts/auditlog/",
        "/admin/accounts/usersession/",
        "/admin/django_celery_beat/periodictask/",
    ],
)
def test_changelist_loads(admin, path, viewer_user):
    ApiKeyFactory()
    issue_tokens(viewer_user)
    AuditLogFactory(actor="x@example.com", action="user.create", message="made")

    response = admin.get(path)

    assert response.status_code == 200


def test_user_changelist_filters_by_role(admin, viewer_user, operator_user):
    response = admin.get("/admin/accounts/user/", {"role__id__exact": "ROLE-VIEWER"})

    assert response.status_code == 200
    assert b"viewer@example.com" in response.content
    assert b"operator@example.com" not in response.content


def test_user_change_form_loads(admin, viewer_user):
    assert admin.get(f"/admin/accounts/user/{viewer_user.pk}/change/").status_code == 200


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_non_staff_user_cannot_enter(client, viewer_user):
    client.force_login(viewer_user)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302


def test_adding_an_api_key_shows_the_secret_once(admin, admin_user):
    response = admin.post(
        "/admin/accounts/apikey/add/",
        {"name": "gate-camera", "scopes": ["anpr:ingest"], "tier": "premium", "is_active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [KEY_IN_MESSAGE.search(m) for m in messages_of(response)]
    secrets = [match.group(1) for match in shown if match]
    assert len(secrets) == 1
    key = ApiKey.objects.get(name="gate-camera")
    assert key.key_hash == hashlib.sha256(secrets[0].encode()).hexdigest()
    assert key.key_prefix == secrets[0][:12]
    assert key.created_by == admin_user
    assert key.scopes == ["anpr:ingest"]


def test_the_secret_is_not_shown_again(admin):
    response = admin.post(
        "/admin/accounts/apikey/add/",
        {"name": "gate-camera", "scopes": ["anpr:ingest"], "tier": "premium", "is_active": "on"},
        follow=True,
    )
    secret = KEY_IN_MESSAGE.search(" ".join(messages_of(response))).group(1)
    key = ApiKey.objects.get(name="gate-camera")

    change_page = admin.get(f"/admin/accounts/apikey/{key.pk}/change/")
    changelist = admin.get("/admin/accounts/apikey/")

    assert secret.encode() not in change_page.content
    assert secret.encode() not in changelist.content
    assert not ApiKey.objects.filter(key_hash=secret).exists()


def test_the_shown_secret_works(admin, api_client):
    response = admin.post(
        "/admin/accounts/apikey/add/",
        {"name": "gate-camera", "scopes": ["anpr:ingest"], "tier": "premium", "is_active": "on"},
        follow=True,
    )
    secret = KEY_IN_MESSAGE.search(" ".join(messages_of(response))).group(1)

    assert api_client.get("/healthz/detailed", HTTP_X_API_KEY=secret).status_code == 200


def test_changing_an_api_key_keeps_its_secret(admin):
    key = ApiKeyFactory(name="gate-camera")
    original_hash = key.key_hash

    response = admin.post(
        f"/admin/accounts/apikey/{key.pk}/change/",
        {"name": "gate-camera-renamed", "scopes": ["anpr:ingest"], "tier": "free", "is_active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    key.refresh_from_db()
    assert key.name == "gate-camera-renamed"
    assert key.key_hash == original_hash
    assert not any(KEY_IN_MESSAGE.search(m) for m in messages_of(response))


def test_api_key_with_an_unknown_scope_is_refused(admin):
    response = admin.post(
        "/admin/accounts/apikey/add/",
        {"name": "bad", "scopes": ["launch:missiles"], "tier": "premium", "is_active": "on"},
    )

    assert response.status_code == 200  # the form again, with its error
    assert b"launch:missiles is not one of the available choices" in response.content
    assert not ApiKey.objects.filter(name="bad").exists()


def test_admin_change_writes_an_audit_entry(admin, admin_user):
    response = admin.post(
        "/admin/accounts/role/ROLE-VIEWER/change/",
        {
            "id": "ROLE-VIEWER",
            "name": "Viewer",
            "permissions": '["cameras:read", "attendance:read", "system:read", "users:read"]',
            "description": "Read-only access",
        },
    )

    assert response.status_code == 302
    assert Role.objects.get(pk="ROLE-VIEWER").permissions[-1] == "users:read"
    logged = AuditLog.objects.get(action="admin.role.update")
    assert logged.actor == "admin@example.com"
    assert logged.actor_role == "ROLE-ADMIN"
    assert logged.resource_type == "role"
    assert logged.resource_id == "ROLE-VIEWER"
    assert logged.severity == "info"
    assert "Permissions" in logged.message
    assert logged.ip_address == "127.0.0.1"


def test_admin_addition_writes_an_audit_entry(admin):
    admin.post(
        "/admin/accounts/apikey/add/",
        {"name": "gate-camera", "scopes": ["anpr:ingest"], "tier": "premium", "is_active": "on"},
    )

    logged = AuditLog.objects.get(action="admin.apikey.create")
    assert logged.resource_id == str(ApiKey.objects.get(name="gate-camera").pk)
    assert not KEY_IN_MESSAGE.search(logged.message)


def test_admin_deletion_writes_a_warning(admin):
    key = ApiKeyFactory(name="old-camera")

    response = admin.post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    logged = AuditLog.objects.get(action="admin.apikey.delete")
    assert logged.severity == "warning"
    assert logged.resource_id == str(key.pk)


def test_admin_bulk_deletion_writes_an_entry_per_object(admin):
    keys = [ApiKeyFactory(name="old-1"), ApiKeyFactory(name="old-2")]

    response = admin.post(
        "/admin/accounts/apikey/",
        {"action": "delete_selected", "_selected_action": [str(k.pk) for k in keys], "post": "yes"},
    )

    assert response.status_code == 302
    assert not ApiKey.objects.exists()
    logged = AuditLog.objects.filter(action="admin.apikey.delete")
    assert sorted(logged.values_list("resource_id", flat=True)) == sorted(str(k.pk) for k in keys)


def test_audit_log_cannot_be_edited_or_deleted_in_admin(admin):
    logged = AuditLogFactory(actor="x@example.com", action="user.create", message="made")

    assert admin.get("/admin/accounts/auditlog/add/").status_code == 403
    assert admin.post(f"/admin/accounts/auditlog/{logged.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditLog.objects.filter(pk=logged.pk).exists()


def test_suspend_action_suspends_and_ends_sessions(admin, admin_user):
    target = UserFactory(email="target@example.com")
    issue_tokens(target)

    response = admin.post(
        "/admin/accounts/user/", {"action": "suspend_users", "_selected_action": [str(target.pk), str(admin_user.pk)]}
    )

    assert response.status_code == 302
    target.refresh_from_db()
    admin_user.refresh_from_db()
    assert target.status == "suspended"
    assert admin_user.status == "active"  # never yourself
    assert UserSession.objects.get(user=target).revoked_reason == "suspended"


def test_suspend_action_writes_an_audit_entry(admin, admin_user):
    target = UserFactory(email="target@example.com")

    admin.post("/admin/accounts/user/", {"action": "suspend_users", "_selected_action": [str(target.pk)]})

    logged = AuditLog.objects.get(action="admin.user.update")
    assert logged.actor == "admin@example.com"
    assert logged.resource_id == str(target.pk)
    assert "Suspended" in logged.message


def test_end_sessions_action_writes_an_audit_entry(admin):
    target = UserFactory(email="target@example.com")
    issue_tokens(target)

    admin.post("/admin/accounts/user/", {"action": "end_sessions", "_selected_action": [str(target.pk)]})

    assert UserSession.objects.get(user=target).revoked_reason == "admin"
    logged = AuditLog.objects.get(action="admin.user.update")
    assert logged.resource_id == str(target.pk)


def test_deactivate_keys_action_writes_an_audit_entry(admin):
    key = ApiKeyFactory(name="old-camera")

    admin.post("/admin/accounts/apikey/", {"action": "deactivate_keys", "_selected_action": [str(key.pk)]})

    key.refresh_from_db()
    assert not key.is_active
    logged = AuditLog.objects.get(action="admin.apikey.update")
    assert logged.resource_id == str(key.pk)


def test_revoke_sessions_action_writes_an_audit_entry(admin, viewer_user):
    issue_tokens(viewer_user)
    session = UserSession.objects.get(user=viewer_user)

    admin.post("/admin/accounts/usersession/", {"action": "revoke_sessions", "_selected_action": [str(session.pk)]})

    session.refresh_from_db()
    assert session.revoked_reason == "admin"
    logged = AuditLog.objects.get(action="admin.usersession.update")
    assert logged.resource_id == str(session.pk)


def test_revoke_sessions_action_ends_the_access_tokens_at_once(admin, viewer_user):
    viewer = client_for(viewer_user)
    assert viewer.get("/api/v1/auth/me").status_code == 200
    session = UserSession.objects.get(user=viewer_user)

    admin.post("/admin/accounts/usersession/", {"action": "revoke_sessions", "_selected_action": [str(session.pk)]})

    assert viewer.get("/api/v1/auth/me").status_code == 401


def test_purge_sessions_schedule_is_seeded():
    task = PeriodicTask.objects.get(name="Purge expired refresh sessions")

    assert task.task == "accounts.purge_expired_sessions"
    assert task.enabled
    assert task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour) == ("30", "3")


def test_api_key_scopes_are_ticked_from_the_catalogue(admin):
    content = admin.get("/admin/accounts/apikey/add/").content.decode()

    assert 'type="checkbox" name="scopes" value="anpr:ingest"' in content
    assert "Ingest plate events (edge workers)" in content


def test_editing_a_key_keeps_its_wildcard_scope(admin):
    key = ApiKeyFactory(name="gate-camera", scopes=["anpr:*"])

    content = admin.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()

    assert 'value="anpr:*"' in content and "checked" in content.split('value="anpr:*"')[1][:40]


def test_the_admin_is_titled_for_argus(admin):
    content = admin.get("/admin/").content.decode()

    assert "Argus administration" in content and "Django administration" not in content
