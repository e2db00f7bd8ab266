"""Dashboard pages of the recognition app: the live view (camera tiles and the detections feed) and face
registration (profiles, their images, enrolment).

Thin views: they check the permission strings the API checks (``detections:*``, ``faces:*``), enrol
through :mod:`recognition.enrolment` and show files through signed URLs. The live feed is rendered from
the database on load; newer detections arrive over the ``/ws`` "detections" channel and "Scan now" posts
to the 001 send-frame endpoint, both from ``static/argus/recognition.js`` with the page's access token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import preferences
from accounts.audit import record_read
from accounts.dashboard import forbidden, paging_query, permission_required
from cameras.choices import BADGE_COLOURS as CAMERA_BADGES
from cameras.choices import CameraStatus
from cameras.models import Camera
from cameras.vision import live as live_pictures
from config.api.contracts import ApiError
from config.storage import signed_url
from recognition import enrolment, feedback
from recognition import thresholds as recognition_thresholds
from recognition.api.filters import FaceProfileFilterSet
from recognition.choices import BADGE_COLOURS, DetectionStatus, ProfileStatus, UnknownClusterStatus
from recognition.engine import FaceEngineUnavailable
from recognition.forms import FaceFilterForm, FaceImagesForm, FaceProfileForm, FaceRegistrationForm
from recognition.models import (
    Detection,
    DetectionEventLog,
    DetectionProviderConfig,
    FaceImage,
    FaceProfile,
    UnknownCluster,
)

FEED_SIZE = 30
EVENT_LOG_SIZE = 10
PROFILE_HISTORY_SIZE = 10
PROFILES_PER_PAGE = 24


def _editor(request: HttpRequest) -> enrolment.Editor:
    """The signed-in user, for the audit entries the enrolment services write (marked as the dashboard's)."""
    return enrolment.Editor(request.user.email, request.user.role_id or "", surface="dashboard", path=request.path)


# --- Live view ---------------------------------------------------------------------------------------


def _start_of_today() -> datetime:
    """Midnight in the viewer's time zone: "today" is the user's day, not the server's."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _tiles(cameras: list[Camera]) -> list[dict[str, Any]]:
    watched = live_pictures.watched(camera.pk for camera in cameras)
    today = dict(
        Detection.objects.filter(camera__in=[camera.pk for camera in cameras], timestamp__gte=_start_of_today())
        .order_by()
        .values_list("camera_id")
        .annotate(count=Count("id"))
    )
    return [
        {
            "camera": camera,
            "badge": CAMERA_BADGES.get(camera.status, ""),
            # The live picture of a watched camera, else its latest snapshot (cameras.snapshots keeps it).
            "snapshot": live_pictures.first_picture(camera, watched),
            "today": today.get(camera.pk, 0),
        }
        for camera in cameras
    ]


def _feed(camera_id: str | None = None, limit: int = FEED_SIZE) -> list[dict[str, Any]]:
    """The newest detections (of one camera, or all), with their thumbnails signed: one query."""
    detections = Detection.objects.select_related("camera").order_by("-timestamp", "id")
    if camera_id:
        detections = detections.filter(camera_id=camera_id)
    return [
        {
            "detection": detection,
            "thumbnail": signed_url(detection.thumbnail) if detection.thumbnail else None,
            "badge": BADGE_COLOURS.get(detection.status, ""),
        }
        for detection in detections[:limit]
    ]


def _feed_context(request: HttpRequest, camera_id: str | None) -> dict[str, Any]:
    return {"rows": _feed(camera_id), "can_see_faces": request.user.has_permission("faces:read")}


@require_GET
@permission_required("detections:read")
def live(request: HttpRequest, camera_id: str | None = None) -> HttpResponse:
    cameras = list(Camera.objects.order_by("id"))
    focus = None
    if camera_id is not None:
        focus = next((camera for camera in cameras if camera.pk == camera_id), None)
        if focus is None:
            raise Http404(f"Camera {camera_id} not found")
    events = DetectionEventLog.objects.order_by("-timestamp", "id")
    if focus is not None:
        events = events.filter(camera=focus)
    provider = DetectionProviderConfig.objects.filter(pk=1).first()  # load() would create it on a GET
    context = {
        **_feed_context(request, focus.pk if focus else None),
        "focus": focus,
        "grid_columns": preferences.grid_columns(request.user),
        "cameras": cameras,
        "tiles": _tiles([focus] if focus else cameras),
        "camera_names": {camera.pk: camera.name for camera in cameras},
        "detection_badges": {status: BADGE_COLOURS[status] for status in DetectionStatus.values},
        "camera_badges": {status: CAMERA_BADGES[status] for status in CameraStatus.values},
        "can_scan": request.user.has_permission("detections:write"),
        "provider": provider,
        "provider_badge": BADGE_COLOURS.get(provider.status, "") if provider else "",
        "events": [{"event": event, "badge": BADGE_COLOURS.get(event.status, "")} for event in events[:EVENT_LOG_SIZE]],
        "urls": {
            "feed": reverse("recognition:live-feed"),
            # 001's endpoints: the page's script calls them with its access token; the API owns their rules.
            "send_frame": reverse("detections-send-frame"),
            "test_provider": reverse("detections-test-provider"),
        },
        "feed_size": FEED_SIZE,
    }
    return render(request, "recognition/live.html", context)


@require_GET
@permission_required("detections:read", json=True)
def live_feed(request: HttpRequest) -> HttpResponse:
    """The feed's rows as HTML, for the page to re-read after its WebSocket was down (``?camera=`` narrows it)."""
    return render(request, "recognition/_feed_rows.html", _feed_context(request, request.GET.get("camera") or None))


# --- Face profiles -----------------------------------------------------------------------------------


def _images_in_order() -> Prefetch:
    return Prefetch("images", queryset=FaceImage.objects.order_by("created_at", "id"))


def _profile_rows(profiles) -> list[dict[str, Any]]:
    rows = []
    for profile in profiles:
        images = list(profile.images.all())  # prefetched
        rows.append(
            {
                "profile": profile,
                "badge": BADGE_COLOURS.get(profile.status, ""),
                "image_count": len(images),
                "thumbnail": signed_url(images[0].storage_key) if images else None,
            }
        )
    return rows


def _profile_listing(request: HttpRequest) -> dict[str, Any]:
    ordered: QuerySet[FaceProfile] = FaceProfile.objects.prefetch_related(_images_in_order()).order_by(
        "name", "employee_id"
    )
    filterset = FaceProfileFilterSet(request.GET or None, queryset=ordered)
    filtered = filterset.is_bound and filterset.is_valid()
    page = Paginator(filterset.qs if filtered else ordered, PROFILES_PER_PAGE).get_page(request.GET.get("page"))
    by_status = dict(FaceProfile.objects.order_by().values_list("status").annotate(count=Count("id")))
    departments = FaceProfile.objects.exclude(department="").order_by("department").values_list("department", flat=True)
    return {
        "page": page,
        "rows": _profile_rows(page),
        "filter_form": FaceFilterForm(request.GET or None),
        "filter_errors": [] if filtered or not filterset.is_bound else _filter_errors(filterset),
        "departments": list(departments.distinct()),
        "paging_query": paging_query(request),
        "total": sum(by_status.values()),
        "status_totals": [(label, by_status.get(value, 0)) for value, label in ProfileStatus.choices],
    }


def _filter_errors(filterset: FaceProfileFilterSet) -> list[str]:
    return [f"{name}: {message}" for name, errors in filterset.errors.items() for message in errors]


def _enrol(request: HttpRequest, form: FaceRegistrationForm) -> FaceProfile | None:
    """The new profile, or None with the service's refusal put on the form."""
    if not form.is_valid():
        return None
    try:
        profile = enrolment.create_profile(form.profile_data(), form.cleaned_data["images"], by=_editor(request))
    except ApiError as error:
        form.add_service_error(error)
        return None
    except FaceEngineUnavailable as exc:
        form.add_error(None, f"The face engine cannot run: {exc}")
        return None
    images = profile.images.count()
    messages.success(
        request,
        f"{profile.name} ({profile.employee_id}) enrolled with {images} image{pluralize(images)}; "
        f"status {profile.status}.",
    )
    return profile


@require_http_methods(["GET", "POST"])
@permission_required("faces:read", "faces:write")
def faces(request: HttpRequest) -> HttpResponse:
    """The profile list (``faces:read``) and the registration form (``faces:write``)."""
    can_read = request.user.has_permission("faces:read")
    can_write = request.user.has_permission("faces:write")
    form = FaceRegistrationForm()
    if request.method == "POST":
        if not can_write:
            return forbidden(request, "faces:write")
        form = FaceRegistrationForm(request.POST, request.FILES)
        if (profile := _enrol(request, form)) is not None:
            if can_read:
                return redirect("recognition:face-detail", profile_id=profile.pk)
            return redirect("recognition:faces")
    context = {
        "form": form,
        "can_read": can_read,
        "can_write": can_write,
        "statuses": ProfileStatus.choices,
        **(_profile_listing(request) if can_read else {}),
    }
    return render(request, "recognition/faces.html", context)


def _profile_or_404(profile_id: uuid.UUID) -> FaceProfile:
    return get_object_or_404(FaceProfile.objects.prefetch_related(_images_in_order()), pk=profile_id)


def _edit_initial(profile: FaceProfile) -> dict[str, Any]:
    return {"name": profile.name, "department": profile.department, "status": profile.status, "notes": profile.notes}


def _detail(
    request: HttpRequest,
    profile: FaceProfile,
    *,
    add_form: FaceImagesForm | None = None,
    edit_form: FaceProfileForm | None = None,
) -> HttpResponse:
    images = [
        {
            "image": image,
            "url": signed_url(image.storage_key),
            "score": (image.quality or {}).get("score"),
            "acceptable": (image.quality or {}).get("is_acceptable"),
            "feedback": (image.quality or {}).get("feedback") or [],
        }
        for image in profile.images.all()
    ]
    history = Detection.objects.filter(profile=profile).select_related("camera").order_by("-timestamp", "id")
    context = {
        "profile": profile,
        "badge": BADGE_COLOURS.get(profile.status, ""),
        "images": images,
        "embedding_count": profile.embeddings.count(),
        "max_images": enrolment.MAX_IMAGES_PER_PROFILE,
        "per_upload": enrolment.MAX_IMAGES_PER_UPLOAD,
        "history": [
            {"detection": detection, "badge": BADGE_COLOURS.get(detection.status, "")}
            for detection in history[:PROFILE_HISTORY_SIZE]
        ],
        "can_write": request.user.has_permission("faces:write"),
        "add_form": add_form or FaceImagesForm(),
        "edit_form": edit_form or FaceProfileForm(initial=_edit_initial(profile)),
    }
    return render(request, "recognition/face_detail.html", context)


@require_GET
@permission_required("faces:read")
def face_detail(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    profile = _profile_or_404(profile_id)
    record_read(
        request,
        action="face_profile.view",
        employee_id=profile.employee_id,
        message=f"Viewed the face profile and images of {profile.employee_id} ({profile.name}) (dashboard)",
        resource_type="face_profile",
        resource_id=str(profile.pk),
    )
    return _detail(request, profile)


@require_POST
@permission_required("faces:write")
def face_edit(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    profile = _profile_or_404(profile_id)
    form = FaceProfileForm(request.POST, initial=_edit_initial(profile))
    if form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("recognition:face-detail", profile_id=profile.pk)
        try:
            enrolment.update_profile(profile, changes, by=_editor(request))
        except ApiError as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"{profile.employee_id} saved.")
            return redirect("recognition:face-detail", profile_id=profile.pk)
    if not request.user.has_permission("faces:read"):
        return forbidden(request, "faces:read")
    return _detail(request, profile, edit_form=form)


@require_POST
@permission_required("faces:write")
def face_images_add(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    profile = _profile_or_404(profile_id)
    form = FaceImagesForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = enrolment.add_images(profile, form.cleaned_data["images"], by=_editor(request))
        except ApiError as error:
            form.add_service_error(error)
        except FaceEngineUnavailable as exc:
            form.add_error(None, f"The face engine cannot run: {exc}")
        else:
            messages.success(request, f"{len(added)} image{pluralize(added)} added to {profile.name}.")
            return redirect("recognition:face-detail", profile_id=profile.pk)
    if not request.user.has_permission("faces:read"):
        # Without read access the page cannot be shown again: the refusal goes to the list page instead.
        messages.error(request, "; ".join(message for errors in form.errors.values() for message in errors))
        return redirect("recognition:faces")
    # The service refuses an upload whole: the profile is as it was, shown again with the refusal.
    return _detail(request, profile, add_form=form)


@require_POST
@permission_required("faces:write")
def face_image_delete(request: HttpRequest, profile_id: uuid.UUID, image_id: uuid.UUID) -> HttpResponse:
    profile = get_object_or_404(FaceProfile, pk=profile_id)
    image = get_object_or_404(FaceImage, pk=image_id, profile=profile)
    enrolment.delete_image(image, by=_editor(request))
    messages.success(request, f"Image deleted from {profile.name}; its embedding is gone with it.")
    return redirect("recognition:face-detail", profile_id=profile.pk)


@require_http_methods(["GET", "POST"])
@permission_required("faces:write")
def face_delete(request: HttpRequest, profile_id: uuid.UUID) -> HttpResponse:
    """GET asks for confirmation (saying what will be removed); POST deletes, audited by the service."""
    profile = get_object_or_404(FaceProfile, pk=profile_id)
    if request.method == "POST":
        counts = enrolment.delete_profile(profile, by=_editor(request))
        messages.success(
            request,
            f"Deleted {profile.name} ({profile.employee_id}): {counts['images']} images and "
            f"{counts['embeddings']} embeddings removed.",
        )
        return redirect("recognition:faces")
    context = {
        "profile": profile,
        "image_count": profile.images.count(),
        "embedding_count": profile.embeddings.count(),
        "detection_count": profile.detections.count(),
    }
    return render(request, "recognition/face_delete.html", context)


# --- Unknown faces: the review queue ---------------------------------------------------------------------

UNKNOWN_STATUS_BADGES = {
    UnknownClusterStatus.OPEN: "red",
    UnknownClusterStatus.IGNORED: "",
    UnknownClusterStatus.ENROLLED: "green",
}
UNKNOWNS_PER_PAGE = 24


def _unknown_rows(clusters) -> list[dict[str, Any]]:
    return [
        {
            "cluster": cluster,
            "badge": UNKNOWN_STATUS_BADGES.get(cluster.status, ""),
            "thumbnail": signed_url(cluster.crops[0].storage_key) if cluster.crops else None,
        }
        for cluster in clusters
    ]


@require_GET
@permission_required("faces:read")
def unknown_faces(request: HttpRequest) -> HttpResponse:
    """The queue: clusters of unknown faces, newest first, filtered like the API (status, camera, since)."""
    from recognition.api.filters import UnknownClusterFilterSet
    from recognition.api.unknown_views import crops_prefetch

    ordered = UnknownCluster.objects.prefetch_related(crops_prefetch()).order_by("-last_seen", "id")
    query = request.GET.copy()
    if "status" not in query:
        query["status"] = UnknownClusterStatus.OPEN  # the work still to do, unless asked otherwise
    query = {key: value for key, value in query.items() if value not in ("", "any")}
    filterset = UnknownClusterFilterSet(query, queryset=ordered)
    filtered = filterset.is_valid()
    page = Paginator(filterset.qs if filtered else ordered, UNKNOWNS_PER_PAGE).get_page(request.GET.get("page"))
    by_status = dict(UnknownCluster.objects.order_by().values_list("status").annotate(count=Count("id")))
    record_read(
        request,
        action="unknown_face.list",
        employee_id="",
        message="Viewed the unknown-face queue (dashboard)",
        resource_type="unknown_face",
    )
    context = {
        "page": page,
        "rows": _unknown_rows(page),
        "status": request.GET.get("status", UnknownClusterStatus.OPEN),
        "camera": request.GET.get("camera_id", ""),
        "statuses": UnknownClusterStatus.choices,
        "cameras": list(Camera.objects.order_by("name").values_list("id", "name")),
        "status_totals": [(label, by_status.get(value, 0)) for value, label in UnknownClusterStatus.choices],
        "filter_errors": [] if filtered else _filter_errors(filterset),
        "paging_query": paging_query(request),
        "can_write": request.user.has_permission("faces:write"),
    }
    return render(request, "recognition/unknown_faces.html", context)


def _unknown_or_404(cluster_id: uuid.UUID) -> UnknownCluster:
    from recognition.api.unknown_views import crops_prefetch

    return get_object_or_404(UnknownCluster.objects.prefetch_related(crops_prefetch()), pk=cluster_id)


@require_GET
@permission_required("faces:read")
def unknown_face_detail(request: HttpRequest, cluster_id: uuid.UUID) -> HttpResponse:
    cluster = _unknown_or_404(cluster_id)
    record_read(
        request,
        action="unknown_face.view",
        employee_id=cluster.employee_id,
        message=f"Viewed the crops of unknown face {cluster.pk} (dashboard)",
        resource_type="unknown_face",
        resource_id=str(cluster.pk),
    )
    others = (
        UnknownCluster.objects.exclude(pk=cluster.pk)
        .exclude(status=UnknownClusterStatus.ENROLLED)
        .order_by("-last_seen")[:50]
    )
    context = {
        "cluster": cluster,
        "badge": UNKNOWN_STATUS_BADGES.get(cluster.status, ""),
        "crops": [{"sighting": s, "url": signed_url(s.storage_key)} for s in cluster.crops],
        "recent": cluster.sightings.select_related("camera").order_by("-seen_at")[:PROFILE_HISTORY_SIZE],
        "others": others,
        "can_write": request.user.has_permission("faces:write"),
        "reviewable": cluster.status != UnknownClusterStatus.ENROLLED,
    }
    return render(request, "recognition/unknown_face_detail.html", context)


@require_POST
@permission_required("faces:write")
def unknown_face_action(request: HttpRequest, cluster_id: uuid.UUID, action: str) -> HttpResponse:
    """enrol (employee_id, name), assign (employee_id), merge (into), ignore, delete: through the services,
    which audit each (marked as the dashboard's)."""
    from recognition import unknown_review

    cluster = get_object_or_404(UnknownCluster, pk=cluster_id)
    by = _editor(request)
    back = redirect("recognition:unknown-face-detail", cluster_id=cluster.pk)
    try:
        if action == "enrol":
            employee_id = request.POST.get("employee_id", "").strip()
            name = request.POST.get("name", "").strip()
            if not employee_id or not name:
                messages.error(request, "Enrolling needs an employee ID and a name.")
                return back
            profile = unknown_review.enrol(cluster, {"employee_id": employee_id, "name": name}, by=by)
            messages.success(request, f"Enrolled as {profile.name} ({profile.employee_id}).")
            return redirect("recognition:face-detail", profile_id=profile.pk)
        if action == "assign":
            profile = FaceProfile.objects.filter(employee_id=request.POST.get("employee_id", "").strip()).first()
            if profile is None:
                messages.error(request, "No face profile has that employee ID.")
                return back
            unknown_review.assign(cluster, profile, by=by)
            messages.success(request, f"The crops were added to {profile.name} ({profile.employee_id}).")
            return redirect("recognition:face-detail", profile_id=profile.pk)
        if action == "merge":
            try:
                target = UnknownCluster.objects.filter(pk=uuid.UUID(request.POST.get("into", ""))).first()
            except ValueError:
                target = None
            if target is None:
                messages.error(request, "Choose the unknown face to merge into.")
                return back
            unknown_review.merge(cluster, target, by=by)
            messages.success(request, "Merged.")
            return redirect("recognition:unknown-face-detail", cluster_id=target.pk)
        if action == "ignore":
            unknown_review.ignore(cluster, by=by)
            messages.success(request, "Ignored: this face no longer raises alerts.")
            return back
        if action == "delete":
            counts = unknown_review.delete_cluster(cluster, by=by)
            messages.success(request, f"Deleted: {counts['sightings']} sightings and {counts['crops']} crops removed.")
            return redirect("recognition:unknown-faces")
    except ApiError as error:
        messages.error(request, error.text())
        return back
    raise Http404(f"No action {action}")


# --- One detection: the decision behind it, and "wrong person" -------------------------------------------


@require_GET
@permission_required("detections:read")
def detection_detail(request: HttpRequest, detection_id: uuid.UUID) -> HttpResponse:
    detection = get_object_or_404(Detection.objects.select_related("camera", "profile", "event"), pk=detection_id)
    rejections = list(detection.rejections.select_related("profile").order_by("-created_at", "id"))
    record_read(
        request,
        action="detection.view",
        employee_id=detection.person_id or (rejections[0].profile.employee_id if rejections else ""),
        message=f"Viewed detection {detection.pk} and its face crop (dashboard)",
        resource_type="detection",
        resource_id=str(detection.pk),
    )
    context = {
        "detection": detection,
        "thumbnail": signed_url(detection.thumbnail) if detection.thumbnail else None,
        "badge": BADGE_COLOURS.get(detection.status, ""),
        "decision": feedback.decision_of(detection),
        "rejections": rejections,
        "can_reject": detection.profile_id is not None and request.user.has_permission("faces:write"),
    }
    return render(request, "recognition/detection_detail.html", context)


@require_POST
@permission_required("faces:write")
def detection_reject(request: HttpRequest, detection_id: uuid.UUID) -> HttpResponse:
    """The operator says the detection is not the person it names (audited by the service)."""
    detection = get_object_or_404(Detection.objects.select_related("profile", "event"), pk=detection_id)
    name = detection.name
    try:
        feedback.reject_detection(detection, by=_editor(request), user=request.user)
    except ApiError as error:
        messages.error(request, error.text())
    except FaceEngineUnavailable as exc:
        messages.error(request, f"The face engine cannot run: {exc}")
    else:
        messages.success(request, f"Marked as not {name}: faces like this one will no longer be taken for them.")
    return redirect("recognition:detection-detail", detection_id=detection.pk)


# --- Thresholds: what they trade on the enrolled faces -----------------------------------------------------


@require_GET
@permission_required("faces:read")
def thresholds(request: HttpRequest) -> HttpResponse:
    try:
        tradeoff = recognition_thresholds.enrolled_tradeoff()
    except FaceEngineUnavailable as exc:
        messages.error(request, f"The face engine cannot run: {exc}")
        return redirect("recognition:faces")
    return render(request, "recognition/thresholds.html", {"tradeoff": tradeoff})
