"""Face-profile audit entries: written by the enrolment services, the same from every surface."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditLog
from recognition import enrolment
from recognition.enrolment import Editor
from tests.recognition.conftest import enrol, jpeg_file

pytestmark = pytest.mark.django_db

DASHBOARD = Editor("ada@example.com", "ROLE-ADMIN", surface="dashboard", path="/recognition/faces/")


@pytest.fixture
def profile(astronaut, engine):
    return enrolment.create_profile({"employee_id": "EMP-7", "name": "Eileen Collins"}, [jpeg_file(astronaut)])


def entries(action: str) -> list[AuditLog]:
    return list(AuditLog.objects.filter(action=action))


def test_a_change_without_an_editor_writes_no_entry(profile):
    enrolment.update_profile(profile, {"name": "E. Collins"})

    assert not entries("face_profile.create") and not entries("face_profile.update")


def test_an_enrolment_names_who_and_how_many_images(astronaut, engine):
    created = enrolment.create_profile(
        {"employee_id": "EMP-8", "name": "Sally Ride"}, [jpeg_file(astronaut)], by=Editor("api@example.com", "R")
    )

    [entry] = entries("face_profile.create")
    assert (entry.actor, entry.actor_role, entry.resource_type) == ("api@example.com", "R", "face_profile")
    assert entry.resource_id == str(created.pk) and entry.message == "Enrolled EMP-8 with 1 images"
    assert entry.context == {"employee_id": "EMP-8", "images": 1}


def test_the_dashboard_is_named_with_its_page(profile):
    enrolment.update_profile(profile, {"status": "archived", "name": "E. Collins"}, by=DASHBOARD)

    [entry] = entries("face_profile.update")
    assert entry.message == "Changed name, status (dashboard)"
    assert entry.context == {"employee_id": "EMP-7", "fields": ["name", "status"], "path": "/recognition/faces/"}


def test_adding_images_is_audited(profile, astronaut):
    enrolment.add_images(profile, [jpeg_file(astronaut)], by=DASHBOARD)

    [entry] = entries("face_profile.add_images")
    assert entry.context["images"] == 1 and entry.resource_id == str(profile.pk)


def test_deleting_an_image_is_audited_with_the_image(profile):
    image = profile.images.get()
    image_id = str(image.pk)

    enrolment.delete_image(image, by=DASHBOARD)

    [entry] = entries("face_profile.delete_image")
    assert entry.context["image_id"] == image_id and entry.context["employee_id"] == "EMP-7"


def test_deleting_a_profile_without_an_editor_is_the_systems(profile):
    enrolment.delete_profile(profile)

    [entry] = entries("faces.profile.delete")
    assert entry.actor == "system" and entry.context == {
        "employee_id": "EMP-7",
        "images": 1,
        "embeddings": 1,
        "detection_thumbnails": 0,
        "face_service_students": 0,
        "match_rejections": 0,
        "presence_thumbnails": 0,
        "export_files": 0,
    }


def test_editing_on_the_dashboard_is_audited_by_the_service(admin_user, profile):
    client = Client()
    client.force_login(admin_user)

    client.post(f"/recognition/faces/{profile.pk}/edit/", {"name": "Eileen Collins", "status": "archived"})

    [entry] = entries("face_profile.update")
    assert entry.actor == admin_user.email and entry.message == "Changed status (dashboard)"
    assert entry.context["path"] == f"/recognition/faces/{profile.pk}/edit/"


def test_an_api_enrolment_has_one_entry(admin_client, astronaut, engine):
    enrol(admin_client, "EMP-9", "Mae Jemison", [jpeg_file(astronaut)])

    [entry] = entries("face_profile.create")
    assert entry.message.startswith("POST /api/v1/faces")
