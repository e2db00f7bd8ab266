"""Unknown faces become work (issue 20): unknown tracks are clustered by embedding, reviewed, and alerted on.

Clustering
----------
Each unknown track of the camera pipeline (``recognition.detections.record_track``) becomes a sighting with the
embedding the tracker already computed (no model run here). The sighting joins the nearest *open* or *ignored*
cluster whose centroid is within the cluster threshold, or starts a cluster of its own: one pgvector search
(``<=>`` on the model's partial HNSW index) and a few row writes per track, never per frame.

The threshold (``ARGUS_UNKNOWN_CLUSTER_THRESHOLD``) defaults to the face model's match threshold: a stranger seen
again is "the same person" by the very rule that names enrolled people (each model's default is calibrated in
recognition/matching.py; a looser one would merge different strangers, a tighter one split one stranger). A
centroid is the mean of its sightings' unit embeddings, so it sits nearer every member than the members sit to
each other: a new face of the same stranger is nearer the centroid than to any one earlier face. Enrolled
clusters take no sightings (their faces now match the person). Two workers that see a new stranger at the same
moment may each start a cluster: the review queue merges them.

Each cluster keeps the crops of its ``BEST_CROPS`` best sightings by quality (files of their own under
``unknown-faces/``); the other sightings keep only their embedding, time and camera. A sighting's crop file is
deleted with its row, whichever way the row goes (review, retention, erasure, a cascade): see ``_crop_gone``.

Review
------
The reviewer's actions (enrol, assign, merge, ignore, delete) are in :mod:`recognition.unknown_review`.

Recurrence
----------
An open cluster with ``ARGUS_UNKNOWN_RECUR_COUNT`` sightings within ``ARGUS_UNKNOWN_RECUR_WINDOW`` seconds
raises one alert (``cameras.alerting.raise_once``, source ``unknown-face:<cluster>``), debounced as camera alerts
are: no second alert while one is open, and none again within the window after the last one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Min
from django.db.models.signals import post_delete
from django.dispatch import receiver

from recognition.choices import UnknownClusterStatus
from recognition.engine import FaceEngine, check_dimension, get_engine
from recognition.models import Detection, UnknownCluster, UnknownSighting

logger = logging.getLogger("argus.recognition")

# Crops kept per cluster: what a reviewer looks at and what enrolment turns into images (the profile cap is 20).
BEST_CROPS = 5
JOINABLE = (UnknownClusterStatus.OPEN, UnknownClusterStatus.IGNORED)
ALERT_SOURCE = "unknown-face"


# --- Clustering (the pipeline's side) ------------------------------------------------------------------


def cluster_threshold(engine: FaceEngine | None = None) -> float:
    """The cosine distance from a centroid within which a sighting joins the cluster."""
    configured = getattr(settings, "ARGUS_UNKNOWN_CLUSTER_THRESHOLD", None)
    return float(configured) if configured not in (None, "") else (engine or get_engine()).threshold


def _unit(vector: Any) -> np.ndarray:
    values = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(values))
    return values / norm if norm else values


def nearest_sql(dimension: int, *, for_update: bool = False) -> str:
    """The nearest joinable cluster; parameters: vector, model, vector. The cast and the ``model`` condition
    repeat the partial HNSW index's (``UnknownCluster.Meta.indexes``), so the index serves it.

    ``for_update``: the whole row, locked, with the figures of its kept crops (``kept``, ``worst``): what filing a
    sighting in it needs, in the same round trip as the search."""
    cast = f"vector({int(dimension)})"
    statuses = ", ".join(f"'{status}'" for status in JOINABLE)
    table = UnknownCluster._meta.db_table
    distance = f"(centroid::{cast}) <=> %s::{cast} AS distance"
    columns, lock = f"id, {distance}", ""
    if for_update:
        crops = f"FROM {UnknownSighting._meta.db_table} s WHERE s.cluster_id = {table}.id AND s.storage_key <> ''"
        columns = f"{table}.*, {distance}, (SELECT count(*) {crops}) AS kept, (SELECT min(s.quality) {crops}) AS worst"
        lock = f" FOR UPDATE OF {table}"
    return (
        f"SELECT {columns} "
        f"FROM {table} WHERE model = %s AND status IN ({statuses}) "
        f"ORDER BY (centroid::{cast}) <=> %s::{cast} LIMIT 1{lock}"
    )


def _iterative_scan(cursor) -> None:
    # An HNSW scan hands back its ef_search nearest index entries and only then are rows filtered: the
    # status condition and, above all, dead row versions (every sighting rewrites its cluster's centroid,
    # so a busy cluster leaves many dead copies of itself right where the next face of them searches) would
    # leave it empty-handed. An iterative scan (pgvector 0.8) goes on until a live, joinable row comes.
    cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")


def nearest_cluster(embedding: np.ndarray, *, model: str, dimension: int) -> tuple[str, float] | None:
    """(cluster id, cosine distance) of the nearest open or ignored cluster of ``model``, or None."""
    literal = "[" + ",".join(repr(float(value)) for value in embedding) + "]"
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _iterative_scan(cursor)
        cursor.execute(nearest_sql(dimension), [literal, model, literal])
        row = cursor.fetchone()
    return (str(row[0]), float(row[1])) if row else None


def _nearest_locked(vector: np.ndarray, *, model: str, dimension: int) -> UnknownCluster | None:
    """The nearest joinable cluster, locked, with ``distance``, ``kept`` and ``worst`` (its crops) set on it;
    inside the caller's transaction."""
    literal = "[" + ",".join(repr(float(value)) for value in vector) + "]"
    with connection.cursor() as cursor:
        _iterative_scan(cursor)
    rows = list(UnknownCluster.objects.raw(nearest_sql(dimension, for_update=True), [literal, model, literal]))
    return rows[0] if rows else None


