"""The issue's acceptance test on the shared photographs, through the API: enrol img1, img13 and img16;
img2 and img4 are the first person, img14 the second, img17 the third, img26 and img30 unknown, and
couple.jpg has two faces."""

from __future__ import annotations

import pytest

from recognition.choices import FACE_MODELS
from tests.recognition.conftest import enrol, photo_file

PEOPLE = {"img1": ("EMP-001", "Person One"), "img13": ("EMP-013", "Person Thirteen"), "img16": ("EMP-016", "Person 16")}


@pytest.fixture
def enrolled_trio(admin_client, shared_data, engine):
    for photo, (employee_id, name) in PEOPLE.items():
        response = enrol(admin_client, employee_id, name, [photo_file(shared_data / "faces" / f"{photo}.jpg")])
        assert response.status_code == 201, response.json()
    return admin_client


def identify(client, path):
    response = client.post("/api/v1/faces/identify", {"image": photo_file(path)}, format="multipart")
    assert response.status_code == 200, response.json()
    return response.json()["data"]["faces"]


@pytest.mark.parametrize(
    ("photo", "employee_id"),
    [("img2", "EMP-001"), ("img4", "EMP-001"), ("img14", "EMP-013"), ("img17", "EMP-016")],
)
def test_an_enrolled_person_is_recognised_in_another_photo(enrolled_trio, shared_data, photo, employee_id):
    faces = identify(enrolled_trio, shared_data / "faces" / f"{photo}.jpg")

    assert len(faces) == 1
    assert faces[0]["status"] == "recognized"
    assert faces[0]["matches"][0]["employeeId"] == employee_id
    assert [match["employeeId"] for match in faces[0]["matches"]] == [employee_id]  # nobody else within threshold
    assert faces[0]["matches"][0]["similarity"] >= 1 - FACE_MODELS["Dlib"].threshold


@pytest.mark.parametrize("photo", ["img26", "img30"])
def test_a_person_not_enrolled_is_unknown(enrolled_trio, shared_data, photo):
    faces = identify(enrolled_trio, shared_data / "faces" / f"{photo}.jpg")

    assert len(faces) == 1
    assert faces[0]["status"] == "unknown"
    assert faces[0]["matches"] == []


def test_couple_photo_yields_two_faces(enrolled_trio, shared_data):
    faces = identify(enrolled_trio, shared_data / "faces" / "couple.jpg")

    assert len(faces) == 2
    for face in faces:
        assert set(face["boundingBox"]) == {"top", "left", "width", "height"}
        assert 0.0 <= face["quality"]["score"] <= 1.0
