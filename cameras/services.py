"""The camera fleet: creating, changing, importing and exporting cameras, zones and sensors.

Every contract (001, 000, 003) edits cameras through these functions, so the rules live once:
stream URLs are validated and their passwords kept encrypted, a masked password written back leaves
the stored one unchanged, and a stale ``version`` is refused instead of silently overwriting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from cameras import streams
from cameras.choices import COUNTING_STATUS_ALIASES, CameraStatus, StreamType
from cameras.models import Camera, Sensor, Zone
from cameras.zones import validate_geometry, validate_sensor_config
from config import outbound, realtime
from config.api.contracts import ApiError, FieldError, Kind, utc_iso

# Fields a client may set directly (snake_case, as the serializers hand them over).
CAMERA_FIELDS = {
    "name",
    "recognition_enabled",
    "analysis_fps",
    "detect_width",
    "detect_height",
    "match_threshold",
    "location",
    "stream_type",
    "enabled",
    "fps",
    "tags",
    "ip_address",
    "detection_model",
    "ocr_models",
    "metadata",
    "width",
    "height",
    "status",
}

ID_STYLES = {"spa": ("CAM-", 2), "edge": ("cam-", 3)}


def match_threshold_ceiling() -> float:
    """The loosest match threshold a camera may set: twice the configured face model's default (beyond it the
    model takes strangers for each other freely; recognition.matching explains the defaults)."""
    from django.conf import settings

    from recognition.choices import FACE_MODELS

    return round(2 * FACE_MODELS[settings.ARGUS_FACE_MODEL].threshold, 4)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(Kind.VALIDATION, "Validation error", field_errors=[FieldError(field, message)])


def next_id(model, prefix: str, width: int) -> str:
    """The next free ``prefix + number`` id, e.g. CAM-07 or zone-012."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    numbers = [
        int(m.group(1))
        for pk in model.objects.filter(pk__startswith=prefix).values_list("pk", flat=True)
        if (m := pattern.match(pk))
    ]
    return f"{prefix}{(max(numbers) + 1) if numbers else 1:0{width}d}"


def set_stream_url(camera: Camera, url: str | None, stream_type: str) -> None:
    """Validate ``url`` and store it: the password (if any) encrypted apart, a masked one left as it was."""
    if url is None:
        return
    url = url.strip()
    if not url:
        camera.stream_url, camera.stream_password = "", ""
        return
    bare, password = streams.split_credentials(url)
    try:
        streams.validate_stream_url(stream_type, bare)
        if stream_type in (StreamType.RTSP, StreamType.HTTP):
            outbound.check_target(bare, "The stream URL")
    except ValueError as exc:
        raise _invalid("stream_url", str(exc)) from None
    if streams.is_masked_password(password):
        # The masked value written back keeps the stored password, but only for the address it was given
        # for: pointed at another scheme, host or port it would hand the password to whoever runs that.
        if camera.stream_password and not outbound.same_destination(camera.stream_url, bare):
            raise _invalid(
                "stream_url",
                "The address changed: type the password again (*** keeps it only for the same scheme, host and port)",
            )
    else:
        camera.stream_password = password or ""
    camera.stream_url = bare
    # The address follows the URL when the URL names one; a hostname leaves a set address alone.
    camera.ip_address = streams.ip_address_of(bare) or camera.ip_address


def _resolve_zone(zone_id: Any) -> Zone | None:
    if zone_id in (None, ""):
        return None
    zone = Zone.objects.filter(pk=zone_id).first()
    if zone is None:
        raise _invalid("zone_id", f"Unknown zone {zone_id}")
    return zone


