"""What a reviewer does with an unknown face (issue 20): :func:`enrol` (a new person from the cluster's best
crops), :func:`assign` (the crops added to an existing person), :func:`merge` (one stranger split in two),
:func:`ignore` (it stays a cluster, so it stays one entry, but never alerts) and :func:`delete_cluster`; each
audited as ``unknown_face.*``, each refused before anything is written when the cluster cannot take it.
Clustering, recurrence alerts and storage are :mod:`recognition.unknowns`."""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction

from config.api.contracts import ApiError, FieldError, Kind
from recognition import enrolment
from recognition.choices import UnknownClusterStatus
from recognition.engine import Box, DetectedFace, FaceEngine, get_engine
from recognition.images import UploadedImage
from recognition.models import Detection, FaceProfile, UnknownCluster, UnknownSighting
from recognition.unknowns import BEST_CROPS, crop_holders, drop_cluster, recompute, resolve_alert, trim_crops

logger = logging.getLogger("argus.recognition")


def _audit(by: enrolment.Editor, action: str, cluster: UnknownCluster, message: str, **context: Any) -> None:
    by.audit(action, "unknown_face", str(cluster.pk), message, employee_id=cluster.employee_id, **context)


def best_sightings(cluster: UnknownCluster, limit: int = BEST_CROPS) -> list[UnknownSighting]:
    """The sightings whose crops the cluster keeps, best first."""
    return list(crop_holders(cluster).order_by("-quality", "-seen_at")[:limit])


def _refuse_unless_reviewable(cluster: UnknownCluster) -> None:
    if cluster.status == UnknownClusterStatus.ENROLLED:
        raise ApiError(
            Kind.CONFLICT,
            f"Unknown face {cluster.pk} is already enrolled as {cluster.employee_id or 'a deleted person'}",
            code="ALREADY_ENROLLED",
        )


def _prepared_crops(cluster: UnknownCluster, engine: FaceEngine, limit: int) -> list[enrolment.PreparedImage]:
    """The cluster's best crops as enrolment images, with the embeddings the pipeline computed."""
    if cluster.model != engine.model_name:
        raise ApiError(
            Kind.CONFLICT,
            f"Unknown face {cluster.pk} was embedded with {cluster.model}; the face model is now {engine.model_name}",
            code="MODEL_MISMATCH",
        )
    prepared = []
    for index, sighting in enumerate(best_sightings(cluster, limit)):
        try:
            with default_storage.open(sighting.storage_key, "rb") as handle:
                data = handle.read()
        except OSError:
            logger.warning("crop %s of unknown face %s is missing", sighting.storage_key, cluster.pk)
            continue
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            continue
        box = sighting.crop_box or {"top": 0, "left": 0, "width": pixels.shape[1], "height": pixels.shape[0]}
        upload = UploadedImage(
            field=f"crops.{index}",
            filename=f"{sighting.pk}.jpg",
            data=data,
            content_type="image/jpeg",
            pixels=pixels,
        )
        face = DetectedFace(Box(box["left"], box["top"], box["width"], box["height"]), confidence=1.0)
        quality = {"score": sighting.quality, "source": "unknown_face", "sighting_id": str(sighting.pk)}
        prepared.append(
            enrolment.PreparedImage(upload, face, np.asarray(sighting.embedding, dtype=np.float32), quality)
        )
    if not prepared:
        raise ApiError(Kind.VALIDATION, f"Unknown face {cluster.pk} has no face crop left", code="NO_CROPS")
    return prepared


def _mark_enrolled(cluster: UnknownCluster, profile: FaceProfile) -> int:
    """The cluster becomes ``enrolled`` as ``profile`` and the unknown detections of its sightings become
    theirs (person, name, profile, status as a recognised detection); inside the caller's transaction. Returns
    how many detections were relabelled. Attendance is not back-filled: recognition announces a person only as
    a track is recognised (``recognition.signals``), and the attendance service offers no way to add past
    sightings to days already computed, so those earlier visits stay out of presence and day logs."""
    from recognition.detections import _status_of_profile

    cluster.status = UnknownClusterStatus.ENROLLED
    cluster.profile = profile
    cluster.enrolled_profile_id = profile.pk
    cluster.employee_id = profile.employee_id
    cluster.save(update_fields=["status", "profile", "enrolled_profile_id", "employee_id", "updated_at"])
    relabelled = Detection.objects.filter(unknown_sighting__cluster=cluster, profile__isnull=True).update(
        profile=profile,
        person_id=profile.employee_id,
        name=profile.name,
        status=_status_of_profile(profile),
    )
    resolve_alert(cluster, f"Enrolled as {profile.employee_id} ({profile.name})")
    return relabelled