def _insert(instance) -> tuple[str, list[Any]]:
    """INSERT of a model instance as Django's save would write it (defaults, auto_now_add, adapters)."""
    conn = connection
    fields = list(instance._meta.concrete_fields)
    values = [field.get_db_prep_save(field.pre_save(instance, True), conn) for field in fields]
    columns = ", ".join(conn.ops.quote_name(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {conn.ops.quote_name(instance._meta.db_table)} ({columns}) VALUES ({marks})", values


def _update(instance, names: Sequence[str]) -> tuple[str, list[Any]]:
    """UPDATE of ``names`` (and auto_now fields) of a model instance, as ``save(update_fields=...)`` writes them."""
    conn = connection
    fields = [instance._meta.get_field(name) for name in names]
    values = [field.get_db_prep_save(field.pre_save(instance, False), conn) for field in fields]
    sets = ", ".join(f"{conn.ops.quote_name(field.column)} = %s" for field in fields)
    pk, table = instance._meta.pk, conn.ops.quote_name(instance._meta.db_table)
    sql = f"UPDATE {table} SET {sets} WHERE {conn.ops.quote_name(pk.column)} = %s"
    return sql, [*values, pk.get_db_prep_value(instance.pk, conn)]


def _write_both(cluster_sql: tuple[str, list[Any]], sighting: UnknownSighting) -> None:
    """The cluster's write and the sighting's insert in one statement (a data-modifying CTE): one round trip."""
    insert, values = _insert(sighting)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH cluster AS ({cluster_sql[0]}) {insert}", [*cluster_sql[1], *values])
    sighting._state.adding, sighting._state.db = False, connection.alias


def record_sighting(
    detection: Detection,
    embedding: Sequence[float] | np.ndarray,
    *,
    crop: tuple[bytes, dict[str, int]] | None = None,
    quality: float = 0.0,
    seen_at: datetime | None = None,
    engine: FaceEngine | None = None,
    new_detection: bool = False,
) -> UnknownSighting:
    """File an unknown detection's face in its cluster (joined or started) and raise the recurrence alert
    when it is due. ``crop`` is (JPEG bytes, face box within them). Called again for the same detection (the
    track found a better shot), it updates that sighting instead: a track is one sighting. ``new_detection``
    says the detection was just created (so it has no sighting yet: one query fewer).

    A new sighting costs three statements: the iterative-scan setting, the search that also locks the nearest
    cluster and reads its crops' figures, and one statement writing the cluster and the sighting (then the
    recurrence count, once the cluster has enough sightings for it to matter)."""
    engine = engine or get_engine()
    vector = check_dimension(embedding, engine.dimension)
    seen_at = seen_at or detection.timestamp
    existing = None if new_detection else UnknownSighting.objects.filter(detection=detection).first()
    if existing is not None:
        return _better_shot(existing, vector, crop, quality, seen_at)
    threshold = cluster_threshold(engine)
    stored: list[str] = []
    try:
        # No savepoint of its own: the pipeline calls it inside its own (recognition.detections._cluster_unknown),
        # and a failure here undoes that whole block anyway.
        with transaction.atomic(savepoint=False):
            # Locked by the search itself: a row another worker changed meanwhile comes back as it is once their
            # transaction ends (PostgreSQL re-reads and re-checks it), as the separate SELECT ... FOR UPDATE did.
            # The nearest cluster is locked even when too far to join: it is held for this short transaction only.
            cluster = _nearest_locked(vector, model=engine.model_name, dimension=engine.dimension)
            if cluster is not None and cluster.distance > threshold:
                cluster = None
            sighting = UnknownSighting(
                detection=detection,
                camera_id=detection.camera_id,
                seen_at=seen_at,
                embedding=vector.tolist(),
                quality=quality,
            )
            if cluster is None:
                cluster = UnknownCluster(
                    model=engine.model_name,
                    dimension=engine.dimension,
                    centroid=_unit(vector).tolist(),
                    count=1,
                    first_seen=seen_at,
                    last_seen=seen_at,
                    cameras=[detection.camera_id] if detection.camera_id else [],
                )
                write = _insert(cluster)
                keep, trim = True, False  # a new cluster has no crops yet
            else:
                _absorb(cluster, [_unit(vector)], seen_at, seen_at, [detection.camera_id])
                write = _update(cluster, ["centroid", "count", "first_seen", "last_seen", "cameras", "updated_at"])
                sighting.distance = cluster.distance
                keep, trim = _crop_decision_of(cluster.kept, cluster.worst, quality)
            sighting.cluster = cluster
            if crop is not None and keep:
                _attach_crop(sighting, crop, stored)
            _write_both(write, sighting)
            cluster._state.adding, cluster._state.db = False, connection.alias
            if crop is not None and trim:
                trim_crops(cluster)
    except BaseException:
        _delete_files(stored)
        raise
    check_recurrence(cluster, at=seen_at)
    return sighting


def _better_shot(
    sighting: UnknownSighting,
    vector: np.ndarray,
    crop: tuple[bytes, dict[str, int]] | None,
    quality: float,
    seen_at: datetime,
) -> UnknownSighting:
    stored: list[str] = []
    try:
        with transaction.atomic(savepoint=False):
            cluster = UnknownCluster.objects.select_for_update().get(pk=sighting.cluster_id)
            if cluster.count:
                shift = (_unit(vector) - _unit(sighting.embedding)) / cluster.count
                cluster.centroid = (np.asarray(cluster.centroid, dtype=np.float64) + shift).tolist()
            cluster.last_seen = max(cluster.last_seen, seen_at)
            cluster.save(update_fields=["centroid", "last_seen", "updated_at"])
            sighting.embedding = vector.tolist()
            sighting.quality = quality
            sighting.seen_at = seen_at
            sighting.save(update_fields=["embedding", "quality", "seen_at"])
            if crop is not None:
                # The better shot's crop replaces its own; one without a crop competes for a place.
                keep, trim = (True, False) if sighting.storage_key else _crop_decision(cluster, quality, sighting)
                if keep:
                    _delete_files_on_commit([_attach_crop(sighting, crop, stored)])
                    sighting.save(update_fields=["storage_key", "crop_box"])
                if trim:
                    trim_crops(cluster)
    except BaseException:
        _delete_files(stored)
        raise
    return sighting


def _absorb(
    cluster: UnknownCluster,
    units: Sequence[np.ndarray],
    first: datetime,
    last: datetime,
    cameras: Iterable[str | None],
) -> None:
    """Add sightings to the cluster's running figures: centroid (mean of unit vectors), count, times, cameras."""
    total = np.sum(units, axis=0)
    if cluster.count:
        centroid = (np.asarray(cluster.centroid, dtype=np.float64) * cluster.count + total) / (
            cluster.count + len(units)
        )
    else:
        centroid = total / len(units)
    cluster.centroid = centroid.tolist()
    cluster.count += len(units)
    cluster.first_seen = min(cluster.first_seen, first)
    cluster.last_seen = max(cluster.last_seen, last)
    cluster.cameras = sorted({*cluster.cameras, *(camera for camera in cameras if camera)})


def crop_holders(cluster: UnknownCluster):
    return cluster.sightings.exclude(storage_key="")


def _crop_decision(
    cluster: UnknownCluster, quality: float, exclude: UnknownSighting | None = None
) -> tuple[bool, bool]:
    """(keep, trim): whether a crop of ``quality`` earns a place among the cluster's BEST_CROPS (there is room,
    or it beats the worst kept one), and whether one must then give its place up. One query."""
    holders = crop_holders(cluster)
    if exclude is not None:
        holders = holders.exclude(pk=exclude.pk)
    figures = holders.aggregate(kept=Count("id"), worst=Min("quality"))
    return _crop_decision_of(figures["kept"], figures["worst"], quality)


def _crop_decision_of(kept: int, worst: float | None, quality: float) -> tuple[bool, bool]:
    if kept < BEST_CROPS:
        return True, False
    keep = quality > worst
    return keep, keep


def _attach_crop(sighting: UnknownSighting, crop: tuple[bytes, dict[str, int]], stored: list[str]) -> str:
    """Store ``crop`` as the sighting's file (the row is saved by the caller); returns the key it replaced."""
    jpeg, box = crop
    key = default_storage.save(f"unknown-faces/{sighting.seen_at:%Y/%m/%d}/{sighting.pk}.jpg", ContentFile(jpeg))
    stored.append(key)
    old = sighting.storage_key
    sighting.storage_key, sighting.crop_box = key, box
    return old


def trim_crops(cluster: UnknownCluster) -> None:
    """Drop the crops past the cluster's BEST_CROPS best (their files once committed)."""
    extra = list(crop_holders(cluster).order_by("-quality", "-seen_at")[BEST_CROPS:])
    if extra:
        UnknownSighting.objects.filter(pk__in=[s.pk for s in extra]).update(storage_key="", crop_box={})
        _delete_files_on_commit([s.storage_key for s in extra])


def withdraw_sighting(detection: Detection) -> bool:
    """The track of ``detection`` turned out to be someone enrolled: its sighting leaves its cluster (a cluster
    left empty goes). Returns whether there was one."""
    sighting = UnknownSighting.objects.filter(detection=detection).first()
    if sighting is None:
        return False
    with transaction.atomic():
        cluster = UnknownCluster.objects.select_for_update().get(pk=sighting.cluster_id)
        sighting.delete()
        if not cluster.sightings.exists():
            drop_cluster(cluster)
        else:
            recompute(cluster)
    return True


def recompute(cluster: UnknownCluster) -> UnknownCluster:
    """Centroid, count, first/last seen and cameras from the cluster's sightings (after a merge or a removal)."""
    rows = list(cluster.sightings.values_list("embedding", "seen_at", "camera_id"))
    if rows:
        cluster.centroid = np.mean([_unit(embedding) for embedding, _, _ in rows], axis=0).tolist()
        cluster.count = len(rows)
        cluster.first_seen = min(seen for _, seen, _ in rows)
        cluster.last_seen = max(seen for _, seen, _ in rows)
        cluster.cameras = sorted({camera for _, _, camera in rows if camera})
        cluster.save()
    return cluster


# --- Recurrence alert ----------------------------------------------------------------------------------


def alert_source(cluster: UnknownCluster) -> str:
    return f"{ALERT_SOURCE}:{cluster.pk}"


def check_recurrence(cluster: UnknownCluster, *, at: datetime):
    """Raise the cluster's recurrence alert when it is open, has ``ARGUS_UNKNOWN_RECUR_COUNT`` sightings in
    the ``ARGUS_UNKNOWN_RECUR_WINDOW`` seconds up to ``at``, and has not alerted within that window. Returns
    the alert raised, or None."""
    from cameras import alerting
    from cameras.choices import AlertLevel
    from cameras.models import Camera

    needed = int(getattr(settings, "ARGUS_UNKNOWN_RECUR_COUNT", 3) or 0)
    window = timedelta(seconds=int(getattr(settings, "ARGUS_UNKNOWN_RECUR_WINDOW", 3600) or 0))
    if cluster.status != UnknownClusterStatus.OPEN or needed <= 0 or not window or cluster.count < needed:
        return None
    if cluster.alerted_at is not None and cluster.alerted_at > at - window:
        return None  # debounced: one alert per window, even when an operator resolved the last one at once
    recent = cluster.sightings.filter(seen_at__gt=at - window, seen_at__lte=at)
    # Cameras sharing one stream each store the track (recognition.vision), so one passing can be several
    # sightings, all at its capture time: what recurs is the moments the stranger was seen, not their copies.
    count = recent.aggregate(moments=Count("seen_at", distinct=True))["moments"]
    if count < needed:
        return None
    latest = recent.order_by("-seen_at").values_list("camera_id", flat=True).first()
    camera = Camera.objects.filter(pk=latest).first() if latest else None
    minutes = round(window.total_seconds() / 60)
    alert, created = alerting.raise_once(
        source=alert_source(cluster),
        title=f"Unknown face seen {count} times in {minutes} min",
        description=(
            f"An unknown person (cluster {cluster.pk}) was seen {count} times within {minutes} minutes"
            + (f", last at {camera.name}" if camera else "")
            + ". Review it under Unknown faces: enrol, assign, merge or ignore."
        ),
        level=AlertLevel.MEDIUM,
        camera=camera,
        tags=["unknown-face", f"unknown-cluster:{cluster.pk}"],
        permission="faces:read",  # the alert leads to face crops
    )
    UnknownCluster.objects.filter(pk=cluster.pk).update(alerted_at=at)
    cluster.alerted_at = at
    return alert if created else None


def resolve_alert(cluster: UnknownCluster, note: str) -> None:
    from cameras import alerting

    alerting.resolve(alert_source(cluster), note=note, permission="faces:read")


def drop_cluster(cluster: UnknownCluster, note: str = "") -> None:
    """Delete a cluster row (its sightings cascade, and their crops go with them) and resolve its alert."""
    resolve_alert(cluster, note or "The unknown face was removed")
    cluster.delete()


# --- Storage, retention and erasure ---------------------------------------------------------------------


def _delete_files(keys: Iterable[str]) -> None:
    for key in keys:
        if not key:
            continue
        try:
            default_storage.delete(key)
        except Exception:  # a file left behind is logged for an operator; the rows are already gone
            logger.exception("could not delete the unknown-face crop %s", key)


def _delete_files_on_commit(keys: Iterable[str]) -> None:
    keys = [key for key in keys if key]
    if keys:
        transaction.on_commit(lambda: _delete_files(keys))


@receiver(post_delete, sender=UnknownSighting, dispatch_uid="unknown_sighting_crop_gone")
def _crop_gone(sender, instance: UnknownSighting, **kwargs) -> None:
    """A sighting's crop goes with its row, whatever deleted it (review, retention, erasure, a cascade)."""
    _delete_files_on_commit([instance.storage_key])


def clusters_expired(rows: Iterable[UnknownCluster]) -> None:
    """The retention rule's ``on_delete``: the crops went with the sightings; open alerts are resolved."""
    for cluster in rows:
        resolve_alert(cluster, "The unknown face passed its retention period")


def sightings_expired(rows: Iterable[UnknownSighting]) -> None:
    """The sightings rule's ``on_delete``: a stranger seen every day keeps a cluster, but not sightings (vectors,
    crops) older than the period; their clusters' figures are recomputed, and a cluster left empty goes."""
    for cluster in UnknownCluster.objects.filter(pk__in={row.cluster_id for row in rows}):
        if cluster.sightings.exists():
            recompute(cluster)
        else:
            drop_cluster(cluster, note="The unknown face passed its retention period")


def erase_person_clusters(sender, *, employee_id: str, profile_id: str, **kwargs) -> dict[str, int]:
    """``person_erased`` receiver: the clusters enrolled into the erased person go (sightings, vectors, crops),
    since their faces are that person's, and so do the face crops (thumbnails) of the detections those
    sightings came from (relabelled as the person at enrolment, or still unknown if a later track of theirs left
    it). The signal comes after the profile row is gone (its link on the cluster cleared), so the clusters are
    found by the profile id they keep: not by employee id, which the person may have changed since (and
    someone else may have taken)."""
    clusters = list(UnknownCluster.objects.filter(enrolled_profile_id=profile_id))
    crops = UnknownSighting.objects.filter(cluster__in=clusters).exclude(storage_key="").count()
    detections = Detection.objects.filter(unknown_sighting__cluster__in=clusters).exclude(thumbnail="")
    thumbnails = list(detections.values_list("thumbnail", flat=True))
    cleared = detections.update(thumbnail="")
    _delete_files_on_commit(thumbnails)
    for cluster in clusters:
        drop_cluster(cluster, note="The person it was enrolled as was erased")
    return {"unknown_clusters": len(clusters), "unknown_face_crops": crops, "unknown_detection_thumbnails": cleared}
