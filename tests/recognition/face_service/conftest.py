"""Fixtures of the face-service (004) tests: an API client with a face-service key, face videos made from
the shared photographs (H.264 MP4 written by imageio-ffmpeg's ffmpeg), a real RTSP server streaming a
"classroom" of three faces, and the students' embeddings as the caller would send them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from rest_framework.test import APIClient

from cameras.rtsp_server import RtspTestServer, free_port
from recognition.engine import FaceEngine
from recognition.face_service.lift import lift
from tests.conftest import SHARED_DATA
from tests.factories import ApiKeyFactory

BASE = "/face-service/api/v1"
CLASSROOM = "classroom.mp4"
# The classroom: img1 (person A), img13 (person B) and img30 (a visitor nobody enrolled).
CLASSROOM_FACES = ("img1.jpg", "img13.jpg", "img30.jpg")
# What the caller enrols, from *other* photographs of the same people, and a student who is absent.
STUDENT_PHOTOS = {201: "img2.jpg", 202: "img14.jpg", 203: "img26.jpg"}
H264 = ["-bf", "0", "-force_key_frames", "expr:gte(t,n_forced*1)", "-movflags", "+faststart"]


def require_shared_data() -> Path:
    faces = SHARED_DATA / "faces"
    if not faces.is_dir():
        pytest.skip(f"{faces} is absent (a clone without ../shared); CI always has it")
    return faces


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10, codec: str = "libx264") -> Path:
    """Frames (BGR, all one size) as a video file; H.264 MP4 as a camera would stream it by default."""
    height, width = frames[0].shape[:2]
    params = H264 if codec == "libx264" else []
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec=codec, macro_block_size=1, output_params=params
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame[:, :, ::-1]).tobytes())
    writer.close()
    return path


def face_crop(engine: FaceEngine, photo: np.ndarray, side: int = 300) -> np.ndarray:
    """The photo's largest face with a margin around it, as a ``side`` square."""
    box = engine.detect(photo)[0].box
    centre_x, centre_y, size = box.x + box.w / 2, box.y + box.h / 2, max(box.w, box.h) * 1.6
    x0, y0 = int(max(0, centre_x - size / 2)), int(max(0, centre_y - size / 2))
    x1, y1 = int(min(photo.shape[1], centre_x + size / 2)), int(min(photo.shape[0], centre_y + size / 2))
    return cv2.resize(photo[y0:y1, x0:x1], (side, side), interpolation=cv2.INTER_AREA)


def read_photo(name: str) -> np.ndarray:
    pixels = cv2.imread(str(require_shared_data() / name))
    assert pixels is not None, name
    return pixels


def classroom_frame(engine: FaceEngine) -> np.ndarray:
    canvas = np.full((360, 960, 3), 128, np.uint8)
    for index, name in enumerate(CLASSROOM_FACES):
        canvas[30:330, index * 320 + 10 : index * 320 + 310] = face_crop(engine, read_photo(name))
    return canvas


@pytest.fixture(scope="session")
def videos(tmp_path_factory, engine) -> dict[str, Path]:
    """The test videos, made once: the classroom (3 s), person A's enrolment video (img1, img2, img4, 1 s
    each), a video without a face (skimage's cameraman) and a blurred, dark enrolment video."""
    require_shared_data()
    from skimage import data

    folder = tmp_path_factory.mktemp("face-videos")
    rtsp = folder / "rtsp"
    rtsp.mkdir()
    classroom = classroom_frame(engine)
    person_a = [face_crop(engine, read_photo(name), side=480) for name in ("img1.jpg", "img2.jpg", "img4.jpg")]
    cameraman = cv2.resize(cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR), (480, 480))
    poor = [cv2.GaussianBlur((frame * 0.25).astype(np.uint8), (0, 0), 6) for frame in person_a]
    return {
        "classroom": write_video(rtsp / CLASSROOM, [classroom] * 30),
        "rtsp_folder": rtsp,
        "enrolment": write_video(folder / "enrolment.mp4", [f for f in person_a for _ in range(10)]),
        "enrolment_avi": write_video(folder / "enrolment.avi", [f for f in person_a for _ in range(10)], codec="mjpeg"),
        "no_face": write_video(folder / "no_face.mp4", [cameraman] * 20),
        "poor": write_video(folder / "poor.mp4", [f for f in poor for _ in range(10)]),
    }


@pytest.fixture(scope="session")
def classroom_stream(videos) -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT/classroom.mp4?play_count=0``: the classroom on a real RTSP server."""
    folder = videos["rtsp_folder"]
    with RtspTestServer(folder, log_path=folder.parent / "rtsp.log") as server:
        yield server.url(CLASSROOM, loop=True)


@pytest.fixture
def dead_stream() -> str:
    """An RTSP URL on a local port nothing listens on."""
    return f"rtsp://127.0.0.1:{free_port()}/gone.mp4"


@pytest.fixture(scope="session")
def student_embeddings(engine) -> dict[int, list[float]]:
    """The enrolled embeddings the caller sends (userId -> vector), from photographs the stream never shows."""
    vectors = {}
    for user_id, name in STUDENT_PHOTOS.items():
        photo = read_photo(name)
        vectors[user_id] = [float(v) for v in engine.embed(photo, engine.detect(photo)[0])]
    return vectors


@pytest.fixture
def face_service_key(db):
    return ApiKeyFactory(scopes=["face-service"])


@pytest.fixture
def client(face_service_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=face_service_key.raw)
    return client


def students_payload(embeddings: dict[int, list[float]]) -> list[dict[str, Any]]:
    names = {201: ("Tran Thi B", "HE180314"), 202: ("Le Van C", "HE180315"), 203: ("Pham Van D", "HE180316")}
    return [
        {
            "userId": user_id,
            "fullName": names[user_id][0],
            "rollNumber": names[user_id][1],
            # As the caller holds them: from embeddings/generate, lifted to 004's 512 dimensions.
            "embeddingVector": [float(v) for v in lift(vector)],
            "embeddingVersion": 1,
        }
        for user_id, vector in embeddings.items()
    ]


def session_payload(
    embeddings: dict[int, list[float]], cameras: list[str], callback_url: str, **config: Any
) -> dict[str, Any]:
    return {
        "slotId": 1,
        "roomId": 1,
        "students": students_payload(embeddings),
        "cameras": [{"id": i + 1, "name": f"Camera A101-0{i + 1}", "rtspUrl": url} for i, url in enumerate(cameras)],
        "config": {"similarityThreshold": 0.85, "scanInterval": 1, "callbackUrl": callback_url, **config},
    }


@pytest.fixture
def post(client) -> Callable[..., Any]:
    def send(path: str, body: Any):
        return client.post(f"{BASE}/{path}", body, format="json")

    return send
