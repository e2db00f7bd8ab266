"""Live detections (001 section 3): a frame from a camera goes through the detection provider, and every face
found becomes a ``Detection`` with its box, track id and thumbnail crop, logged as a ``DetectionEventLog``,
pushed on the ``detections`` WebSocket channel, and announced (``recognition.signals``) when it is an enrolled person.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cameras.models import Camera
from cameras.probing import StreamUnavailable, grab_frame
from cameras.services import stream_url_to_open
from config import metrics, realtime
from config.api.contracts import camel, utc_iso
from config.api.spa import CamelCased, transform_keys
from config.stamps import UNAVAILABLE, StampedValues
from config.storage import signed_url
from recognition.choices import DetectionEventStatus, DetectionStatus, ProfileStatus, ProviderKind
from recognition.models import Detection, DetectionEventLog, DetectionProviderConfig, FaceProfile
from recognition.providers import ProvidedFace, ProviderAnswer, ProviderError, provider_for
from recognition.signals import announce_recognition

logger = logging.getLogger("argus.recognition")

LIVE_CACHE_SECONDS = 3  # 001: "Redis cache with 3s TTL"
LIVE_DEFAULT_LIMIT = 50
LIVE_MAX_LIMIT = 200
# A face seen again within this many seconds, by the same person or overlapping the same place, keeps its track.
TRACK_WINDOW_SECONDS = 30
TRACK_MIN_IOU = 0.3
THUMBNAIL_MARGIN = 0.2


class FrameUnavailable(Exception):
    """No frame could be read from the camera."""


class UnknownCamera(LookupError):
    """Send-frame named a camera that does not exist."""


class FrameRefused(Exception):
    """Send-frame cannot run on this camera now (no stream, the provider disabled); the message says why."""


# --- Reading: the live list and one detection's 001 shape ------------------------------------------------


def detection_payload(detection: Detection) -> dict[str, Any]:
    """A detection as 001 shows it (snake_case; the renderer camelCases it)."""
    return {
        "id": str(detection.id),
        "person_id": detection.person_id or None,
        "name": detection.name or None,
        "camera_id": detection.camera_id,
        "confidence": detection.confidence,
        "timestamp": utc_iso(detection.timestamp),
        "track_id": detection.track_id or None,
        "bounding_box": detection.bounding_box,
        "thumbnail": signed_url(detection.thumbnail) if detection.thumbnail else None,
        "status": detection.status,
    }


# The live lists this process keeps, by camera and limit: (the rows, the rows as 001 renders them). Each is
# valid while the stamp ``recognition:live`` is unchanged (bumped once new detections commit, by whichever
# process stored them: web, vision worker, Celery) and for the 3 s TTL. A dashboard polls the same list from
# every open page; the stamp, read in the request's first round trip to Redis, sees every new detection at once.
_live_local: StampedValues[tuple[list[dict[str, Any]], CamelCased]] = StampedValues(
    "recognition:live", max_age=LIVE_CACHE_SECONDS
)


def _bump_live_version() -> None:
    _live_local.bump()


def live_detections(camera_id: str | None = None, limit: int = LIVE_DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """The latest detections, newest first (one indexed query), cached for 3 s.

    New detections bump a stamp that is part of the cache key, so a cached list is never older than the last
    stored detection; the TTL bounds what one entry may cost. The process keeps what it read as long (no
    Redis read for the list, nothing to unpickle). The rows are shared: read only.
    """
    return _live(camera_id, limit)[0]


def live_detections_camel_cased(camera_id: str | None = None, limit: int = LIVE_DEFAULT_LIMIT) -> CamelCased:
    """:func:`live_detections` with 001's keys, worked out once per list kept (the API's answer; read only)."""
    return _live(camera_id, limit)[1]


def _live(camera_id: str | None, limit: int) -> tuple[list[dict[str, Any]], CamelCased]:
    limit = max(1, min(int(limit), LIVE_MAX_LIMIT))
    local_key = (camera_id or "*", limit)
    stamp = _live_local.stamp()  # before the rows are read: a list kept under it is never older than it
    local = _live_local.get(local_key, stamp)
    if local is not None:
        return local
    if stamp is UNAVAILABLE:  # no Redis: the database answers
        rows = _live_rows(camera_id, limit)
        return rows, CamelCased.of(rows)
    version = stamp.decode() if isinstance(stamp, bytes) else stamp
    key = f"recognition:live:{version}:{camera_id or '*'}:{limit}"
    rows = cache.get(key)
    if rows is None:
        rows = _live_rows(camera_id, limit)
        cache.set(key, rows, timeout=LIVE_CACHE_SECONDS)
    return _live_local.put(local_key, stamp, (rows, CamelCased.of(rows)))


def _live_rows(camera_id: str | None, limit: int) -> list[dict[str, Any]]:
    queryset = Detection.objects.all()
    if camera_id:
        queryset = queryset.filter(camera_id=camera_id)
    return [detection_payload(d) for d in queryset.order_by("-timestamp", "id")[:limit]]


# --- Writing: one frame through the provider ------------------------------------------------------------


def start_event(camera: Camera, trigger: str) -> DetectionEventLog:
    """Log the start of a detection job on ``camera`` (``api`` for send-frame, ``scan`` for the loop)."""
    return DetectionEventLog.objects.create(
        camera=camera,
        camera_name=camera.name,
        timestamp=timezone.now(),
        status=DetectionEventStatus.PROCESSING,
        trigger=trigger,
    )


def camera_for_frame(camera_id: str) -> Camera:
    """The camera a send-frame job is asked for, once it can run: the camera exists (else
    :class:`UnknownCamera`), has a stream to take a frame from and the provider is enabled (else
    :class:`FrameRefused`)."""
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        raise UnknownCamera(f"Camera {camera_id} not found")
    if not camera.stream_url:
        raise FrameRefused(f"Camera {camera.pk} has no stream URL to take a frame from")
    if not DetectionProviderConfig.load().enabled:
        raise FrameRefused("The detection provider is disabled")
    return camera


def grab_camera_frame(camera: Camera, timeout: float | None = None) -> np.ndarray:
    """One decoded frame (BGR) from the camera's stream, opened with its password."""
    try:
        url = stream_url_to_open(camera)
    except ValueError as exc:
        raise FrameUnavailable(str(exc)) from None
    if not url:
        raise FrameUnavailable(f"Camera {camera.pk} has no stream URL")
    try:
        data = grab_frame(url, timeout=timeout or getattr(settings, "RECOGNITION_FRAME_TIMEOUT", 15.0))
    except StreamUnavailable as exc:
        raise FrameUnavailable(str(exc)) from exc
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise FrameUnavailable("The camera's frame could not be decoded")
    return pixels


