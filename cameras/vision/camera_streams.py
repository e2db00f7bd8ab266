"""The cameras' demand on the vision pipeline: every enabled camera with a stream is watched.

Every camera is decoded once, for its live picture and its health; the apps that analyse more (faces,
counting) read what they need from the demand's settings: the camera's own fields that concern analysis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cameras.models import Camera
from cameras.services import stream_url_for_platform
from cameras.vision.registry import StreamDemand, VisionStream

CAMERA = "camera"


def analysis_settings(camera: Camera) -> dict[str, Any]:
    """What the analyzers of a camera read; a change of any of it restarts the camera's analysis."""
    counting = (camera.metadata or {}).get("counting")
    return {
        "name": camera.name,
        "recognition_enabled": camera.recognition_enabled,
        "match_threshold": camera.match_threshold,
        "counting": counting if isinstance(counting, dict) else None,
    }


def camera_demand(camera: Camera) -> StreamDemand:
    return StreamDemand(
        kind=CAMERA,
        id=camera.pk,
        url=stream_url_for_platform(camera),
        stream_type=camera.stream_type,
        max_width=camera.detect_width,
        max_height=camera.detect_height,
        fps=camera.analysis_fps,
        settings=analysis_settings(camera),
        label=camera.pk,
    )


def camera_demands() -> Iterator[StreamDemand]:
    """Every enabled camera that has a stream URL."""
    for camera in Camera.objects.filter(enabled=True).exclude(stream_url="").order_by("pk"):
        yield camera_demand(camera)


def cameras_of(stream: VisionStream) -> list[StreamDemand]:
    """The platform cameras among a stream's demands."""
    return stream.demands_of(CAMERA)
