"""The live picture of every watched camera: the newest frame as a JPEG in Redis, and a fresh thumbnail.

About once a second the newest frame is kept in Redis (``latest_jpeg``), from which the dashboard's live view
serves a picture per camera behind its sign-in; every ``VISION_THUMBNAIL_SECONDS`` it becomes the camera's
thumbnail in storage (the previous one is deleted), so camera tiles are never empty while a camera streams.
While the motion gate sees nothing move, the picture is not encoded again each second: the last JPEG is kept
alive (the same picture) and a new one made at the next thumbnail.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import cv2
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from cameras.models import Camera
from cameras.vision.camera_streams import cameras_of
from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, VisionStream
from config.redis import get_redis
from config.storage import signed_url

logger = logging.getLogger("argus.vision")

LIVE_MAX_WIDTH = 960
LIVE_JPEG_QUALITY = 75
LIVE_TTL_SECONDS = 15
THUMBNAIL_PREFIX = "thumbnails/"


def live_key(camera_id: str) -> str:
    return f"{settings.REDIS_PREFIX}:vision:live:{camera_id}"


def latest_jpeg(camera_id: str) -> bytes | None:
    """The camera's newest frame as a JPEG, if a worker watches it."""
    return get_redis().get(live_key(camera_id))


def watched(camera_ids: Iterable[str]) -> set[str]:
    """The cameras whose live picture is kept now (a vision worker watches them), in one Redis round trip."""
    ids = list(camera_ids)
    if not ids:
        return set()
    pipe = get_redis().pipeline(transaction=False)
    for camera_id in ids:
        pipe.exists(live_key(camera_id))
    return {camera_id for camera_id, found in zip(ids, pipe.execute(), strict=True) if found}


def first_picture(camera: Camera, watched_ids: set[str]) -> str | None:
    """What a page shows for ``camera`` before its script refreshes it: the live picture of a watched camera
    (its stored thumbnail is replaced, and the old file deleted, every few seconds: a page could ask for one
    already gone), else the stored thumbnail, else None."""
    if camera.pk in watched_ids:
        return reverse("cameras:live-image", args=[camera.pk])
    return signed_url(camera.thumbnail) if camera.thumbnail else None


def encode_jpeg(pixels, max_width: int = LIVE_MAX_WIDTH, quality: int = LIVE_JPEG_QUALITY) -> bytes:
    height, width = pixels.shape[:2]
    if width > max_width:
        pixels = cv2.resize(pixels, (max_width, round(height * max_width / width)), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return encoded.tobytes()


def store_thumbnail(camera_id: str, jpeg: bytes, at: float) -> str:
    """Make ``jpeg`` the camera's thumbnail; the previous live thumbnail goes (user snapshots stay)."""
    stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = default_storage.save(f"{THUMBNAIL_PREFIX}{camera_id}/{stamp}.jpg", ContentFile(jpeg))
    previous = Camera.objects.filter(pk=camera_id).values_list("thumbnail", flat=True).first()
    if previous is None:  # the camera is gone
        default_storage.delete(name)
        return ""
    # Only the thumbnail: a new picture is not an edit of the camera (no updated_at, no version bump).
    Camera.objects.filter(pk=camera_id).update(thumbnail=name)
    if previous.startswith(THUMBNAIL_PREFIX) and previous != name:
        with contextlib.suppress(Exception):
            default_storage.delete(previous)
    return name


class LiveImage:
    """The cameras analyzer that keeps each watching camera's live picture and thumbnail fresh."""

    def __init__(self, stream: VisionStream) -> None:
        self.camera_ids = [demand.id for demand in cameras_of(stream)]
        self.live_every = float(getattr(settings, "VISION_LIVE_SECONDS", 1.0))
        self.thumbnail_every = float(getattr(settings, "VISION_THUMBNAIL_SECONDS", 10.0))
        self.live_at = 0.0
        self.thumbnail_at = 0.0
        self.jpeg: bytes | None = None
        self.encoded = 0  # pictures encoded, for tests and logs

    def on_frame(self, frame: AnalysedFrame) -> None:
        now = time.time()
        if now - self.live_at < self.live_every:
            return
        self.live_at = now
        thumbnail_due = now - self.thumbnail_at >= self.thumbnail_every
        if self.jpeg is None or frame.motion.active or thumbnail_due:
            self.jpeg = encode_jpeg(frame.pixels)
            self.encoded += 1
        jpeg = self.jpeg
        pipe = get_redis().pipeline()
        for camera_id in self.camera_ids:
            pipe.set(live_key(camera_id), jpeg, ex=LIVE_TTL_SECONDS)
        pipe.execute()
        if thumbnail_due:
            self.thumbnail_at = now
            for camera_id in self.camera_ids:
                store_thumbnail(camera_id, jpeg, frame.captured_at)

    def tick(self, now: float, stats: DecoderStats) -> None:
        pass

    def close(self) -> None:
        pass


def keep_live_image(stream: VisionStream) -> LiveImage | None:
    """Analyzer factory: every stream that platform cameras watch."""
    return LiveImage(stream) if cameras_of(stream) else None