@dataclass
class FrameResult:
    event: DetectionEventLog
    detections: list[Detection]


def process_frame(event: DetectionEventLog, pixels: np.ndarray | None = None) -> FrameResult:
    """Run one detection job: grab a frame (unless given), detect, store, publish. Failures are logged on the
    event (status ``error``) and raised, so a task can retry."""
    camera = event.camera
    started = time.perf_counter()
    try:
        if pixels is None:
            pixels = grab_camera_frame(camera)
        config = DetectionProviderConfig.load()
        if not config.enabled:
            raise ProviderError("The detection provider is disabled")
        answer = provider_for(config).detect(pixels, camera_id=camera.pk)
    except BaseException as exc:  # a time limit or an engine crash too: the job must not stay "processing"
        event.status = DetectionEventStatus.ERROR
        event.error_message = str(exc) or type(exc).__name__
        event.latency_ms = round((time.perf_counter() - started) * 1000)
        event.save(update_fields=["status", "error_message", "latency_ms"])
        raise
    detections = record_detections(camera, pixels, answer, event=event)
    event.status = DetectionEventStatus.RECEIVED
    event.error_message = ""
    event.latency_ms = round((time.perf_counter() - started) * 1000)
    event.payload = answer.payload
    event.save(update_fields=["status", "error_message", "latency_ms", "payload"])
    return FrameResult(event=event, detections=detections)


def _status_of(face: ProvidedFace) -> str:
    if face.profile is None:
        return DetectionStatus.UNKNOWN
    return DetectionStatus.AUTHORIZED if face.profile.status == ProfileStatus.ACTIVE else DetectionStatus.VISITOR


