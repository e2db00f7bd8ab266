"""Dashboard pages of the cameras app: the camera grid and form, alerts, the live picture.

Thin views: they check the same permission strings the API checks (:mod:`accounts.dashboard`), call the
services and render. Live updates come from the ``/ws`` WebSocket and the JSON API, with the access token
the dashboard hands the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import notifications
from accounts.dashboard import paging_query, permission_required
from cameras import alerting, monitoring, services, snapshots
from cameras.api.filters import AlertFilterSet
from cameras.choices import BADGE_COLOURS, AlertLevel, CameraStatus
from cameras.forms import CameraForm
from cameras.models import Alert, Camera
from cameras.probing import StreamUnavailable
from cameras.vision import live
from config.api.contracts import ApiError


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Where a POST form returns to: its ``next`` (same site only) or ``default``."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse(default)
    return redirect(target)


# --- Cameras -----------------------------------------------------------------------------------------


@permission_required("cameras:read")
@require_GET
def live_image(request: HttpRequest, camera_id: str) -> HttpResponse:
    """The camera's newest frame as a JPEG (a vision worker keeps it about a second old); 204 while none.

    No picture yet is not an error (the pages ask every couple of seconds and keep the thumbnail): a 404
    would fill the browser's console with failed requests. An unknown camera is still a 404.
    """
    camera = get_object_or_404(Camera, pk=camera_id)
    jpeg = live.latest_jpeg(camera.pk)
    if jpeg is None:
        response = HttpResponse(status=204)
        response["Cache-Control"] = "no-store"
        return response
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response


def _tile(camera: Camera, watched: set[str]) -> dict[str, Any]:
    return {
        "camera": camera,
        "badge": BADGE_COLOURS.get(camera.status, ""),
        "thumbnail": live.first_picture(camera, watched),
        "stream_url": services.stream_url_for_client(camera),
    }


@permission_required("cameras:read")
def camera_list(request: HttpRequest) -> HttpResponse:
    cameras = list(Camera.objects.order_by("id"))
    watched = live.watched(camera.pk for camera in cameras)
    context = {
        "tiles": [_tile(camera, watched) for camera in cameras],
        "can_write": request.user.has_permission("cameras:write"),
        "badges": {status: BADGE_COLOURS[status] for status in CameraStatus.values},
    }
    return render(request, "cameras/list.html", context)


def _camera_initial(camera: Camera) -> dict[str, Any]:
    return {
        "id": camera.pk,
        "name": camera.name,
        "location": camera.location,
        "stream_type": camera.stream_type,
        "stream_url": services.stream_url_for_client(camera),
        "enabled": camera.enabled,
        "status": camera.status,
        "tags": ", ".join(camera.tags or []),
        "recognition_enabled": camera.recognition_enabled,
        "analysis_fps": camera.analysis_fps,
        "detect_width": camera.detect_width,
        "detect_height": camera.detect_height,
        "version": camera.version,
    }


@permission_required("cameras:write")
def camera_add(request: HttpRequest) -> HttpResponse:
    form = CameraForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                camera = services.create_camera(form.service_data())
            except ApiError as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Camera {camera.pk} added.")
                return redirect("cameras:list")
        form.hide_submitted_password()
    return render(request, "cameras/form.html", {"form": form, "camera": None})


@permission_required("cameras:write")
def camera_edit(request: HttpRequest, camera_id: str) -> HttpResponse:
    camera = get_object_or_404(Camera, pk=camera_id)
    form = CameraForm(request.POST or None, initial=_camera_initial(camera), editing=True)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_camera(camera, form.service_data(), expected_version=form.cleaned_data["version"])
            except ApiError as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Camera {camera.pk} saved.")
                return redirect("cameras:list")
        form.hide_submitted_password()
    return render(request, "cameras/form.html", {"form": form, "camera": camera})


@require_POST
@permission_required("cameras:write")
def camera_test(request: HttpRequest, camera_id: str) -> HttpResponse:
    camera = get_object_or_404(Camera, pk=camera_id)
    # Recorded like a scheduled check: a status change is announced on camera-status as well.
    result = monitoring.probe_camera(camera)
    if result.ok:
        details = [f"{result.width}x{result.height}" if result.width and result.height else "", result.codec]
        details += [f"{result.fps:g} fps" if result.fps else "", f"{round(result.latency_ms)} ms to first frame"]
        messages.success(request, f"{camera.pk}: connection OK ({', '.join(d for d in details if d)}).")
    else:
        messages.error(request, f"{camera.pk}: connection failed: {result.error}")
    return _back(request, "cameras:list")


@require_POST
@permission_required("cameras:write")
def camera_snapshot(request: HttpRequest, camera_id: str) -> HttpResponse:
    camera = get_object_or_404(Camera, pk=camera_id)
    try:
        shot = snapshots.take_snapshot(camera)
    except StreamUnavailable as exc:
        messages.error(request, f"{camera.pk}: could not grab a frame: {exc}")
    else:
        messages.success(request, f"{camera.pk}: snapshot taken ({shot.width}x{shot.height}); it is the new thumbnail.")
    return _back(request, "cameras:list")


# --- Alerts ------------------------------------------------------------------------------------------


def _notification_link(link: str) -> str:
    """Notifications link alerts the SPA way (``/alerts#ALERT-..``); on this page the row has that id."""
    return link.removeprefix("/alerts") if link.startswith("/alerts#") else link


@permission_required("cameras:read")
def alert_list(request: HttpRequest) -> HttpResponse:
    ordered = Alert.objects.select_related("camera").order_by("-timestamp")
    filterset = AlertFilterSet(request.GET or None, queryset=ordered)
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else ordered
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    rows = [{"alert": alert, "badge": BADGE_COLOURS.get(alert.level, "")} for alert in page]
    recent = list(notifications.visible_to(request.user)[:20])
    # A notification about an alert shows that alert's level (high, not the notification scale's critical).
    alert_ids = {item.link.removeprefix("/alerts#") for item in recent if item.link.startswith("/alerts#")}
    levels = dict(Alert.objects.filter(pk__in=alert_ids).values_list("id", "level"))
    for item in recent:
        item.dashboard_link = _notification_link(item.link)
        alert_level = levels.get(item.link.removeprefix("/alerts#")) if item.link.startswith("/alerts#") else None
        item.shown_level = alert_level or item.level
        item.shown_badge = BADGE_COLOURS.get(alert_level, "") if alert_level else item.level
    context = {
        "page": page,
        "rows": rows,
        "filters": {key: request.GET.get(key, "") for key in ("level", "open")},
        "paging_query": paging_query(request),
        "levels": AlertLevel.choices,
        "badges": {level: BADGE_COLOURS[level] for level in AlertLevel.values},
        "can_write": request.user.has_permission("cameras:write"),
        "notifications": recent,
        # The row template the page's script clones for alerts that arrive live.
        "placeholder": {"alert": {"id": "__ID__"}, "badge": ""},
    }
    return render(request, "cameras/alerts.html", context)


@require_POST
@permission_required("cameras:write")
def alert_acknowledge(request: HttpRequest, alert_id: str) -> HttpResponse:
    alert = alerting.acknowledge(get_object_or_404(Alert, pk=alert_id))
    messages.success(request, f"{alert.pk} acknowledged.")
    return _back(request, "cameras:alerts")


@require_POST
@permission_required("cameras:write")
def alert_mute(request: HttpRequest, alert_id: str) -> HttpResponse:
    muted = request.POST.get("muted", "1") != "0"
    alert = alerting.mute(get_object_or_404(Alert, pk=alert_id), muted)
    messages.success(request, f"{alert.pk} {'muted' if muted else 'unmuted'}.")
    return _back(request, "cameras:alerts")
