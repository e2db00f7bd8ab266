"""Reads of face data and person histories are audited, and the audit trail filters by person (issue 20)."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from tests.factories import DetectionFactory, FaceImageFactory, FaceProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile():
    profile = FaceProfileFactory(employee_id="EMP-SEEN", name="Grace Hopper")
    FaceImageFactory(profile=profile)
    return profile


def reads(action: str) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=action))


def test_viewing_a_profile_over_the_api_is_audited(admin_client, profile):
    assert admin_client.get(f"/api/v1/faces/{profile.pk}").status_code == 200

    [entry] = reads("face_profile.view")
    assert entry.actor == "admin@example.com" and entry.context["employee_id"] == "EMP-SEEN"
    assert entry.resource_id == str(profile.pk)


def test_listing_a_profiles_images_is_audited(admin_client, profile):
    assert admin_client.get(f"/api/v1/faces/{profile.pk}/images").status_code == 200

    [entry] = reads("face_profile.view_images")
    assert entry.context["employee_id"] == "EMP-SEEN"


def test_reading_a_person_history_is_audited(admin_client, profile):
    DetectionFactory(profile=profile)

    assert admin_client.get("/api/v1/history/person/EMP-SEEN").status_code == 200

    [entry] = reads("person_history.view")
    assert entry.context["employee_id"] == "EMP-SEEN" and entry.context["detections"] == 1


def test_an_unknown_person_history_leaves_no_read_entry(admin_client):
    assert admin_client.get("/api/v1/history/person/EMP-NOBODY").status_code == 404

    assert not reads("person_history.view")


def test_viewing_a_profile_on_the_dashboard_is_audited(client, admin_user, profile):
    client.force_login(admin_user)

    assert client.get(f"/recognition/faces/{profile.pk}/").status_code == 200

    [entry] = reads("face_profile.view")
    assert entry.actor == admin_user.email and entry.context["employee_id"] == "EMP-SEEN"
    assert "(dashboard)" in entry.message


def test_the_audit_api_filters_by_person(admin_client, profile):
    other = FaceProfileFactory(employee_id="EMP-OTHER")
    admin_client.get(f"/api/v1/faces/{profile.pk}")
    admin_client.get(f"/api/v1/faces/{other.pk}")

    response = admin_client.get("/api/v1/audit", {"person": "EMP-SEEN"})

    assert response.status_code == 200
    body = response.json()
    items = body["data"] if isinstance(body.get("data"), list) else body["data"]["items"]
    assert [item["action"] for item in items] == ["face_profile.view"]


def test_the_audit_page_filters_by_person(client, admin_user, admin_client, profile):
    other = FaceProfileFactory(employee_id="EMP-OTHER", name="Someone Else")
    admin_client.get(f"/api/v1/faces/{other.pk}")
    admin_client.get(f"/api/v1/faces/{profile.pk}")
    client.force_login(admin_user)

    page = client.get("/accounts/audit/", {"person": "EMP-SEEN"}).content.decode()

    assert "Grace Hopper" in page and "Someone Else" not in page


def test_an_overlong_person_filter_is_refused(admin_client):
    response = admin_client.get("/api/v1/audit", {"person": "E" * 51})

    assert response.status_code == 400
