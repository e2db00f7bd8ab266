"""YuNet's network as an ONNX graph (recognition.yunet_graph): the library's answers, from its own weights."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognition import yunet
from recognition.yunet import FaceNetwork, library_file, same_faces
from recognition.yunet_graph import OVERLAP, YuNetGraph, _check_shape, _suppress, read_layers


@pytest.fixture(scope="module")
def graph() -> YuNetGraph:
    return YuNetGraph(library_file())


@pytest.fixture(scope="module")
def library() -> FaceNetwork:
    return FaceNetwork(library_file())


@pytest.fixture
def fresh_network(monkeypatch):
    """face_network() loads anew in this test, and the process's own network is back afterwards."""
    monkeypatch.setattr(yunet, "_network", None)


def _searched(image: np.ndarray, side: int = yunet.NETWORK_MAX_SIDE) -> np.ndarray:
    """The copy the video analyzer gives the network: at most ``side`` pixels wide or high."""
    shrink = min(1.0, side / max(image.shape[:2]))
    if shrink < 1.0:
        image = cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def test_the_graph_finds_the_faces_the_library_finds_on_the_shared_photos(graph, library, shared_data):
    photos = sorted((shared_data / "faces").glob("*.jpg"))
    assert len(photos) >= 10
    for path in photos:
        for side in (yunet.NETWORK_MAX_SIDE, 320):
            image = _searched(cv2.imread(str(path)), side)
            expected = library.detect(image)

            assert same_faces(graph.detect(image), expected), (path.name, side)


def test_the_graph_finds_the_faces_the_library_finds_on_the_demo_video(graph, library, shared_data):
    capture = cv2.VideoCapture(str(shared_data / "video" / "pedestrians.avi"))
    frames, faces = 0, 0
    try:
        while frames < 60:
            ok, frame = capture.read()
            if not ok:
                break
            for _ in range(4):
                capture.grab()
            image = _searched(frame)
            expected = library.detect(image)
            faces += len(expected)
            frames += 1

            assert same_faces(graph.detect(image), expected), frames
    finally:
        capture.release()
    assert frames == 60
    assert faces > 0  # the comparison covered frames with something found in them


