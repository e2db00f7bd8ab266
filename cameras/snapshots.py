"""Snapshots: one frame grabbed from a camera, stored as a JPEG and recorded.

Frames are stored through ``default_storage`` (S3/MinIO or the signed filesystem storage) at
``snapshots/{camera_id}/{UTC timestamp}.jpg`` and handed out only as signed, expiring URLs.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera, Snapshot
from cameras.probing import StreamUnavailable, grab_frame
from cameras.streams import url_to_open, with_password
from config.storage import signed_url

__all__ = ["StreamUnavailable", "snapshot_key", "snapshot_url", "take_snapshot"]


def snapshot_key(camera_id: str, taken_at: datetime) -> str:
    """Storage key of a snapshot: ``snapshots/{camera_id}/20251105T103000123456Z.jpg`` (UTC)."""
    stamp = taken_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"snapshots/{camera_id}/{stamp}.jpg"


def take_snapshot(camera: Camera, timeout: float = 10.0) -> Snapshot:
    """Grab a frame from ``camera`` now, store it, record it and make it the camera's thumbnail.

    The stream is opened with the camera's password put back. Raises ``StreamUnavailable`` (with a human
    message) when no frame arrives within ``timeout``; nothing is stored then.
    """
    if not camera.stream_url:
        raise StreamUnavailable("No stream URL configured")
    try:
        # Checked again at each open: a local file confined to its folder, a network stream by the policy.
        url = url_to_open(with_password(camera.stream_url, camera.stream_password), camera.stream_type)
    except ValueError as exc:
        raise StreamUnavailable(str(exc)) from None
    data = grab_frame(url, timeout=timeout)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise StreamUnavailable("The camera's frame could not be decoded")
    height, width = image.shape[:2]
    taken_at = timezone.now()
    name = default_storage.save(snapshot_key(camera.pk, taken_at), ContentFile(data))
    try:
        with transaction.atomic():
            snapshot = Snapshot.objects.create(
                camera=camera,
                storage_key=name,
                width=width,
                height=height,
                size_bytes=len(data),
                taken_at=taken_at,
            )
            camera.thumbnail = name
            # Only the thumbnail: a snapshot is not an edit of the camera (no updated_at, no version bump).
            camera.save(update_fields=["thumbnail"])
    except BaseException:
        with contextlib.suppress(Exception):
            default_storage.delete(name)
        raise
    return snapshot


def snapshot_url(snapshot: Snapshot, expire: int | None = None) -> str:
    """A signed, expiring URL of the snapshot's JPEG (``expire`` seconds, default ``SIGNED_URL_MAX_AGE``)."""
    return signed_url(snapshot.storage_key, expire=expire)
