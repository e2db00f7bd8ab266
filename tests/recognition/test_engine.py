"""The face engine: weights from the installed package, no network, detection on a downscaled copy and
embeddings from the full-resolution crop, equal to deepface's own."""

from __future__ import annotations

import importlib.metadata
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.api.contracts import ApiError
from recognition import engine as engine_module
from recognition.choices import PACKAGED_WEIGHTS
from recognition.engine import Box, DetectedFace, FaceEngine, FaceEngineUnavailable, check_dimension, cosine_distance
from tests.recognition.conftest import read_photo

BASE_DIR = Path(__file__).resolve().parents[2]


def test_ensure_weights_copies_the_packaged_dlib_files_where_deepface_looks(tmp_path):
    engine = FaceEngine(home=tmp_path)

    weights = engine.ensure_weights()

    assert weights == tmp_path / ".deepface" / "weights"
    for name in PACKAGED_WEIGHTS:
        assert (weights / name).stat().st_size > 1_000_000


def test_missing_weights_are_a_clear_error_not_a_download(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "_packaged_weights_dir", lambda: None)

    with pytest.raises(FaceEngineUnavailable, match=r"absent from .*face_recognition_models.*never downloaded"):
        FaceEngine(home=tmp_path).ensure_weights()


def test_a_model_without_shipped_weights_names_the_missing_file(tmp_path):
    with pytest.raises(FaceEngineUnavailable, match=r"arcface_weights\.onnx is absent"):
        FaceEngine(model_name="ArcFace", home=tmp_path).ensure_weights()


def test_unsupported_model_setting_is_refused():
    with pytest.raises(FaceEngineUnavailable, match="Unsupported face model 'VGG-Face'"):
        FaceEngine(model_name="VGG-Face")


def test_dimension_follows_the_model():
    assert FaceEngine(model_name="Dlib").dimension == 128
    assert FaceEngine(model_name="ArcFace").dimension == 512
    assert FaceEngine(model_name="Facenet512").dimension == 512