def record_detections(
    camera: Camera,
    pixels: np.ndarray,
    answer: ProviderAnswer,
    *,
    event: DetectionEventLog | None = None,
    at: datetime | None = None,
) -> list[Detection]:
    """Store the provider's faces as detections (thumbnails first, rows in one transaction), then push them
    on the WebSocket, count them and announce enrolled people (attendance subscribes) once the rows are committed."""
    at = at or timezone.now()
    rows = []
    for face in answer.faces:
        rows.append(
            Detection(
                profile=face.profile,
                person_id=face.person_id if face.profile else "",
                name=face.name if face.profile else "",
                camera=camera,
                confidence=face.confidence,
                distance=face.distance,
                timestamp=at,
                track_id=face.track_id or "",
                bounding_box=face.box,
                thumbnail=_store_thumbnail(camera, pixels, face.box, at),
                status=_status_of(face),
                source=answer.source,
                event=event,
            )
        )
    for row in rows:
        if not row.track_id:
            row.track_id = assign_track(camera.pk, row.person_id, row.bounding_box, at)
    with transaction.atomic():
        Detection.objects.bulk_create(rows)
    transaction.on_commit(lambda: _after_commit(camera, rows))
    return rows


@dataclass
class TrackVerdict:
    """What the camera analyzer decided about one face track (``recognition.vision``)."""

    track_id: str
    profile: FaceProfile | None
    distance: float | None
    margin: float | None  # top-1/top-2 distance gap: the evidence of the decision
    confidence: float  # percent: similarity of the match, or the detector's confidence for an unknown
    box: dict[str, int]
    captured_at: float  # epoch seconds: the capture time of the best shot's frame
    shots: int  # embedded shots the decision read
    threshold: float | None = None  # the match threshold the decision was made at
    # The track's embedding (its best embedded shot) and the stored shot's quality score: an unknown track
    # joins its unknown-face cluster with them (recognition.unknowns), without running the model again.
    embedding: np.ndarray | None = None
    quality: float = 0.0


# Detections of the camera analyzer's tracks have ids derived from (camera, track id): a write retried after
# an unknown outcome (the commit went through, its answer was lost) finds its row instead of adding another.
TRACK_DETECTIONS = uuid.UUID("5f0b8a53-6f1c-4c55-9a8e-2d7c1e0b7a41")


def track_detection_id(camera_id: str, track_id: str) -> uuid.UUID:
    """The id of the detection of track ``track_id`` on camera ``camera_id`` (the same on every attempt)."""
    return uuid.uuid5(TRACK_DETECTIONS, f"{camera_id}/{track_id}")


def record_track(
    camera: Camera,
    pixels: np.ndarray | None,
    verdict: TrackVerdict,
    existing: Detection | None = None,
    *,
    crop: tuple[bytes, dict[str, int]] | None = None,
    announce: bool = True,
) -> tuple[Detection, bool]:
    """Store a track's detection: created at its first decision, updated (best shot, thumbnail, timestamp)
    when a better one comes. Pushed on the WebSocket like any detection once committed; the person is
    announced (attendance) only when the track first becomes theirs; an unknown track is filed in its
    unknown-face cluster (``recognition.unknowns``). Returns (detection, announced).

    The face comes as the frame (``pixels``) or as its thumbnail already cut (``crop``, from
    :func:`face_crop`: what a caller keeps of a track whose write waits for the database). Idempotent per
    (camera, track id): without ``existing`` the track's row is looked up by its id
    (:func:`track_detection_id`), so a retry after an unknown outcome updates the row it finds, and changes
    nothing when that row already holds this verdict. With ``announce`` off nobody is told here: the caller
    announces (``recognition.signals.announce_recognition``), when the second value says the track became
    this person's with this write, and may retry that on its own."""
    at = datetime.fromtimestamp(verdict.captured_at, tz=UTC)
    profile = verdict.profile
    detection_id = track_detection_id(camera.pk, verdict.track_id)
    if existing is None:
        existing = Detection.objects.filter(pk=detection_id).first()
        if existing is not None and _holds(existing, verdict, at):
            return existing, False  # an earlier attempt was committed: nothing more to write
    previous_person = existing.person_id if existing is not None else None
    detection = existing or Detection(
        id=detection_id, camera=camera, track_id=verdict.track_id, source=ProviderKind.BUILTIN
    )
    old_thumbnail = detection.thumbnail if existing is not None else ""
    detection.profile = profile
    detection.person_id = profile.employee_id if profile else ""
    detection.name = profile.name if profile else ""
    detection.confidence = round(verdict.confidence, 2)
    detection.distance = verdict.distance
    detection.timestamp = at
    detection.bounding_box = verdict.box
    if crop is None and pixels is not None:
        crop = face_crop(pixels, verdict.box)
    detection.thumbnail = _save_track_thumbnail(camera, detection_id, crop[0], verdict.captured_at) if crop else ""
    detection.status = _status_of_profile(profile)
    event = DetectionEventLog(
        camera=camera,
        camera_name=camera.name,
        timestamp=at,
        status=DetectionEventStatus.RECEIVED,
        trigger="track",
        payload={
            "trackId": verdict.track_id,
            "personId": detection.person_id or None,
            "distance": verdict.distance,
            "margin": verdict.margin,
            "threshold": verdict.threshold,
            "shots": verdict.shots,
        },
    )
    with transaction.atomic():
        event.save()
        detection.event = event
        detection.save()
    if old_thumbnail and old_thumbnail != detection.thumbnail:
        transaction.on_commit(lambda: default_storage.delete(old_thumbnail))
    _cluster_unknown(detection, verdict, crop, at, existing is not None)
    became = profile is not None and previous_person != detection.person_id
    transaction.on_commit(
        lambda: _after_commit(camera, [detection], announce=announce and became, counted=existing is None)
    )
    return detection, became


