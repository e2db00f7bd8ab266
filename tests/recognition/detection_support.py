"""Helpers of the detection tests: cameras, enrolled people and stored detections. (An external detection
provider is ``http_peer(answer={"detections": [...]})``, the shared HTTP peer.)"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from cameras.models import Camera
from recognition.models import Detection, FaceProfile


def make_camera(camera_id: str = "CAM-01", name: str = "Main entrance", **fields) -> Camera:
    fields.setdefault("stream_url", "rtsp://127.0.0.1:9/none.mp4")
    return Camera.objects.create(id=camera_id, name=name, **fields)


def make_profile(employee_id: str = "EMP-00412", name: str = "Sophia Martinez", **fields) -> FaceProfile:
    fields.setdefault("status", "active")
    return FaceProfile.objects.create(employee_id=employee_id, name=name, **fields)


def make_detection(
    camera: Camera, at: datetime | None = None, profile: FaceProfile | None = None, **fields
) -> Detection:
    return Detection.objects.create(
        camera=camera,
        profile=profile,
        person_id=profile.employee_id if profile else "",
        name=profile.name if profile else "",
        confidence=fields.pop("confidence", 97.5),
        timestamp=at or timezone.now(),
        bounding_box=fields.pop("bounding_box", {"top": 10, "left": 20, "width": 80, "height": 100}),
        status=fields.pop("status", "authorized" if profile else "unknown"),
        **fields,
    )