def test_the_graph_answers_as_the_library_on_cuts_of_any_size(graph, library, shared_data):
    """The analyzer searches cuts around motion: sizes that are no multiple of 32 (padded as the library pads)."""
    image = _searched(cv2.imread(str(shared_data / "faces" / "selfie-many-people.jpg")))
    height, width = image.shape[:2]
    for x, y, w, h in ((0, 0, width, height), (13, 7, 301, 187), (width // 3, 0, 97, 65), (0, 11, 33, 31)):
        cut = np.ascontiguousarray(image[y : y + h, x : x + w])

        assert same_faces(graph.detect(cut), library.detect(cut)), (x, y, w, h)


def test_the_graph_finds_nothing_on_a_blank_picture(graph, library):
    blank = np.full((240, 320, 3), 128, dtype=np.uint8)

    assert library.detect(blank) == []
    assert graph.detect(blank) == []


def test_the_process_runs_the_graph_by_default(fresh_network, monkeypatch):
    monkeypatch.delenv(yunet.NETWORK_SETTING, raising=False)

    assert isinstance(yunet.face_network(), YuNetGraph)


def test_the_library_runs_the_network_when_the_setting_asks_for_it(fresh_network, monkeypatch):
    monkeypatch.setenv(yunet.NETWORK_SETTING, yunet.LIBRARY)

    assert isinstance(yunet.face_network(), FaceNetwork)


def test_the_setting_is_read_whatever_its_case_and_spaces(fresh_network, monkeypatch):
    monkeypatch.setenv(yunet.NETWORK_SETTING, " Library ")

    assert isinstance(yunet.face_network(), FaceNetwork)


def test_an_unknown_setting_is_logged_and_the_graph_runs(fresh_network, monkeypatch, caplog):
    monkeypatch.setenv(yunet.NETWORK_SETTING, "libary")

    assert isinstance(yunet.face_network(), YuNetGraph)
    assert "ARGUS_FACE_NETWORK='libary'" in caplog.text


def test_other_threads_run_while_the_graph_computes(graph, shared_data):
    """The vision worker's cameras share one process: onnxruntime must let go of the GIL while the network
    runs. With a switch interval far longer than a search, the main thread gets the interpreter while the
    search is inside the network's run only if the run lets go of it."""
    import sys
    import threading

    image = _searched(cv2.imread(str(shared_data / "faces" / "selfie-many-people.jpg")))
    session = graph._session
    entering, inside, done = threading.Event(), threading.Event(), threading.Event()

    class WatchedSession:
        def run(self, *args, **kwargs):
            inside.set()
            entering.set()
            try:
                return session.run(*args, **kwargs)
            finally:
                inside.clear()
                done.set()

    seen_inside: list[bool] = []
    previous = sys.getswitchinterval()
    graph._session = WatchedSession()
    sys.setswitchinterval(30.0)
    try:
        worker = threading.Thread(target=graph.detect, args=(image,))
        worker.start()
        entering.wait(10)
        seen_inside.append(inside.is_set() and not done.is_set())  # runs when this thread holds the GIL again
        worker.join(30)
    finally:
        sys.setswitchinterval(previous)
        graph._session = session

    assert done.is_set()
    assert seen_inside == [True]


def test_a_graph_that_answers_otherwise_than_the_library_is_not_used(fresh_network, monkeypatch, caplog):
    monkeypatch.delenv(yunet.NETWORK_SETTING, raising=False)
    monkeypatch.setattr(YuNetGraph, "detect", lambda self, image: [])

    assert isinstance(yunet.face_network(), FaceNetwork)
    assert "does not answer as the library" in caplog.text


def test_a_library_without_yunets_table_gives_no_graph(fresh_network, monkeypatch, caplog):
    monkeypatch.delenv(yunet.NETWORK_SETTING, raising=False)
    monkeypatch.setattr("recognition.yunet_graph.LAYERS_SYMBOL", "no_such_table")

    assert isinstance(yunet.face_network(), FaceNetwork)
    assert "could not be built" in caplog.text


def test_a_table_of_another_shape_is_refused():
    layers = read_layers(library_file())
    _check_shape(layers)  # the wheel's own table passes
    layers[29], layers[35] = layers[35], layers[29]  # the class head where the box head should be

    with pytest.raises(ValueError, match="outputs"):
        _check_shape(layers)


def test_the_graph_answers_as_the_library_on_a_crowd(graph, library, shared_data):
    """A picture tiled with faces: hundreds of candidates for the suppression to sort out."""
    portrait = cv2.imread(str(shared_data / "faces" / "img1.jpg"))
    height = round(80 * portrait.shape[0] / portrait.shape[1])
    portrait = cv2.resize(portrait, (80, height), interpolation=cv2.INTER_AREA)
    crowd = np.ascontiguousarray(np.tile(portrait, (6, 8, 1))[:480, :640])
    expected = library.detect(crowd)
    assert len(expected) >= 30

    assert same_faces(graph.detect(crowd), expected)


def _greedy_suppression(boxes: np.ndarray) -> list[int]:
    """The rule written out plainly: in order, keep a box unless it overlaps one already kept by more than
    OVERLAP (intersection over union)."""
    kept: list[int] = []
    for index, (x0, y0, x1, y1) in enumerate(boxes.astype(float)):
        for other in kept:
            a0, b0, a1, b1 = boxes[other].astype(float)
            width, height = min(x1, a1) - max(x0, a0), min(y1, b1) - max(y0, b0)
            inter = width * height if width > 0 and height > 0 else 0.0
            if inter / ((x1 - x0) * (y1 - y0) + (a1 - a0) * (b1 - b0) - inter) > OVERLAP:
                break
        else:
            kept.append(index)
    return kept


@pytest.mark.parametrize("seed", range(6))
def test_suppression_keeps_what_the_greedy_rule_keeps(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 400))
    centre = rng.uniform(0, 320, (count, 2))
    size = rng.uniform(4, 60, (count, 1)) * [1.0, 1.2]
    boxes = np.hstack([centre - size / 2, centre + size / 2]).astype(np.float32)
    boxes[1] = boxes[0]  # a duplicate goes
    boxes[-1] = boxes[0] + [size[0, 0], 0, size[0, 0], 0]  # a box touching the first one stays

    assert _suppress(boxes).tolist() == _greedy_suppression(boxes)


def test_suppression_of_no_boxes_keeps_none():
    assert _suppress(np.zeros((0, 4), dtype=np.float32)).tolist() == []


def test_same_faces_allows_one_pixel_or_point_either_way():
    found = [(10, 20, 30, 40, 90), (100, 20, 31, 40, 70)]

    assert same_faces(found, [(101, 19, 30, 40, 71), (10, 20, 30, 41, 89)])
    assert not same_faces(found, [(10, 20, 30, 40, 90), (100, 20, 33, 40, 70)])
    assert not same_faces(found, found[:1])
