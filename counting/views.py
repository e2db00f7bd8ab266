"""The Counting dashboard page (/counting/): live tiles per camera, hourly and daily charts, and the set-up
of each camera's counting line or zone, drawn over a snapshot.

Thin: the page's script calls the 000 counting API with the dashboard's access token, as the other pages
call theirs: counts and analytics (``/api/v1/counts/realtime``, ``/api/v1/counts/analytics``), the video
counters' in/out split (``/api/v1/counts/counters``), a camera's set-up (``/api/v1/cameras/{id}/counting``)
and, to draw on, a fresh snapshot (001's ``POST /api/v1/cameras/{id}/snapshot``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.dashboard import permission_required
from cameras.models import Camera, Snapshot
from config.storage import signed_url
from counting import setup

REFRESH_SECONDS = 5
SNAPSHOT_URL_SECONDS = 3600


def _latest_snapshots() -> dict[str, Snapshot]:
    """Each camera's latest snapshot, in one query (DISTINCT ON)."""
    latest = Snapshot.objects.order_by("camera_id", "-taken_at").distinct("camera_id")
    return {shot.camera_id: shot for shot in latest}


def _backdrop(shot: Snapshot | None) -> dict[str, Any] | None:
    """A snapshot to draw the set-up on: its signed URL and size."""
    if shot is None:
        return None
    return {
        "url": signed_url(shot.storage_key, expire=SNAPSHOT_URL_SECONDS),
        "width": shot.width,
        "height": shot.height,
        "taken_at": shot.taken_at.isoformat(),
    }


def _panel(camera: Camera, shot: Snapshot | None) -> dict[str, Any]:
    """What the page shows and edits for one camera (also embedded as JSON for the script)."""
    frame = setup.camera_frame(camera)
    return {
        "id": camera.pk,
        "name": camera.name,
        "location": camera.location,
        "status": camera.status,
        "enabled": camera.enabled,
        "version": camera.version,
        "frame": {"width": frame[0], "height": frame[1]} if frame else None,
        "counting": setup.stored_setup(camera),
        "problem": setup.setup_problem(camera),
        "backdrop": _backdrop(shot),
        "setup_url": reverse("camera-counting", args=[camera.pk]),
        "snapshot_url": reverse("camera-snapshot", args=[camera.pk]),
    }


@permission_required("counts:read")
def dashboard(request: HttpRequest) -> HttpResponse:
    """The Counting page."""
    shots = _latest_snapshots()
    panels = [_panel(camera, shots.get(camera.pk)) for camera in Camera.objects.order_by("id")]
    context = {
        "panels": panels,
        "can_setup": request.user.has_permission("cameras:write"),
        "refresh_seconds": REFRESH_SECONDS,
        "urls": {
            "realtime": reverse("counts-realtime"),
            "analytics": reverse("counts-analytics"),
            "counters": reverse("counts-counters"),
        },
    }
    return render(request, "counting/dashboard.html", context)