def _holds(detection: Detection, verdict: TrackVerdict, at: datetime) -> bool:
    """Whether ``detection`` already holds ``verdict`` (same shot, same person)."""
    profile_id = verdict.profile.pk if verdict.profile is not None else None
    return detection.timestamp == at and detection.profile_id == profile_id


def _cluster_unknown(
    detection: Detection,
    verdict: TrackVerdict,
    crop: tuple[bytes, dict[str, int]] | None,
    at: datetime,
    updated: bool,
) -> None:
    """An unknown track joins (or starts) its unknown-face cluster; a track that turned out to be someone
    enrolled leaves it. A failure here is logged and undoes the clustering only: the detection is what the
    pipeline must never lose."""
    from recognition import unknowns

    joins = detection.profile_id is None and verdict.embedding is not None
    if not joins and not (detection.profile_id is not None and updated):
        return  # a recognised track's first detection: nothing to file or withdraw, no savepoint to pay for
    try:
        with transaction.atomic():
            if joins:
                unknowns.record_sighting(
                    detection,
                    verdict.embedding,
                    crop=crop,
                    quality=verdict.quality,
                    seen_at=at,
                    new_detection=not updated,
                )
            elif detection.profile_id is not None and updated:
                unknowns.withdraw_sighting(detection)
    except Exception:
        logger.exception("could not cluster the unknown face of detection %s", detection.pk)


def _status_of_profile(profile: FaceProfile | None) -> str:
    if profile is None:
        return DetectionStatus.UNKNOWN
    return DetectionStatus.AUTHORIZED if profile.status == ProfileStatus.ACTIVE else DetectionStatus.VISITOR


def _after_commit(camera: Camera, rows: list[Detection], *, announce: bool = True, counted: bool = True) -> None:
    try:
        _bump_live_version()
    except Exception:  # Redis away: the cached lists lapse by themselves within seconds; the rows are stored
        logger.warning("could not bump the live detections version", exc_info=True)
    for row in rows:
        if counted:
            metrics.count_recognition("recognized" if row.profile_id else "unknown")
        # The WebSocket skips the API renderer: keys are camelCased here, as 001's messages show them.
        realtime.detections.detection(
            camera.pk, transform_keys({**detection_payload(row), "camera_name": camera.name}, camel)
        )
        if row.profile_id and announce:
            announce_recognition(row, camera)


