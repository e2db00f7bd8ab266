"""001's face endpoints (/api/v1/faces...): enrolment, profile and image CRUD, refusals, permissions."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditLog
from recognition.models import FaceEmbedding, FaceImage, FaceProfile
from tests.factories import FaceProfileFactory
from tests.recognition.conftest import enrol, jpeg_file, media_files, photo_file


@pytest.fixture
def astronaut_profile(admin_client, astronaut, engine) -> dict:
    response = enrol(admin_client, "EMP-100", "Eileen Collins", [jpeg_file(astronaut, "astronaut.jpg")])
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def error_of(response) -> dict:
    body = response.json()
    assert body["success"] is False
    return body["error"]


# --- enrolment ------------------------------------------------------------------------------------------


def test_enrol_creates_an_active_profile_with_its_image_and_embedding(admin_client, astronaut, engine, settings):
    response = enrol(admin_client, "EMP-100", "Eileen Collins", [jpeg_file(astronaut, "astronaut.jpg")])

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["employeeId"] == "EMP-100" and data["name"] == "Eileen Collins"
    assert data["department"] == "Engineering" and data["status"] == "active"
    assert data["imageCount"] == 1 and len(data["images"]) == 1
    image = data["images"][0]
    assert image["width"] == 512 and image["height"] == 512 and image["contentType"] == "image/jpeg"
    assert set(image["boundingBox"]) == {"top", "left", "width", "height"}
    assert image["quality"]["isAcceptable"] is True and image["quality"]["feedback"]
    embedding = FaceEmbedding.objects.get()
    assert embedding.model == "Dlib" and embedding.dimension == 128 and len(embedding.embedding) == 128
    assert len(media_files(settings)) == 1


def test_enrolled_image_url_is_signed_and_serves_the_file(admin_client, astronaut_profile, api_client):
    url = astronaut_profile["images"][0]["url"]

    assert "signature=" in url and "expires=" in url
    response = api_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    assert api_client.get(url.replace("signature=", "signature=0")).status_code == 403


def test_enrol_accepts_png_and_webp(admin_client, astronaut, engine):
    files = []
    for extension in (".png", ".webp"):
        ok, data = cv2.imencode(extension, astronaut)
        assert ok
        files.append(SimpleUploadedFile(f"astronaut{extension}", data.tobytes(), content_type=f"image/{extension[1:]}"))

    response = enrol(admin_client, "EMP-101", "Eileen Collins", files)

    assert response.status_code == 201
    assert sorted(image["contentType"] for image in response.json()["data"]["images"]) == ["image/png", "image/webp"]


def test_enrol_without_images_creates_a_pending_profile(admin_client):
    response = admin_client.post("/api/v1/faces", {"employeeId": "EMP-102", "name": "No Photo"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["status"] == "pending" and response.json()["data"]["images"] == []


def test_enrol_refuses_a_missing_name(admin_client):
    response = admin_client.post("/api/v1/faces", {"employeeId": "EMP-103"}, format="multipart")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "name"


def test_enrol_refuses_a_taken_employee_id(admin_client, astronaut_profile, astronaut):
    response = enrol(admin_client, "EMP-100", "Someone Else", [jpeg_file(astronaut)])

    assert response.status_code == 409
    assert error_of(response)["code"] == "DUPLICATE_EMPLOYEE_ID"


def test_enrol_refuses_a_text_file_named_jpg(admin_client, astronaut, engine, settings):
    text = SimpleUploadedFile("notes.jpg", b"this is not a photograph\n" * 10, content_type="image/jpeg")

    response = enrol(admin_client, "EMP-104", "Eileen Collins", [jpeg_file(astronaut), text])

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_IMAGE"
    assert error["details"]["field"] == "images.1" and "notes.jpg" in error["message"]
    assert not FaceProfile.objects.exists() and media_files(settings) == []


def test_enrol_refuses_an_image_over_8_mb(admin_client, engine):
    big = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (8 * 1024 * 1024), content_type="image/jpeg")

    response = enrol(admin_client, "EMP-105", "Big File", [big])

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_IMAGE" and "8 MB" in error["message"]


def test_enrol_refuses_a_damaged_jpeg(admin_client, astronaut, engine):
    damaged = SimpleUploadedFile("cut.jpg", jpeg_file(astronaut).read()[:200], content_type="image/jpeg")

    response = enrol(admin_client, "EMP-106", "Damaged", [damaged])

    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_IMAGE"


def test_enrol_refuses_six_images(admin_client, astronaut, engine):
    response = enrol(admin_client, "EMP-107", "Six Images", [jpeg_file(astronaut, f"{i}.jpg") for i in range(6)])

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "TOO_MANY_IMAGES" and "5" in error["message"]


def test_enrol_refuses_an_image_without_a_face_and_names_it(admin_client, astronaut, no_face_image, settings):
    files = [jpeg_file(astronaut, "astronaut.jpg"), jpeg_file(no_face_image, "cameraman.jpg")]

    response = enrol(admin_client, "EMP-108", "Eileen Collins", files)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "NO_FACE_DETECTED"
    assert error["details"]["field"] == "images.1" and "cameraman.jpg" in error["message"]
    assert not FaceProfile.objects.exists() and media_files(settings) == []


def test_enrol_refuses_a_plain_grey_image(admin_client, engine):
    grey = np.full((480, 640, 3), 128, dtype=np.uint8)

    response = enrol(admin_client, "EMP-109", "Grey", [jpeg_file(grey, "grey.jpg")])

    assert response.status_code == 400
    assert error_of(response)["code"] == "NO_FACE_DETECTED"


def test_enrol_refuses_an_image_with_several_faces(admin_client, shared_data, engine, settings):
    response = enrol(admin_client, "EMP-110", "A Couple", [photo_file(shared_data / "faces" / "couple.jpg")])

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "MULTIPLE_FACES"
    assert "2 faces" in error["message"] and "couple.jpg" in error["message"]
    assert not FaceProfile.objects.exists() and media_files(settings) == []


def test_enrol_refuses_two_people_side_by_side(admin_client, astronaut, engine):
    pair = np.hstack([astronaut, astronaut[:, ::-1]])

    response = enrol(admin_client, "EMP-111", "Twins", [jpeg_file(pair, "pair.jpg")])

    assert response.status_code == 400
    assert error_of(response)["code"] == "MULTIPLE_FACES"


def test_a_failed_store_leaves_no_file_behind(admin_client, astronaut, engine, settings, monkeypatch):
    from recognition import enrolment

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(enrolment.FaceEmbedding.objects, "create", broken)

    with pytest.raises(RuntimeError):
        enrolment.create_profile(
            {"employee_id": "EMP-112", "name": "Eileen"}, [jpeg_file(astronaut), jpeg_file(astronaut)], engine=engine
        )

    assert media_files(settings) == []
    assert not FaceProfile.objects.exists()


# --- reading ------------------------------------------------------------------------------------------------


def test_list_is_paginated_in_the_001_envelope(admin_client):
    FaceProfileFactory.create_batch(25, department="Sales")

    response = admin_client.get("/api/v1/faces?page=2&pageSize=10")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and len(body["data"]) == 10
    assert body["meta"] == {"page": 2, "pageSize": 10, "total": 25, "totalPages": 3}
    assert set(body["data"][0]) >= {"id", "employeeId", "name", "department", "status", "imageCount", "thumbnailUrl"}


def test_list_filters_by_department_status_and_search(admin_client):
    FaceProfileFactory.create_batch(3, department="Sales")
    for number in range(2):
        FaceProfileFactory(employee_id=f"RES-{number:03d}", department="Research", status="archived")

    assert len(admin_client.get("/api/v1/faces?department=research").json()["data"]) == 2
    assert len(admin_client.get("/api/v1/faces?status=active").json()["data"]) == 3
    assert [p["employeeId"] for p in admin_client.get("/api/v1/faces?search=RES-001").json()["data"]] == ["RES-001"]


def test_list_refuses_an_unknown_status(admin_client):
    response = admin_client.get("/api/v1/faces?status=sleeping")

    assert response.status_code == 400
    assert error_of(response)["details"]["field"] == "status"


def test_list_query_count_does_not_grow_with_profiles_and_images(admin_client, django_assert_max_num_queries):
    FaceProfileFactory.create_batch(15, images=2)

    with django_assert_max_num_queries(8):
        response = admin_client.get("/api/v1/faces?pageSize=50")

    assert response.status_code == 200 and len(response.json()["data"]) == 15
    assert all(p["imageCount"] == 2 and p["thumbnailUrl"] for p in response.json()["data"])


@pytest.mark.parametrize("count", [3, 6])
def test_listing_images_costs_the_same_queries_however_many(admin_client, count, django_assert_max_num_queries):
    profile = FaceProfileFactory(images=count)

    with django_assert_max_num_queries(5):  # one of them writes the read's audit entry
        response = admin_client.get(f"/api/v1/faces/{profile.pk}/images")

    assert len(response.json()["data"]) == count


def test_retrieve_shows_the_profile_with_its_images(admin_client, astronaut_profile):
    response = admin_client.get(f"/api/v1/faces/{astronaut_profile['id']}")

    assert response.status_code == 200
    assert response.json()["data"]["images"][0]["id"] == astronaut_profile["images"][0]["id"]


@pytest.mark.parametrize("profile_id", ["5b0c7a4e-0000-4000-8000-000000000000", "not-a-uuid"])
def test_retrieve_an_unknown_profile_is_404(admin_client, profile_id):
    response = admin_client.get(f"/api/v1/faces/{profile_id}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


# --- updating and deleting ------------------------------------------------------------------------------------


def test_put_changes_name_department_status_and_notes(admin_client, astronaut_profile):
    response = admin_client.put(
        f"/api/v1/faces/{astronaut_profile['id']}",
        {"name": "Eileen M. Collins", "department": "Flight", "status": "archived", "notes": "retired"},
        format="json",
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["name"], data["department"], data["status"], data["notes"]) == (
        "Eileen M. Collins",
        "Flight",
        "archived",
        "retired",
    )
    assert data["employeeId"] == "EMP-100" and len(data["images"]) == 1


def test_put_refuses_another_profiles_employee_id(admin_client, astronaut_profile):
    FaceProfileFactory(employee_id="EMP-200", name="Other", status="pending")

    response = admin_client.put(f"/api/v1/faces/{astronaut_profile['id']}", {"employeeId": "EMP-200"}, format="json")

    assert response.status_code == 409


def test_put_refuses_an_unknown_status(admin_client, astronaut_profile):
    response = admin_client.put(f"/api/v1/faces/{astronaut_profile['id']}", {"status": "gone"}, format="json")

    assert response.status_code == 400


def test_delete_profile_removes_files_rows_and_embeddings(
    admin_client, astronaut_profile, astronaut, settings, django_capture_on_commit_callbacks
):
    profile_id = astronaut_profile["id"]
    admin_client.post(f"/api/v1/faces/{profile_id}/images", {"images[]": [jpeg_file(astronaut)]}, format="multipart")
    assert len(media_files(settings)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/v1/faces/{profile_id}")

    assert response.status_code == 204
    assert not FaceProfile.objects.exists() and not FaceImage.objects.exists() and not FaceEmbedding.objects.exists()
    assert media_files(settings) == []
    assert not (Path(settings.MEDIA_ROOT) / "faces" / profile_id).exists()


def test_delete_profile_is_audited(admin_client, astronaut_profile, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{astronaut_profile['id']}")

    entry = AuditLog.objects.get(action="faces.profile.delete")
    assert entry.actor == "admin@example.com" and entry.resource_id == astronaut_profile["id"]
    assert entry.context["employee_id"] == "EMP-100"
    assert (entry.context["images"], entry.context["embeddings"]) == (1, 1)


# --- images of a profile --------------------------------------------------------------------------------------


def test_list_images_of_a_profile(admin_client, astronaut_profile):
    response = admin_client.get(f"/api/v1/faces/{astronaut_profile['id']}/images")

    assert response.status_code == 200
    assert [image["id"] for image in response.json()["data"]] == [astronaut_profile["images"][0]["id"]]


def test_add_images_to_a_profile(admin_client, astronaut_profile, astronaut):
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])

    response = admin_client.post(
        f"/api/v1/faces/{astronaut_profile['id']}/images",
        {"images[]": [jpeg_file(mirrored, "mirrored.jpg"), jpeg_file(astronaut, "again.jpg")]},
        format="multipart",
    )

    assert response.status_code == 201
    assert len(response.json()["data"]) == 2
    assert FaceEmbedding.objects.filter(profile_id=astronaut_profile["id"]).count() == 3


def test_add_images_refuses_an_image_without_a_face(admin_client, astronaut_profile, no_face_image):
    response = admin_client.post(
        f"/api/v1/faces/{astronaut_profile['id']}/images",
        {"images[]": [jpeg_file(no_face_image, "cameraman.jpg")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "NO_FACE_DETECTED"


def test_add_images_refuses_more_than_a_profile_holds(admin_client, astronaut_profile, astronaut, monkeypatch):
    from recognition import enrolment

    monkeypatch.setattr(enrolment, "MAX_IMAGES_PER_PROFILE", 2)

    response = admin_client.post(
        f"/api/v1/faces/{astronaut_profile['id']}/images",
        {"images[]": [jpeg_file(astronaut), jpeg_file(astronaut)]},
        format="multipart",
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "TOO_MANY_IMAGES"


def test_add_images_refuses_an_empty_upload(admin_client, astronaut_profile):
    response = admin_client.post(f"/api/v1/faces/{astronaut_profile['id']}/images", {}, format="multipart")

    assert response.status_code == 400


def test_delete_image_removes_its_file_and_embedding(
    admin_client, astronaut_profile, settings, django_capture_on_commit_callbacks
):
    image_id = astronaut_profile["images"][0]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/v1/faces/{astronaut_profile['id']}/images/{image_id}")

    assert response.status_code == 204
    assert not FaceImage.objects.exists() and not FaceEmbedding.objects.exists()
    assert media_files(settings) == []
    assert FaceProfile.objects.filter(pk=astronaut_profile["id"]).exists()


def test_delete_an_image_of_another_profile_is_404(admin_client, astronaut_profile):
    other = FaceProfileFactory(employee_id="EMP-300", name="Other", status="pending")

    response = admin_client.delete(f"/api/v1/faces/{other.pk}/images/{astronaut_profile['images'][0]['id']}")

    assert response.status_code == 404
    assert FaceImage.objects.count() == 1


# --- permissions -----------------------------------------------------------------------------------------------


def test_operator_who_may_enrol_may_also_list(operator_client, astronaut, engine):
    assert enrol(operator_client, "EMP-400", "Eileen", [jpeg_file(astronaut)]).status_code == 201
    assert operator_client.get("/api/v1/faces").status_code == 200  # faces:write implies faces:read


def test_viewer_may_not_enrol(viewer_client, astronaut):
    assert enrol(viewer_client, "EMP-401", "Eileen", [jpeg_file(astronaut)]).status_code == 403


def test_anonymous_may_not_list(api_client, db):
    assert api_client.get("/api/v1/faces").status_code == 401
