"""The threshold page: what the model's threshold, the cameras' own and a few candidates trade on the site's
enrolled faces (real embeddings of the shared photographs)."""

from __future__ import annotations

import itertools

import pytest

from recognition.thresholds import enrolled_tradeoff
from tests.factories import CameraFactory, FaceImageFactory, FaceProfileFactory
from tests.recognition.conftest import read_photo

pytestmark = pytest.mark.django_db

PEOPLE = {"EMP-A": ["img1", "img2"], "EMP-B": ["img13", "img14"], "EMP-C": ["img16"]}


@pytest.fixture
def enrolled(engine, shared_data):
    for employee_id, photos in PEOPLE.items():
        profile = FaceProfileFactory(employee_id=employee_id, status="active")
        for photo in photos:
            pixels = read_photo(shared_data / "faces" / f"{photo}.jpg")
            vector = engine.embed(pixels, engine.detect(pixels)[0])
            image = FaceImageFactory.build(profile=profile, storage_key=f"faces/{profile.pk}/{photo}.jpg")
            image.save()
            profile.embeddings.create(image=image, model="Dlib", dimension=128, embedding=vector.tolist())


def test_every_pair_of_enrolled_faces_is_genuine_or_impostor(enrolled, engine):
    tradeoff = enrolled_tradeoff(engine)

    assert (tradeoff.people, tradeoff.embeddings) == (3, 5)
    assert (len(tradeoff.calibration.same), len(tradeoff.calibration.different)) == (2, 8)


def test_the_model_threshold_accepts_no_impostor_pair_of_the_enrolled_faces(enrolled, engine):
    [default] = [p for p in enrolled_tradeoff(engine).points if p.label == "model default"]

    assert default.operating.threshold == engine.threshold and default.operating.false_accepts == 0


def test_stricter_thresholds_miss_more_and_looser_ones_accept_more(enrolled, engine):
    points = [p.operating for p in enrolled_tradeoff(engine).points]  # ascending thresholds

    assert [p.threshold for p in points] == sorted(p.threshold for p in points) and len(points) >= 5
    assert all(a.false_rejects >= b.false_rejects for a, b in itertools.pairwise(points))
    assert all(a.false_accepts <= b.false_accepts for a, b in itertools.pairwise(points))


def test_a_cameras_own_threshold_is_one_of_the_points(enrolled, engine):
    CameraFactory(id="CAM-DOOR", match_threshold=0.055)

    labels = {p.label: p.operating.threshold for p in enrolled_tradeoff(engine).points}

    assert labels["camera CAM-DOOR"] == 0.055


def test_the_page_shows_the_trade_from_the_faces_page(enrolled, client, admin_user):
    client.force_login(admin_user)

    faces = client.get("/recognition/faces/").content.decode()
    page = client.get("/recognition/thresholds/")

    assert "/recognition/thresholds/" in faces
    assert page.status_code == 200
    text = page.content.decode()
    assert "model default" in text and "0 / 8" in text and 'id="threshold-histogram"' in text


def test_the_page_answers_for_a_site_with_no_faces(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/recognition/thresholds/").status_code == 200


def test_the_page_needs_faces_read(client, viewer_user):
    client.force_login(viewer_user)

    assert client.get("/recognition/thresholds/").status_code == 403


def test_a_site_threshold_is_shown_beside_the_models_default(enrolled, engine, settings):
    settings.ARGUS_FACE_MATCH_THRESHOLD = 0.06

    labels = {p.label: p.operating.threshold for p in enrolled_tradeoff(engine).points}

    assert labels["site setting"] == 0.06 and labels["model default"] == engine.spec.threshold