def face_crop(pixels: np.ndarray, box: dict[str, int]) -> tuple[bytes, dict[str, int]] | None:
    """The face in ``box`` with a margin around it, as JPEG bytes, and where the face is in that crop
    ({top, left, width, height}); None when the box leaves nothing to crop."""
    height, width = pixels.shape[:2]
    margin_x, margin_y = int(box["width"] * THUMBNAIL_MARGIN), int(box["height"] * THUMBNAIL_MARGIN)
    x0, y0 = max(0, box["left"] - margin_x), max(0, box["top"] - margin_y)
    x1 = min(width, box["left"] + box["width"] + margin_x)
    y1 = min(height, box["top"] + box["height"] + margin_y)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    ok, jpeg = cv2.imencode(".jpg", pixels[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        return None
    left, top = box["left"] - x0, box["top"] - y0
    inside = {
        "top": max(0, top),
        "left": max(0, left),
        "width": min(x1 - x0, left + box["width"]) - max(0, left),
        "height": min(y1 - y0, top + box["height"]) - max(0, top),
    }
    return jpeg.tobytes(), inside


def _store_thumbnail(camera: Camera, pixels: np.ndarray, box: dict[str, int], at: datetime) -> str:
    crop = face_crop(pixels, box)
    return _save_thumbnail(camera, crop[0], at) if crop else ""


def _save_thumbnail(camera: Camera, jpeg: bytes, at: datetime) -> str:
    key = f"detections/{camera.pk}/{at:%Y/%m/%d}/{uuid.uuid4().hex}.jpg"
    return default_storage.save(key, ContentFile(jpeg))


def _save_track_thumbnail(camera: Camera, detection_id: uuid.UUID, jpeg: bytes, captured_at: float) -> str:
    """A track's thumbnail under a name of its detection and shot: a retried write reuses the file an earlier
    attempt left rather than adding another."""
    at = datetime.fromtimestamp(captured_at, tz=UTC)
    key = f"detections/{camera.pk}/{at:%Y/%m/%d}/{detection_id.hex}-{round(captured_at * 1000)}.jpg"
    if default_storage.exists(key):
        return key
    return default_storage.save(key, ContentFile(jpeg))


def _iou(a: dict[str, int], b: dict[str, int]) -> float:
    ax1, ay1 = a["left"] + a["width"], a["top"] + a["height"]
    bx1, by1 = b["left"] + b["width"], b["top"] + b["height"]
    iw = max(0, min(ax1, bx1) - max(a["left"], b["left"]))
    ih = max(0, min(ay1, by1) - max(a["top"], b["top"]))
    inter = iw * ih
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def assign_track(camera_id: str, person_id: str, box: dict[str, int], at: datetime) -> str:
    """A track id for a face: the track of the same person, or of an overlapping face, seen on this camera
    within the window; a new one otherwise. Tracks live in the shared cache, so every worker agrees."""
    key = f"recognition:tracks:{camera_id}"
    horizon = (at - timedelta(seconds=TRACK_WINDOW_SECONDS)).timestamp()
    tracks = [t for t in (cache.get(key) or []) if t["at"] >= horizon]
    found = None
    for track in tracks:
        if person_id and track["person_id"] == person_id:
            found = track
            break
    if found is None:
        for track in tracks:
            if (not person_id or not track["person_id"]) and _iou(track["box"], box) >= TRACK_MIN_IOU:
                found = track
                break
    if found is None:
        found = {"id": f"TRACK-{uuid.uuid4().hex[:12]}", "person_id": person_id, "box": box, "at": 0}
        tracks.append(found)
    found.update(box=box, at=at.timestamp(), person_id=person_id or found["person_id"])
    cache.set(key, tracks[-100:], timeout=TRACK_WINDOW_SECONDS * 2)
    return found["id"]


# --- Provider health (001 test_detection_provider, every 5 minutes) -------------------------------------


def check_provider() -> dict[str, Any]:
    """Ask the configured provider whether it is healthy, store the answer on the config (status, heartbeat,
    a running average latency), and raise an alert while it is degraded or offline."""
    from cameras import alerting

    config = DetectionProviderConfig.load()
    report = provider_for(config).health()
    update = {"status": report.status, "last_error": "" if report.status == "connected" else report.message}
    if report.status != "offline":
        update["last_heartbeat"] = timezone.now()
        previous = config.average_latency_ms
        update["average_latency_ms"] = (
            report.latency_ms if not previous else round(0.7 * previous + 0.3 * report.latency_ms)
        )
    DetectionProviderConfig.objects.filter(pk=config.pk).update(**update)
    if report.status == "connected":
        alerting.resolve("detection-provider", note=report.message)
    else:
        alerting.raise_once(
            source="detection-provider",
            title=f"Detection provider {report.status}",
            description=f"{config.provider_name}: {report.message}",
            level="high" if report.status == "offline" else "medium",
            tags=["detection-provider"],
        )
    return {"status": report.status, "latency_ms": report.latency_ms, "message": report.message}
