"""The live picture analyzer: a JPEG of the newest frame kept in Redis, a still picture not encoded again."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cameras.models import Camera
from cameras.vision import live
from cameras.vision.camera_streams import camera_demand
from cameras.vision.decoder import Frame
from cameras.vision.registry import AnalysedFrame, Motion, VisionStream, stream_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched_camera(settings) -> tuple[Camera, live.LiveImage]:
    settings.VISION_LIVE_SECONDS = 0.0  # every frame handed over is a moment to keep the picture
    camera = Camera.objects.create(id="CAM-LIVE", name="Hall", stream_url="rtsp://127.0.0.1:8554/hall")
    demand = camera_demand(camera)
    return camera, live.LiveImage(VisionStream(stream_key(demand.url), (demand,)))


def hand_over(analyzer: live.LiveImage, pixels: np.ndarray, moving: bool) -> None:
    frame = Frame(pixels=pixels, captured_at=time.time(), index=1)
    analyzer.on_frame(AnalysedFrame(frame=frame, motion=Motion(active=moving, score=0.0), stream=None))


def test_a_still_picture_is_kept_alive_without_being_encoded_again(watched_camera):
    camera, analyzer = watched_camera
    hall = np.full((360, 640, 3), 120, dtype=np.uint8)

    hand_over(analyzer, hall, moving=False)
    first = live.latest_jpeg(camera.pk)
    live.get_redis().delete(live.live_key(camera.pk))  # gone (a Redis restart): the same picture comes back
    for _ in range(5):
        hand_over(analyzer, hall, moving=False)

    assert analyzer.encoded == 1
    assert live.latest_jpeg(camera.pk) == first
    assert str(Camera.objects.get(pk=camera.pk).thumbnail).startswith(live.THUMBNAIL_PREFIX)


def test_a_moving_picture_is_encoded_anew(watched_camera):
    camera, analyzer = watched_camera
    hand_over(analyzer, np.full((360, 640, 3), 120, dtype=np.uint8), moving=False)
    first = live.latest_jpeg(camera.pk)

    hand_over(analyzer, np.full((360, 640, 3), 30, dtype=np.uint8), moving=True)

    assert analyzer.encoded == 2
    assert live.latest_jpeg(camera.pk) != first


def test_a_still_picture_is_encoded_again_with_each_thumbnail(watched_camera):
    _camera, analyzer = watched_camera
    analyzer.thumbnail_every = 0.0
    hall = np.full((360, 640, 3), 120, dtype=np.uint8)

    for _ in range(3):
        hand_over(analyzer, hall, moving=False)

    assert analyzer.encoded == 3
