"""POST /api/v1/faces/identify and /api/v1/faces/verify (Argus's own, 001 envelope)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognition.choices import FACE_MODELS
from recognition.models import FaceProfile
from tests.factories import FaceProfileFactory
from tests.recognition.conftest import enrol, jpeg_file, photo_file


@pytest.fixture
def enrolled_astronaut(admin_client, astronaut, engine):
    response = enrol(admin_client, "EMP-100", "Eileen Collins", [jpeg_file(astronaut, "astronaut.jpg")])
    assert response.status_code == 201
    return response.json()["data"]


@pytest.fixture
def astronaut_again(astronaut) -> np.ndarray:
    """Another shot of her: scaled, slightly rotated, recompressed."""
    matrix = cv2.getRotationMatrix2D((256, 256), 3, 1.1)
    return cv2.warpAffine(astronaut, matrix, (512, 512), borderMode=cv2.BORDER_REFLECT)


def identify(client, pixels, **fields):
    return client.post("/api/v1/faces/identify", {"image": jpeg_file(pixels), **fields}, format="multipart")


def verify(client, **fields):
    return client.post("/api/v1/faces/verify", fields, format="multipart")


# --- identify ------------------------------------------------------------------------------------------------


def test_identify_recognises_an_enrolled_person(admin_client, enrolled_astronaut, astronaut_again):
    response = identify(admin_client, astronaut_again)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    faces = body["data"]["faces"]
    assert len(faces) == 1
    face = faces[0]
    assert face["status"] == "recognized"
    assert face["matches"] == [
        {"employeeId": "EMP-100", "name": "Eileen Collins", "similarity": pytest.approx(1, abs=0.08)}
    ]
    assert set(face["boundingBox"]) == {"top", "left", "width", "height"}
    assert set(face["quality"]) >= {"score", "isAcceptable", "metrics", "feedback", "faceSizeRatio", "sharpness"}
    assert set(face["quality"]["metrics"]) == {"faceSize", "clarity", "lighting", "faceAngle"}
    assert body["data"]["model"] == "Dlib"


def test_identify_answers_unknown_for_a_face_nobody_enrolled(admin_client, astronaut, engine, shared_data):
    FaceProfileFactory(employee_id="EMP-1", name="Nobody Yet", status="pending")
    image = cv2.imread(str(shared_data / "faces" / "img30.jpg"))

    faces = identify(admin_client, image).json()["data"]["faces"]

    assert [face["status"] for face in faces] == ["unknown"]
    assert faces[0]["matches"] == []


def test_identify_with_an_empty_gallery_answers_unknown(admin_client, astronaut, engine):
    faces = identify(admin_client, astronaut).json()["data"]["faces"]

    assert [face["status"] for face in faces] == ["unknown"]


def test_identify_an_image_without_faces_answers_no_faces(admin_client, no_face_image, engine):
    response = identify(admin_client, no_face_image)

    assert response.status_code == 200
    assert response.json()["data"]["faces"] == []


def test_identify_leaves_archived_people_unknown(admin_client, enrolled_astronaut, astronaut_again):
    FaceProfile.objects.filter(pk=enrolled_astronaut["id"]).update(status="archived")

    faces = identify(admin_client, astronaut_again).json()["data"]["faces"]

    assert faces[0]["status"] == "unknown"


def test_identify_requires_an_image(admin_client):
    response = admin_client.post("/api/v1/faces/identify", {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "image"


def test_identify_refuses_a_file_that_is_not_an_image(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = SimpleUploadedFile("x.jpg", b"hello" * 20, content_type="image/jpeg")

    response = admin_client.post("/api/v1/faces/identify", {"image": text}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_IMAGE"


def test_identify_refuses_a_limit_out_of_range(admin_client, astronaut):
    response = identify(admin_client, astronaut, limit="50")

    assert response.status_code == 400


def test_identify_needs_faces_read(viewer_client, astronaut):
    assert identify(viewer_client, astronaut).status_code == 403


def test_identify_is_not_reachable_as_a_profile_id(admin_client):
    assert admin_client.get("/api/v1/faces/identify").status_code == 405


# --- verify -----------------------------------------------------------------------------------------------------


def test_verify_two_photos_of_one_person(admin_client, astronaut, astronaut_again, engine):
    response = verify(admin_client, image1=jpeg_file(astronaut), image2=jpeg_file(astronaut_again))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["verified"] is True
    assert data["model"] == "Dlib" and data["threshold"] == pytest.approx(FACE_MODELS["Dlib"].threshold)
    assert data["similarity"] == pytest.approx(1 - data["distance"], abs=1e-3)
    assert data["distance"] <= data["threshold"]


def test_verify_two_different_people(admin_client, shared_data, engine):
    response = verify(
        admin_client,
        image1=photo_file(shared_data / "faces" / "img1.jpg"),
        image2=photo_file(shared_data / "faces" / "img13.jpg"),
    )

    data = response.json()["data"]
    assert data["verified"] is False and data["distance"] > data["threshold"]


def test_verify_two_photos_of_one_shared_person(admin_client, shared_data, engine):
    response = verify(
        admin_client,
        image1=photo_file(shared_data / "faces" / "img13.jpg"),
        image2=photo_file(shared_data / "faces" / "img14.jpg"),
    )

    assert response.json()["data"]["verified"] is True


def test_verify_against_an_enrolled_employee(admin_client, enrolled_astronaut, astronaut_again):
    response = verify(admin_client, image1=jpeg_file(astronaut_again), employeeId="EMP-100")

    assert response.status_code == 200
    assert response.json()["data"]["verified"] is True


def test_verify_against_another_enrolled_employee_is_false(admin_client, enrolled_astronaut, shared_data):
    response = verify(admin_client, image1=photo_file(shared_data / "faces" / "img1.jpg"), employeeId="EMP-100")

    assert response.json()["data"]["verified"] is False


def test_verify_against_an_unknown_employee_is_404(admin_client, astronaut):
    response = verify(admin_client, image1=jpeg_file(astronaut), employeeId="EMP-404")

    assert response.status_code == 404


def test_verify_against_an_employee_without_images_is_refused(admin_client, astronaut, engine):
    FaceProfileFactory(employee_id="EMP-0", name="No Images", status="pending")

    response = verify(admin_client, image1=jpeg_file(astronaut), employeeId="EMP-0")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NO_ENROLLED_IMAGES"


def test_verify_needs_image2_or_employee_id(admin_client, astronaut):
    response = verify(admin_client, image1=jpeg_file(astronaut))

    assert response.status_code == 400


def test_verify_refuses_image2_and_employee_id_together(admin_client, astronaut):
    response = verify(admin_client, image1=jpeg_file(astronaut), image2=jpeg_file(astronaut), employeeId="EMP-1")

    assert response.status_code == 400


def test_verify_refuses_a_photo_without_a_face(admin_client, astronaut, no_face_image, engine):
    response = verify(admin_client, image1=jpeg_file(astronaut), image2=jpeg_file(no_face_image))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "NO_FACE_DETECTED" and error["details"]["field"] == "image2"


def test_verify_needs_faces_read(viewer_client, astronaut):
    assert verify(viewer_client, image1=jpeg_file(astronaut), image2=jpeg_file(astronaut)).status_code == 403


def test_an_engine_without_its_weights_answers_503_naming_the_file(admin_client, astronaut, settings, tmp_path):
    settings.ARGUS_FACE_MODEL = "ArcFace"
    settings.DEEPFACE_HOME = tmp_path

    response = identify(admin_client, astronaut)

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "FACE_ENGINE_UNAVAILABLE" and "arcface_weights.onnx" in error["message"]