def enrol(
    cluster: UnknownCluster, data: dict[str, Any], *, by: enrolment.Editor, engine: FaceEngine | None = None
) -> FaceProfile:
    """A new person (``employee_id``, ``name``, optional ``department``/``status``/``notes``) whose images and
    embeddings are the cluster's best crops; the cluster becomes ``enrolled``. Refuses an enrolled cluster
    (409 ALREADY_ENROLLED) and a taken employee id (409 DUPLICATE_EMPLOYEE_ID) before writing anything."""
    engine = engine or get_engine()
    _refuse_unless_reviewable(cluster)
    if error := enrolment._employee_id_taken(data["employee_id"]):
        raise error
    prepared = _prepared_crops(cluster, engine, BEST_CROPS)
    with transaction.atomic():
        profile = enrolment.create_prepared_profile(data, prepared, engine=engine)
        relabelled = _mark_enrolled(cluster, profile)
        _audit(
            by,
            "unknown_face.enrol",
            cluster,
            f"Enrolled unknown face {cluster.pk} as {profile.employee_id} ({profile.name}) with {len(prepared)} crops",
            profile_id=str(profile.pk),
            images=len(prepared),
            detections=relabelled,
        )
    return profile


def assign(
    cluster: UnknownCluster, profile: FaceProfile, *, by: enrolment.Editor, engine: FaceEngine | None = None
) -> FaceProfile:
    """Add the cluster's best crops to an existing person (as many as their image cap leaves room for); the
    cluster becomes ``enrolled`` as them."""
    engine = engine or get_engine()
    _refuse_unless_reviewable(cluster)
    room = enrolment.MAX_IMAGES_PER_PROFILE - profile.images.count()
    if room <= 0:
        message = f"{profile.employee_id} already has {enrolment.MAX_IMAGES_PER_PROFILE} images"
        raise ApiError(Kind.VALIDATION, message, code="TOO_MANY_IMAGES", field_errors=[FieldError("profile", message)])
    prepared = _prepared_crops(cluster, engine, min(room, BEST_CROPS))
    with transaction.atomic():
        images = enrolment.add_prepared_images(profile, prepared, engine=engine)
        relabelled = _mark_enrolled(cluster, profile)
        _audit(
            by,
            "unknown_face.assign",
            cluster,
            f"Added unknown face {cluster.pk} to {profile.employee_id} ({profile.name}): {len(images)} crops",
            profile_id=str(profile.pk),
            images=len(images),
            detections=relabelled,
        )
    return profile


def merge(source: UnknownCluster, target: UnknownCluster, *, by: enrolment.Editor) -> UnknownCluster:
    """Move every sighting of ``source`` into ``target`` (same stranger, split in two) and delete ``source``.
    Target keeps its status; its figures are recomputed and it keeps the best crops of both."""
    if source.pk == target.pk:
        message = "An unknown face cannot be merged into itself"
        raise ApiError(Kind.VALIDATION, message, field_errors=[FieldError("into", message)])
    for cluster in (source, target):
        _refuse_unless_reviewable(cluster)
    if source.model != target.model:
        message = f"Unknown faces of different face models ({source.model}, {target.model}) cannot be merged"
        raise ApiError(Kind.CONFLICT, message, code="MODEL_MISMATCH")
    with transaction.atomic():
        # Both rows locked in one order (by id) for every merge, so two merges cannot deadlock.
        list(UnknownCluster.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
        moved = UnknownSighting.objects.filter(cluster=source).update(cluster=target)
        recompute(target)
        trim_crops(target)
        if source.alerted_at and (target.alerted_at is None or source.alerted_at > target.alerted_at):
            target.alerted_at = source.alerted_at
            target.save(update_fields=["alerted_at", "updated_at"])
        _audit(
            by,
            "unknown_face.merge",
            target,
            f"Merged unknown face {source.pk} ({moved} sightings) into {target.pk}",
            merged_id=str(source.pk),
            sightings=moved,
        )
        drop_cluster(source, note=f"Merged into unknown face {target.pk}")
    return target


def ignore(cluster: UnknownCluster, *, by: enrolment.Editor) -> UnknownCluster:
    """Stop alerting on the cluster (it keeps taking sightings, so the stranger stays one entry)."""
    _refuse_unless_reviewable(cluster)
    with transaction.atomic():
        cluster.status = UnknownClusterStatus.IGNORED
        cluster.save(update_fields=["status", "updated_at"])
        resolve_alert(cluster, "Ignored by an operator")
        _audit(by, "unknown_face.ignore", cluster, f"Ignored unknown face {cluster.pk}")
    return cluster


def delete_cluster(cluster: UnknownCluster, *, by: enrolment.Editor) -> dict[str, int]:
    """Delete the cluster with its sightings: vectors from the database now, crop files once committed."""
    with transaction.atomic():
        counts = {"sightings": cluster.sightings.count(), "crops": crop_holders(cluster).count()}
        _audit(
            by,
            "unknown_face.delete",
            cluster,
            f"Deleted unknown face {cluster.pk}: {counts['sightings']} sightings, {counts['crops']} crops",
            **counts,
        )
        drop_cluster(cluster, note="Deleted by an operator")
    return counts
