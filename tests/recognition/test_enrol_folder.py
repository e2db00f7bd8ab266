"""manage.py enrol_folder: one subfolder per person, progress bar, images without one face skipped."""

from __future__ import annotations

from io import StringIO

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recognition.management.commands.enrol_folder import parse_person_folder
from recognition.models import FaceEmbedding, FaceProfile


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("EMP-001 Jane Doe", ("EMP-001", "Jane Doe")),
        ("1042_Jane_Doe", ("1042", "Jane Doe")),
        ("Jane Doe", ("JANE-DOE", "Jane Doe")),
        ("  Zoë  ", ("ZO", "Zoë")),
    ],
)
def test_person_folder_names_give_employee_id_and_name(folder, expected):
    assert parse_person_folder(folder) == expected


@pytest.fixture
def people_folder(tmp_path, astronaut, no_face_image):
    eileen = tmp_path / "EMP-001 Eileen Collins"
    eileen.mkdir()
    cv2.imwrite(str(eileen / "a.jpg"), astronaut)
    cv2.imwrite(str(eileen / "b.png"), cv2.resize(astronaut, (400, 400)))
    cv2.imwrite(str(eileen / "cameraman.jpg"), no_face_image)
    (eileen / "notes.txt").write_text("not an image")
    twins = tmp_path / "Jane Doe"
    twins.mkdir()
    cv2.imwrite(str(twins / "pair.jpg"), np.hstack([astronaut, astronaut[:, ::-1]]))
    mirrored = tmp_path / "Mira Mirror"
    mirrored.mkdir()
    cv2.imwrite(str(mirrored / "m.jpg"), np.ascontiguousarray(astronaut[:, ::-1]))
    return tmp_path


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("enrol_folder", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_enrol_folder_enrols_each_person_and_reports_skipped_images(db, engine, people_folder):
    out, err = run(str(people_folder), "--department", "Flight")

    eileen = FaceProfile.objects.get(employee_id="EMP-001")
    assert (eileen.name, eileen.department, eileen.status) == ("Eileen Collins", "Flight", "active")
    assert eileen.images.count() == 2
    assert FaceProfile.objects.get(employee_id="MIRA-MIRROR").images.count() == 1
    assert not FaceProfile.objects.filter(employee_id="JANE-DOE").exists()
    assert FaceEmbedding.objects.count() == 3
    assert "Enrolled 3 images of 2 people" in out
    assert "cameraman.jpg: No face detected in the image" in out
    assert "pair.jpg: 2 faces detected" in out and "Jane Doe: no usable image" in out
    assert "image/s" in err or "4/4" in err or "100%" in err  # the tqdm bar


def test_enrol_folder_skips_people_already_enrolled(db, engine, people_folder):
    run(str(people_folder), "--no-progress")

    out, _ = run(str(people_folder), "--no-progress")

    assert "EMP-001 is already enrolled" in out
    assert FaceProfile.objects.get(employee_id="EMP-001").images.count() == 2


def test_enrol_folder_update_adds_images_to_people_already_enrolled(db, engine, people_folder):
    run(str(people_folder), "--no-progress")

    run(str(people_folder), "--no-progress", "--update")

    assert FaceProfile.objects.get(employee_id="EMP-001").images.count() == 4


def test_enrol_folder_refuses_a_path_that_is_not_a_folder(db, tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run(str(tmp_path / "missing"))


def test_enrol_folder_refuses_a_folder_without_people(db, tmp_path):
    with pytest.raises(CommandError, match="no subfolders"):
        run(str(tmp_path))
