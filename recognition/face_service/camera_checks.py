"""Camera connection tests and preview frames (004 ``cameras/test-connection`` and ``cameras/capture-frame``)."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from cameras.models import Camera
from cameras.probing import StreamUnavailable, grab_frame, probe_stream
from cameras.streams import masked_url, with_password
from config.api.contracts import ApiError, Kind
from config.storage import signed_url
from recognition.face_service import conf
from recognition.face_service.callbacks import iso
from recognition.face_service.serializers import invalid, parse_rtsp_url
from recognition.face_service.video import stream_timing
from recognition.models import SessionCamera

PREVIEW_FOLDER = "face-service/previews"
FORMATS = ("base64", "file")


def test_connection(rtsp_url: str) -> tuple[str, dict[str, Any]]:
    """(message, data): whether the stream answers within the connect timeout and, if so, how it streams.

    The probe gives the connection, latency and resolution; ten decoded frames then give the frame rate
    and whether frames come regularly (``stability``).
    """
    timeout = conf.connect_timeout()
    probe = probe_stream(rtsp_url, timeout=timeout)
    shown = masked_url(rtsp_url)
    if not probe.ok:
        data = {"rtspUrl": shown, "connected": False, "error": probe.error, "testedAt": iso()}
        return "Camera connection failed", data
    timing = stream_timing(rtsp_url, frames=10, timeout=timeout)
    width = probe.width or timing.width
    height = probe.height or timing.height
    data = {
        "rtspUrl": shown,
        "connected": True,
        "frameRate": float(timing.frame_rate or probe.fps or 0.0),
        "resolution": {"width": width, "height": height},
        "latency": round(probe.latency_ms),
        "stability": timing.stability,
        "testedAt": iso(),
    }
    return "Camera connection successful", data


def _parse_camera_id(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        camera_id = int(value)
    except ValueError:
        raise invalid("VALIDATION_ERROR", "cameraId must be an integer", "cameraId") from None
    if not 0 <= camera_id <= 32767:
        raise invalid("VALIDATION_ERROR", "cameraId must be between 0 and 32767", "cameraId")
    return camera_id


def camera_url(camera_id: int) -> str:
    """The stream of the caller's camera ``camera_id``: from its latest session, else the platform's camera
    of that id. 404 CAMERA_NOT_FOUND when neither knows it."""
    known = SessionCamera.objects.filter(camera_id=camera_id).order_by("-session__started_at").first()
    if known is not None:
        return known.rtsp_url
    camera = Camera.objects.filter(pk=str(camera_id)).first()
    if camera is not None and camera.stream_url:
        return with_password(camera.stream_url, camera.stream_password)
    raise ApiError(Kind.NOT_FOUND, f"Camera not found: {camera_id}", code="CAMERA_NOT_FOUND")


def capture_frame(camera_id_param: str | None, rtsp_url_param: str | None, fmt: str | None) -> dict[str, Any]:
    """One frame of a camera as a base64 data URL or as a stored JPEG with a signed URL."""
    fmt = (fmt or "base64").strip().lower()
    camera_id = _parse_camera_id(camera_id_param)
    has_url = bool((rtsp_url_param or "").strip())
    if camera_id is None and not has_url:
        raise invalid("CAMERA_ID_OR_RTSP_URL_REQUIRED", "Either cameraId or rtspUrl is required")
    if fmt not in FORMATS:
        raise invalid("INVALID_FORMAT", "format must be base64 or file", "format")
    url = parse_rtsp_url(rtsp_url_param) if has_url else camera_url(camera_id)
    try:
        jpeg = grab_frame(url, timeout=conf.connect_timeout())
    except StreamUnavailable as exc:
        raise ApiError(Kind.INTERNAL, f"Failed to capture frame: {exc}", code="FRAME_CAPTURE_FAILED") from None
    pixels = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ApiError(Kind.INTERNAL, "Failed to capture frame: undecodable frame", code="FRAME_CAPTURE_FAILED")
    data: dict[str, Any] = {}
    if camera_id is not None:
        data["cameraId"] = camera_id
    data.update({"rtspUrl": masked_url(url), "format": fmt})
    if fmt == "base64":
        data["image"] = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    else:
        name = default_storage.save(f"{PREVIEW_FOLDER}/camera_preview_{int(time.time())}.jpg", ContentFile(jpeg))
        try:
            data["filePath"] = default_storage.path(name)
        except NotImplementedError:  # object storage: the key is where the file is
            data["filePath"] = name
        data["fileUrl"] = signed_url(name)
    data["resolution"] = {"width": int(pixels.shape[1]), "height": int(pixels.shape[0])}
    data["capturedAt"] = iso()
    return data


def prune_previews(now: datetime | None = None) -> int:
    """Delete capture-frame previews whose signed URL has expired (nobody can fetch them any more); the
    watchdog calls this every minute. Returns how many files went."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SIGNED_URL_MAX_AGE)
    try:
        _, files = default_storage.listdir(PREVIEW_FOLDER)
    except FileNotFoundError:  # no preview taken yet
        return 0
    removed = 0
    for file_name in files:
        name = f"{PREVIEW_FOLDER}/{file_name}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed += 1
        except FileNotFoundError:  # deleted by another worker meanwhile
            continue
    return removed