def test_engine_loads_and_embeds_with_the_network_cut_off(tmp_path, astronaut):
    """A fresh process, a fresh weights folder, every socket refused: the engine still works."""
    script = textwrap.dedent(
        f"""
        import socket, sys
        def refuse(*args, **kwargs):
            raise OSError("network is forbidden in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        sys.path.insert(0, {str(BASE_DIR)!r})
        from skimage import data
        from recognition.engine import FaceEngine
        engine = FaceEngine(home={str(tmp_path)!r})
        image = data.astronaut()[:, :, ::-1].copy()
        faces = engine.detect(image)
        print(len(faces), engine.embed(image, faces[0]).shape[0])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=BASE_DIR)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "128"]


def test_only_one_opencv_build_is_installed():
    installed = {dist.metadata["Name"].lower() for dist in importlib.metadata.distributions()}
    builds = installed & {
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    }

    assert builds == {"opencv-contrib-python-headless"}


def test_detect_finds_the_one_face_of_the_astronaut(engine, astronaut):
    faces = engine.detect(astronaut)

    assert len(faces) == 1  # her mission patch scores like a face at 0.1 and is left out
    face = faces[0]
    assert 150 < face.box.x < 200 and 50 < face.box.y < 100 and 70 < face.box.w < 120
    assert set(face.landmarks) >= {"left_eye", "right_eye", "nose"}


def test_detect_finds_no_face_in_the_cameraman_photo(engine, no_face_image):
    assert engine.detect(no_face_image) == []


@pytest.fixture(scope="module")
def astronaut_640(astronaut) -> np.ndarray:
    """The astronaut at 640 pixels: the size detection runs at, so a larger copy is detected alike."""
    return cv2.resize(astronaut, (640, 640), interpolation=cv2.INTER_CUBIC)


def test_detect_maps_boxes_of_the_downscaled_copy_back_to_full_resolution(engine, astronaut_640):
    large = cv2.resize(astronaut_640, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)

    small_box, large_box = engine.detect(astronaut_640)[0].box, engine.detect(large)[0].box

    for small_value, large_value in zip(
        (small_box.x, small_box.y, small_box.w, small_box.h),
        (large_box.x, large_box.y, large_box.w, large_box.h),
        strict=True,
    ):
        assert abs(large_value - 4 * small_value) <= 4


def test_embedding_of_a_4x_upscaled_photo_matches_the_original(engine, astronaut_640):
    """Detection runs at 640 pixels either way; the embedding comes from the full-resolution crop."""
    large = cv2.resize(astronaut_640, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)

    original = engine.embed(astronaut_640, engine.detect(astronaut_640)[0])
    upscaled = engine.embed(large, engine.detect(large)[0])

    assert cosine_distance(original, upscaled) < 0.005


def test_embedding_of_a_4x_upscaled_shared_photo_matches_the_original(engine, shared_data):
    image = read_photo(shared_data / "faces" / "img16.jpg")
    large = cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)

    original = engine.embed(image, engine.detect(image)[0])
    upscaled = engine.embed(large, engine.detect(large)[0])

    assert cosine_distance(original, upscaled) < 0.005


def test_a_large_photo_costs_about_what_a_640_pixel_one_does(engine, astronaut_640):
    large = cv2.resize(astronaut_640, None, fx=6, fy=6, interpolation=cv2.INTER_CUBIC)  # 3840 x 3840

    def seconds(image: np.ndarray) -> float:
        start = time.perf_counter()
        engine.embed(image, engine.detect(image)[0])
        return time.perf_counter() - start

    seconds(large)  # warm caches
    small_time = min(seconds(astronaut_640) for _ in range(3))
    large_time = min(seconds(large) for _ in range(3))

    assert large_time < 2.5 * small_time + 0.1


def test_embedding_matches_a_bare_deepface_represent_of_the_same_photo(engine, shared_data):
    from deepface import DeepFace

    image = read_photo(shared_data / "faces" / "img16.jpg")
    ours = engine.embed(image, engine.detect(image)[0])
    bare = DeepFace.represent(img_path=image, model_name="Dlib", detector_backend="dlib")

    assert len(bare) == 1
    # The two detect at different scales, so their boxes differ by a few pixels; the distance stays far
    # below the same-person threshold (0.07).
    assert cosine_distance(ours, np.asarray(bare[0]["embedding"])) < 0.03


def test_embedding_has_the_model_dimension(engine, astronaut):
    vector = engine.embed(astronaut, engine.detect(astronaut)[0])

    assert vector.shape == (128,) and vector.dtype == np.float32


def test_deepface_cannot_download_once_the_engine_is_loaded(engine):
    from deepface.commons import weight_utils

    with pytest.raises(FaceEngineUnavailable, match="never downloaded"):
        weight_utils.download_weights_if_necessary("yolov8n-face.pt", "https://example.invalid/weights")


def test_a_face_without_eyes_is_embedded_unaligned_without_another_detector(engine, astronaut):
    face = engine.detect(astronaut)[0]
    eyeless = DetectedFace(box=face.box, confidence=1.0, landmarks={})

    assert cosine_distance(engine.embed(astronaut, eyeless), engine.embed(astronaut, face)) < 0.08


def test_a_face_box_outside_the_image_is_still_embedded(engine, astronaut):
    face = engine.detect(astronaut)[0]
    shifted = DetectedFace(box=Box(-20, -20, face.box.w, face.box.h), confidence=1.0, landmarks={})

    assert engine.embed(astronaut, shifted).shape == (128,)


def test_check_dimension_names_the_expected_size():
    with pytest.raises(ApiError) as caught:
        check_dimension([0.1] * 512, 128)

    assert caught.value.code == "INVALID_EMBEDDING_DIMENSION"
    assert "512" in caught.value.text() and "expects 128" in caught.value.text()


def test_check_dimension_refuses_what_is_not_a_vector():
    with pytest.raises(ApiError) as caught:
        check_dimension("not numbers", 128)

    assert caught.value.code == "INVALID_EMBEDDING_DIMENSION" and "128" in caught.value.text()


def test_check_dimension_accepts_the_expected_size():
    assert check_dimension([0.5] * 128, 128).shape == (128,)


def test_engine_gives_the_same_answers_from_several_threads(engine, astronaut):
    from concurrent.futures import ThreadPoolExecutor

    expected = engine.embed(astronaut, engine.detect(astronaut)[0])

    def work(_: int) -> np.ndarray:
        return engine.embed(astronaut, engine.detect(astronaut)[0])

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(8)))

    assert all(np.array_equal(result, expected) for result in results)


def test_fresh_engine_loads_once_under_concurrent_first_calls(tmp_path, astronaut):
    from concurrent.futures import ThreadPoolExecutor

    fresh = FaceEngine(home=tmp_path)

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(lambda _: len(fresh.detect(astronaut)), range(4)))

    assert counts == [1, 1, 1, 1]
    assert fresh._model is not None


def test_an_engine_travels_to_another_process_as_its_configuration(tmp_path):
    engine = FaceEngine(home=tmp_path, detect_max_side=320, min_confidence=0.5)

    payload = pickle.dumps(engine)
    first, second = pickle.loads(payload), pickle.loads(payload)

    assert len(payload) < 1000  # its settings, never its networks
    assert first is second  # one engine per configuration and process, loaded once
    assert first.configuration == ("Dlib", "dlib", str(tmp_path), 320, 0.5)


def test_the_configured_engine_arrives_as_the_processs_own(engine):
    configured = engine_module.get_engine()

    assert pickle.loads(pickle.dumps(engine)) is configured
