"""The Counting dashboard page (/counting/): live tiles per camera, hourly and daily charts, and the set-up
of each camera's counting line or zone, drawn over a snapshot.

Thin: counts and analytics come from the 000 API (``/api/v1/counts/realtime``, ``/api/v1/counts/analytics``),
which the page calls with the dashboard's access token; the in/out split of the video counter comes from
:func:`status` (the API's count records carry in + out only). The set-up is validated by
:mod:`counting.video.config` and saved into the camera's metadata through ``cameras.services``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.dashboard import permission_required
from cameras import services, snapshots
from cameras.models import Camera, Snapshot
from cameras.probing import StreamUnavailable
from config.api.contracts import ApiError
from config.storage import signed_url
from counting.video import locks, storage
from counting.video.config import METADATA_KEY, ConfigError, parse_config

REFRESH_SECONDS = 5
SNAPSHOT_URL_SECONDS = 3600


def _frame(camera: Camera) -> tuple[int, int] | None:
    return (camera.width, camera.height) if camera.width and camera.height else None


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
    raw = (camera.metadata or {}).get(METADATA_KEY)
    problem = ""
    if raw is not None:
        try:
            parse_config(raw, _frame(camera))
        except ConfigError as exc:
            problem = str(exc)
    return {
        "id": camera.pk,
        "name": camera.name,
        "location": camera.location,
        "status": camera.status,
        "enabled": camera.enabled,
        "version": camera.version,
        "frame": {"width": camera.width, "height": camera.height} if _frame(camera) else None,
        "counting": raw,
        "problem": problem,
        "backdrop": _backdrop(shot),
        "setup_url": reverse("counting:setup", args=[camera.pk]),
        "snapshot_url": reverse("counting:snapshot", args=[camera.pk]),
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
            "status": reverse("counting:status"),
        },
    }
    return render(request, "counting/dashboard.html", context)


@never_cache
@require_GET
@permission_required("counts:read", json=True)
def status(request: HttpRequest) -> JsonResponse:
    """``{camera_id: {running, counting, last_interval {in, out, ...}, run_totals, error, ...}}`` for the tiles."""
    ids = list(Camera.objects.order_by("id").values_list("id", flat=True))
    summaries = storage.read_status(ids)
    counting = locks.held(ids)
    answer = {}
    for camera_id in ids:
        summary = summaries.get(camera_id, {})
        answer[camera_id] = {
            "counting": camera_id in counting,  # its lock is held: a run is queued or under way
            "running": bool(summary.get("running")),
            "last_interval": summary.get("last_interval"),
            "run_totals": summary.get("run_totals"),
            "updated": summary.get("updated"),
            "stopped": summary.get("stopped", ""),
            "error": summary.get("error", ""),
        }
    return JsonResponse(answer)


@require_POST
@permission_required("cameras:write", json=True)
def snapshot(request: HttpRequest, camera_id: str) -> JsonResponse:
    """Grab a frame from the camera now (up to 10 s) to draw the set-up on: ``{url, width, height}``."""
    camera = get_object_or_404(Camera, pk=camera_id)
    try:
        shot = snapshots.take_snapshot(camera)
    except StreamUnavailable as exc:
        return JsonResponse({"error": f"Could not grab a frame: {exc}"}, status=502)
    return JsonResponse(
        {
            "url": snapshots.snapshot_url(shot, expire=SNAPSHOT_URL_SECONDS),
            "width": shot.width,
            "height": shot.height,
            "taken_at": shot.taken_at.isoformat(),
        }
    )


@require_POST
@permission_required("cameras:write", json=True)
def setup(request: HttpRequest, camera_id: str) -> JsonResponse:
    """Save (or with ``{"remove": true}`` remove) the camera's counting set-up, validated.

    Body: the set-up as stored (``mode``, ``line`` or ``zone``, ``in_side``, ``interval``, ``enabled``, ``frame``)
    plus an optional ``version`` of the camera the page was showing, so a concurrent edit is not overwritten.
    Answers ``{"counting": ..., "version": n}``, or 400 ``{"errors": {field: message}}``, or 409.
    """
    camera = get_object_or_404(Camera, pk=camera_id)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"errors": {"body": "not JSON"}}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"errors": {"body": "must be an object"}}, status=400)
    version = body.pop("version", None)
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return JsonResponse({"errors": {"version": "must be an integer"}}, status=400)
    metadata = dict(camera.metadata or {})
    if body.get("remove") is True:
        metadata.pop(METADATA_KEY, None)
        stored = None
    else:
        try:
            config = parse_config(body, _frame(camera))
        except ConfigError as exc:
            return JsonResponse({"errors": exc.errors}, status=400)
        stored = config.to_metadata()
        metadata[METADATA_KEY] = stored
    try:
        camera = services.update_camera(camera, {"metadata": metadata}, expected_version=version)
    except ApiError as error:
        # A stale version (409) or a metadata the camera service refuses (400).
        return JsonResponse({"errors": {"camera": error.text()}}, status=error.http_status)
    return JsonResponse({"counting": stored, "version": camera.version})