def _apply(camera: Camera, data: dict[str, Any]) -> None:
    stream_type = data.get("stream_type", camera.stream_type or StreamType.RTSP)
    if stream_type not in StreamType.values:
        raise _invalid("stream_type", f"One of {', '.join(StreamType.values)}")
    for field in ("name", "location"):
        # Shown in pages, exports, logs and alerts: a control character there would forge or garble them.
        if isinstance(data.get(field), str) and not data[field].isprintable():
            raise _invalid(field, f"{field} may not hold control characters")
    for field in CAMERA_FIELDS & data.keys():
        setattr(camera, field, data[field])
    if "status" in data:
        camera.status = normalise_status(data["status"])
    if "stream_url" in data:
        set_stream_url(camera, data["stream_url"], stream_type)
    elif "stream_type" in data and camera.stream_url:
        try:
            streams.validate_stream_url(stream_type, camera.stream_url)
        except ValueError as exc:
            raise _invalid("stream_url", str(exc)) from None
    if "zone_id" in data:
        camera.zone = _resolve_zone(data["zone_id"])
    _fold_address(camera, data, stream_type)


def _fold_address(camera: Camera, data: dict[str, Any], stream_type: str) -> None:
    """000's ``port``, ``username`` and ``password`` folded into the stream URL (the password encrypted beside
    it, like one written inside the URL). A camera with no URL yet gets ``rtsp://ip_address:port``."""
    port, username, password = data.get("port"), data.get("username"), data.get("password")
    if port is None and username is None and password is None:
        return
    field = "port" if port is not None else "username" if username is not None else "password"
    url = camera.stream_url
    if not url:
        if not camera.ip_address:
            raise _invalid(field, "Needs a stream_url or an ip_address to belong to")
        if stream_type != StreamType.RTSP:
            raise _invalid(field, f"A {stream_type} camera needs a stream_url; port and user go inside it")
        url = streams.address_url(camera.ip_address, port)
    elif stream_type not in (StreamType.RTSP, StreamType.HTTP):
        raise _invalid(field, f"A {stream_type} stream has no {field}")
    url = streams.with_address(url, port=port, user=username)
    try:
        streams.validate_stream_url(stream_type, url)
    except ValueError as exc:
        raise _invalid(field, str(exc)) from None
    camera.stream_url = url
    if password is not None and not streams.is_masked_password(password):
        camera.stream_password = password


def normalise_status(value: str) -> str:
    value = COUNTING_STATUS_ALIASES.get(value, value)
    if value not in CameraStatus.values:
        raise _invalid("status", f"One of {', '.join(CameraStatus.values)} (or active/inactive)")
    return value


def create_camera(data: dict[str, Any], *, id_style: str = "spa") -> Camera:
    """Create a camera; without an ``id`` the next free one in the contract's style is used."""
    camera = Camera()
    _apply(camera, data)
    requested = data.get("id")
    for _attempt in range(5):
        camera.id = requested or next_id(Camera, *ID_STYLES[id_style])
        try:
            with transaction.atomic():
                camera.save(force_insert=True)
            return camera
        except IntegrityError:
            if requested:
                raise ApiError(Kind.CONFLICT, f"Camera {requested} already exists", code="DUPLICATE_RESOURCE") from None
    raise ApiError(Kind.CONFLICT, "Could not allocate a camera id; try again")


def update_camera(camera: Camera, data: dict[str, Any], *, expected_version: int | None = None) -> Camera:
    """Apply a change; refuse it with 409 when ``expected_version`` is not the stored one."""
    with transaction.atomic():
        current = Camera.objects.select_for_update().get(pk=camera.pk)
        if expected_version is not None and current.version != expected_version:
            raise ApiError(
                Kind.CONFLICT,
                f"Camera {camera.pk} was changed by someone else (version {current.version}, you sent "
                f"{expected_version}); reload and try again",
                code="VERSION_CONFLICT",
                details={"currentVersion": current.version},
            )
        previous_status = current.status
        _apply(current, data)
        current.version += 1
        current.save()
        if current.status != previous_status:
            announce_status(current)
    return current


def announce_status(camera: Camera) -> None:
    """Tell every open page and client that the camera's status changed, once the change is committed."""
    last_seen = utc_iso(camera.last_seen)
    camera_id, status = camera.pk, camera.status
    transaction.on_commit(lambda: realtime.camera_status.status_changed(camera_id, status, last_seen))


def delete_camera(camera: Camera) -> None:
    camera.delete()


def set_enabled(camera: Camera, enabled: bool) -> Camera:
    return update_camera(camera, {"enabled": enabled})


def set_status(camera: Camera, status: str) -> Camera:
    return update_camera(camera, {"status": normalise_status(status)})


def stream_url_for_client(camera: Camera) -> str:
    return streams.masked_url(camera.stream_url, camera.stream_password) if camera.stream_url else ""


def require_stream_url(camera: Camera) -> None:
    """Refuse to test or snapshot a camera that has no stream URL: a configuration error (409), not an outage."""
    if not camera.stream_url:
        raise ApiError(
            Kind.CONFLICT,
            f"Camera {camera.pk} has no stream URL configured; set streamUrl first",
            code="CAMERA_NOT_CONFIGURED",
        )


def stream_url_for_platform(camera: Camera) -> str:
    """The full URL with its password, for opening the stream; never put it in a response or log."""
    return streams.with_password(camera.stream_url, camera.stream_password) if camera.stream_url else ""


def stream_url_to_open(camera: Camera) -> str:
    """What ffmpeg opens for ``camera`` now (its password included): a local file confined to
    ``CAMERA_FILES_ROOT`` again, a network stream checked by the outbound policy again and an RTSP host
    pinned to the address checked. ``""`` without a stream URL; ``ValueError`` when refused."""
    url = stream_url_for_platform(camera)
    return streams.url_to_open(url, camera.stream_type) if url else ""


# --- Import and export (001 ``POST /cameras/import``, ``GET /cameras/export``) -----------------------

EXPORT_FIELDS = [
    "id",
    "name",
    "location",
    "stream_type",
    "enabled",
    "fps",
    "tags",
    "ip_address",
    "detection_model",
    "ocr_models",
    "metadata",
    "width",
    "height",
]


def export_cameras(queryset: Iterable[Camera]) -> list[dict[str, Any]]:
    """Cameras as import-ready documents; passwords masked (re-importing keeps the stored ones)."""
    documents = []
    for camera in queryset:
        document = {field: getattr(camera, field) for field in EXPORT_FIELDS}
        document["stream_url"] = stream_url_for_client(camera)
        document["zone_id"] = camera.zone_id
        documents.append(document)
    return documents


def import_cameras(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Create or update every camera in one transaction: all are validated first, none is half written."""
    if not isinstance(documents, list) or not documents:
        raise _invalid("cameras", "A non-empty list of cameras")
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            errors.append(FieldError(f"cameras.{index}", "Each camera is an object"))
            continue
        if not document.get("name"):
            errors.append(FieldError(f"cameras.{index}.name", "This field is required."))
        camera_id = document.get("id")
        if camera_id:
            if camera_id in seen:
                errors.append(FieldError(f"cameras.{index}.id", f"{camera_id} appears twice"))
            seen.add(camera_id)
        try:
            _apply(Camera.objects.filter(pk=camera_id).first() or Camera(), dict(document))
        except ApiError as error:
            errors.extend(FieldError(f"cameras.{index}.{e.field}", e.message) for e in error.field_errors)
    if errors:
        raise ApiError(Kind.VALIDATION, "Import refused: nothing was imported", field_errors=errors)
    created, updated = [], []
    with transaction.atomic():
        for document in documents:
            existing = Camera.objects.filter(pk=document.get("id")).first() if document.get("id") else None
            if existing:
                updated.append(update_camera(existing, document).pk)
            else:
                created.append(create_camera(document).pk)
    return {"created": created, "updated": updated, "total": len(created) + len(updated)}


# --- Zones and sensors (003) ----------------------------------------------------------------------


def save_zone(zone: Zone | None, data: dict[str, Any]) -> Zone:
    """Create (zone None) or update a zone; its polygon must fit the camera's frame when that is known."""
    creating = zone is None
    zone = zone or Zone()
    if "camera_id" in data:
        camera_id = data["camera_id"]
        zone.camera = Camera.objects.filter(pk=camera_id).first() if camera_id else None
        if camera_id and zone.camera is None:
            raise _invalid("camera_id", f"Unknown camera {camera_id}")
    for field in ("name", "type", "metadata"):
        if field in data:
            setattr(zone, field, data[field])
    # A zone moved to another camera must fit that camera's frame too, even when its polygon is unchanged.
    if "geometry" in data or "camera_id" in data or creating:
        camera = zone.camera
        frame = (camera.width, camera.height) if camera and camera.width and camera.height else None
        try:
            zone.geometry = validate_geometry(data.get("geometry", zone.geometry), frame)
        except ValueError as exc:
            raise _invalid("geometry", str(exc)) from None
    with transaction.atomic():
        if creating:
            zone.id = data.get("id") or next_id(Zone, "zone-", 3)
            if Zone.objects.filter(pk=zone.id).exists():
                raise ApiError(Kind.CONFLICT, f"Zone {zone.id} already exists")
            zone.save(force_insert=True)
        else:
            zone.save()
    return zone


def save_sensor(sensor: Sensor | None, data: dict[str, Any]) -> Sensor:
    creating = sensor is None
    sensor = sensor or Sensor()
    if "camera_id" in data:
        camera_id = data["camera_id"]
        sensor.camera = Camera.objects.filter(pk=camera_id).first() if camera_id else None
        if camera_id and sensor.camera is None:
            raise _invalid("camera_id", f"Unknown camera {camera_id}")
    if "zone_id" in data:
        sensor.zone = _resolve_zone(data["zone_id"])
    for field in ("name", "type", "metadata"):
        if field in data:
            setattr(sensor, field, data[field])
    # A sensor that changes type must have a config that fits the new type, even when the config is unchanged.
    if "config" in data or "type" in data or creating:
        try:
            sensor.config = validate_sensor_config(sensor.type, data.get("config", sensor.config) or {})
        except ValueError as exc:
            raise _invalid("config", str(exc)) from None
    with transaction.atomic():
        if creating:
            sensor.id = data.get("id") or next_id(Sensor, "sensor-", 3)
            if Sensor.objects.filter(pk=sensor.id).exists():
                raise ApiError(Kind.CONFLICT, f"Sensor {sensor.id} already exists")
            sensor.save(force_insert=True)
        else:
            sensor.save()
    return sensor


def record_check(
    camera: Camera,
    *,
    online: bool,
    latency_ms: float | None = None,
    fps: float | None = None,
    width: int | None = None,
    height: int | None = None,
    codec: str | None = None,
    bitrate: float | None = None,
    error: str = "",
) -> Camera:
    """Store what a probe found; camera status changes are handled by cameras.monitoring."""
    now = timezone.now()
    changes: dict[str, Any] = {"last_checked": now, "last_error": error}
    if online:
        changes.update(last_seen=now)
        for field, value in (
            ("latency", latency_ms),
            ("fps", fps),
            ("width", width),
            ("height", height),
            ("codec", codec),
            ("bitrate", bitrate),
        ):
            if value is not None:
                changes[field] = value
    Camera.objects.filter(pk=camera.pk).update(**changes)
    for field, value in changes.items():
        setattr(camera, field, value)
    count_check(camera.pk, online=online, day=now.date())
    return camera


def _check_counter(camera_id: str, day, kind: str) -> str:
    return f"camera-checks:{day.isoformat()}:{camera_id}:{kind}"


def count_check(camera_id: str, *, online: bool, day) -> None:
    """Per-day counts of checks and of checks that found the camera online, for uptime figures."""
    keys = [_check_counter(camera_id, day, "total")] + ([_check_counter(camera_id, day, "online")] if online else [])
    for key in keys:
        cache.add(key, 0, timeout=3 * 86400)
        cache.incr(key)


def uptime_percent(camera_id: str, day) -> float | None:
    """Share of today's checks that found the camera online; None before its first check."""
    return uptime_percents([camera_id], day)[camera_id]


def uptime_percents(camera_ids: list[str], day) -> dict[str, float | None]:
    """:func:`uptime_percent` of many cameras in one cache round trip (a fleet's summary)."""
    keys = [_check_counter(camera_id, day, kind) for camera_id in camera_ids for kind in ("total", "online")]
    counts = cache.get_many(keys) if keys else {}
    shares: dict[str, float | None] = {}
    for camera_id in camera_ids:
        total = counts.get(_check_counter(camera_id, day, "total"), 0)
        online = counts.get(_check_counter(camera_id, day, "online"), 0)
        shares[camera_id] = round(100 * online / total, 1) if total else None
    return shares
