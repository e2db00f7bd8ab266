"""Unknown tracks form clusters (recognition.unknowns): real faces of the shared photographs seen through the
pipeline's record_track; recurrence alerts; retention; what deleting a sighting does to its crop."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cameras.models import Alert
from config import retention
from recognition import unknown_review, unknowns
from recognition.choices import UnknownClusterStatus
from recognition.engine import cosine_distance
from recognition.models import Detection, UnknownCluster, UnknownSighting
from tests.factories import CameraFactory, FaceProfileFactory
from tests.recognition.conftest import media_files
from tests.recognition.unknown_faces import START, face_of, minutes, see

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def faces(engine) -> dict:
    """img13/img14 are one person, img16/img17 another, img26 a third (DESIGN.md), none enrolled here."""
    return {name: face_of(engine, f"{name}.jpg") for name in ("img13", "img14", "img16", "img26")}


@pytest.fixture
def recur(settings):
    settings.ARGUS_UNKNOWN_RECUR_COUNT = 3
    settings.ARGUS_UNKNOWN_RECUR_WINDOW = 3600
    return settings


def test_the_same_stranger_seen_twice_is_one_cluster(faces, django_capture_on_commit_callbacks):
    camera, other_camera = CameraFactory(), CameraFactory()

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(other_camera, faces["img14"], START + minutes(5))

    [cluster] = UnknownCluster.objects.all()
    assert cluster.count == 2 and cluster.status == UnknownClusterStatus.OPEN
    assert cluster.first_seen == START and cluster.last_seen == START + minutes(5)
    assert cluster.cameras == sorted([camera.pk, other_camera.pk])
    assert len({s.detection_id for s in cluster.sightings.all()}) == 2


def test_two_strangers_are_two_clusters(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img26"], START + minutes(1))
        see(camera, faces["img16"], START + minutes(2))

    assert UnknownCluster.objects.count() == 3
    assert sorted(UnknownCluster.objects.values_list("count", flat=True)) == [1, 1, 1]


def test_the_centroid_is_the_mean_of_the_sightings_unit_embeddings(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img14"], START + minutes(1))

    cluster = UnknownCluster.objects.get()
    a, b = (f.embedding / (f.embedding**2).sum() ** 0.5 for f in (faces["img13"], faces["img14"]))
    assert cosine_distance(cluster.centroid, (a + b) / 2) < 1e-6
    # Nearer each member than the members are to each other: the next face of them joins it more easily.
    assert cosine_distance(cluster.centroid, a) < cosine_distance(a, b)


def test_a_better_shot_of_the_same_track_updates_its_sighting(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = see(camera, faces["img13"], START, quality=0.4)
    old_crop = UnknownSighting.objects.get().storage_key

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START + minutes(0.1), quality=0.7, existing=first)

    sighting = UnknownSighting.objects.get()
    assert sighting.quality == 0.7 and UnknownCluster.objects.get().count == 1
    assert sighting.storage_key != old_crop and default_storage.exists(sighting.storage_key)
    assert not default_storage.exists(old_crop)


def test_a_track_that_turns_out_to_be_someone_enrolled_leaves_its_cluster(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        unknown = see(camera, faces["img13"], START)
    crop = UnknownSighting.objects.get().storage_key

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START + minutes(0.1), existing=unknown, profile=FaceProfileFactory())

    assert not UnknownSighting.objects.exists() and not UnknownCluster.objects.exists()
    assert not default_storage.exists(crop)


def test_a_cluster_keeps_the_crops_of_its_best_sightings_only(faces, settings, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    qualities = [0.3, 0.9, 0.5, 0.2, 0.8, 0.6, 0.7]
    with django_capture_on_commit_callbacks(execute=True):
        for index, quality in enumerate(qualities):
            see(camera, faces["img13" if index % 2 else "img14"], START + minutes(index), quality=quality)

    cluster = UnknownCluster.objects.get()
    kept = [s.quality for s in unknown_review.best_sightings(cluster, limit=99)]
    assert kept == sorted(qualities, reverse=True)[: unknowns.BEST_CROPS]
    assert all(default_storage.exists(s.storage_key) for s in unknown_review.best_sightings(cluster))
    crops = [p for p in media_files(settings) if p.relative_to(settings.MEDIA_ROOT).parts[0] == "unknown-faces"]
    assert len(crops) == unknowns.BEST_CROPS and cluster.sightings.count() == len(qualities)


def test_an_ignored_cluster_still_takes_its_strangers_sightings(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
    UnknownCluster.objects.update(status=UnknownClusterStatus.IGNORED)

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img14"], START + minutes(1))

    [cluster] = UnknownCluster.objects.all()
    assert cluster.count == 2 and cluster.status == UnknownClusterStatus.IGNORED


def test_an_enrolled_cluster_takes_no_more_sightings(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
    UnknownCluster.objects.update(status=UnknownClusterStatus.ENROLLED)

    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img14"], START + minutes(1))

    assert sorted(UnknownCluster.objects.values_list("status", flat=True)) == ["enrolled", "open"]


def test_clustering_an_unknown_track_costs_a_few_statements_over_a_recognised_one(
    faces, django_capture_on_commit_callbacks
):
    """Joining a cluster: the clustering's savepoint, the iterative-scan setting, the search that locks the
    nearest cluster and reads its crops' figures, one statement writing cluster and sighting, the savepoint's
    release. Counted, not timed (bench/unknown_clusters.py times it)."""
    camera, someone = CameraFactory(), FaceProfileFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
    with CaptureQueriesContext(connection) as recognised:
        see(camera, faces["img14"], START + minutes(1), profile=someone)
    with CaptureQueriesContext(connection) as unknown:
        see(camera, faces["img14"], START + minutes(2))

    assert UnknownCluster.objects.get().count == 2
    clustering = [query["sql"][:60] for query in unknown.captured_queries[len(recognised.captured_queries) :]]
    assert len(unknown.captured_queries) - len(recognised.captured_queries) == 5, clustering


def test_the_nearest_cluster_search_uses_the_models_hnsw_index(faces):
    engine_dimension = len(faces["img13"].embedding)
    literal = "[" + ",".join(str(float(v)) for v in faces["img13"].embedding) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for locked in (False, True):  # the search alone, and the pipeline's: the row locked, its crops' figures
            cursor.execute(
                "EXPLAIN " + unknowns.nearest_sql(engine_dimension, for_update=locked), [literal, "Dlib", literal]
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "unk_cluster_dlib_hnsw" in plan, plan


# --- Recurrence alert -------------------------------------------------------------------------------------


def _unknown_alerts():
    return Alert.objects.filter(source__startswith=f"{unknowns.ALERT_SOURCE}:")


def test_a_stranger_seen_three_times_within_the_hour_raises_one_alert(faces, recur, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img14"], START + minutes(20))
        assert not _unknown_alerts().exists()
        see(camera, faces["img13"], START + minutes(40))
        see(camera, faces["img14"], START + minutes(50))

    [alert] = _unknown_alerts()
    cluster = UnknownCluster.objects.get()
    assert alert.source == unknowns.alert_source(cluster) and alert.camera_id == camera.pk
    assert "3 times" in alert.title and alert.resolved_at is None


def test_a_stream_shared_by_two_cameras_counts_each_passing_once(faces, recur, django_capture_on_commit_callbacks):
    """Cameras sharing one stream each store the stream's tracks (recognition.vision.FaceAnalyzer._store records
    the track's verdict on every camera): two passings seen by both are two sightings towards the alert, not four."""
    door, door_wide = CameraFactory(), CameraFactory()

    def passing(face, at):
        track = f"TRACK-SHARED-{at:%H%M}"
        for camera in (door, door_wide):
            see(camera, face, at, track_id=track)

    with django_capture_on_commit_callbacks(execute=True):
        passing(faces["img13"], START)
        passing(faces["img14"], START + minutes(20))
        assert not _unknown_alerts().exists()
        passing(faces["img13"], START + minutes(40))

    [alert] = _unknown_alerts()
    assert "3 times" in alert.title
    assert UnknownCluster.objects.get().cameras == sorted([door.pk, door_wide.pk])


def test_sightings_spread_beyond_the_window_raise_no_alert(faces, recur, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for hour in range(4):
            see(camera, faces["img13" if hour % 2 else "img14"], START + minutes(61 * hour))

    assert UnknownCluster.objects.get().count == 4 and not _unknown_alerts().exists()


def test_a_resolved_alert_is_not_raised_again_within_the_window(faces, recur, django_capture_on_commit_callbacks):
    from cameras import alerting

    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(3):
            see(camera, faces["img13"], START + minutes(index))
        alerting.resolve(unknowns.alert_source(UnknownCluster.objects.get()))
        see(camera, faces["img14"], START + minutes(10))
        assert _unknown_alerts().count() == 1
        # A window later the stranger is back three times: a new alert.
        for index in range(3):
            see(camera, faces["img13"], START + minutes(70 + index))

    assert _unknown_alerts().count() == 2


def test_an_ignored_cluster_never_alerts(faces, recur, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
    UnknownCluster.objects.update(status=UnknownClusterStatus.IGNORED)

    with django_capture_on_commit_callbacks(execute=True):
        for index in range(1, 6):
            see(camera, faces["img14"], START + minutes(index))

    assert UnknownCluster.objects.get().count == 6 and not _unknown_alerts().exists()


# --- Retention ----------------------------------------------------------------------------------------------


def test_the_daily_cleanup_deletes_clusters_not_seen_for_30_days_with_their_crops(
    faces, settings, django_capture_on_commit_callbacks
):
    assert settings.ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS == 30
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img26"], START + minutes(60 * 24 * 25))
    old = UnknownCluster.objects.get(last_seen=START)
    old_crops = list(old.sightings.values_list("storage_key", flat=True))
    assert old_crops and all(default_storage.exists(key) for key in old_crops)

    with django_capture_on_commit_callbacks(execute=True):
        report = retention.run_cleanup(now=START + minutes(60 * 24 * 31))

    assert report["unknown_face_clusters"] == 1
    assert list(UnknownCluster.objects.values_list("last_seen", flat=True)) == [START + minutes(60 * 24 * 25)]
    assert not UnknownSighting.objects.filter(cluster_id=old.pk).exists()
    assert not any(default_storage.exists(key) for key in old_crops)
    assert Detection.objects.count() == 2  # the detections have their own period (90 days)


def test_the_retention_period_is_a_setting(faces, settings, django_capture_on_commit_callbacks):
    settings.ARGUS_UNKNOWN_CLUSTER_RETENTION_DAYS = 60
    with django_capture_on_commit_callbacks(execute=True):
        see(CameraFactory(), faces["img13"], START)

    retention.run_cleanup(now=START + minutes(60 * 24 * 31))

    assert UnknownCluster.objects.count() == 1


def test_a_cluster_still_seen_loses_its_sightings_older_than_the_period(faces, django_capture_on_commit_callbacks):
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img14"], START + minutes(60 * 24 * 29))
    old = UnknownSighting.objects.get(seen_at=START)
    assert old.storage_key and default_storage.exists(old.storage_key)

    with django_capture_on_commit_callbacks(execute=True):
        report = retention.run_cleanup(now=START + minutes(60 * 24 * 31))

    assert report["unknown_face_clusters"] == 0 and report["unknown_face_sightings"] == 1
    cluster = UnknownCluster.objects.get()
    assert cluster.count == 1 and cluster.first_seen == START + minutes(60 * 24 * 29)
    assert not default_storage.exists(old.storage_key)
    assert cosine_distance(cluster.centroid, faces["img14"].embedding) < 1e-6


def test_a_face_that_cannot_be_clustered_still_leaves_its_detection(faces, django_capture_on_commit_callbacks):
    wrong = faces["img13"].__class__("img13", faces["img13"].pixels, faces["img13"].box, np.zeros(7))

    with django_capture_on_commit_callbacks(execute=True):
        detection = see(CameraFactory(), wrong, START)

    assert Detection.objects.filter(pk=detection.pk, status="unknown").exists()
    assert not UnknownCluster.objects.exists() and not UnknownSighting.objects.exists()


def test_the_nearest_cluster_is_found_past_the_dead_copies_of_its_centroid(faces):
    """Each sighting rewrites its cluster's centroid, leaving a dead row version in the HNSW index near the
    next face of them; the search (on the index here) must still find the live row."""
    embedding = faces["img13"].embedding
    cluster = UnknownCluster.objects.create(
        model="Dlib", dimension=128, centroid=list(embedding), first_seen=START, last_seen=START, count=1
    )
    rng = np.random.default_rng(1)
    for _ in range(60):  # dead copies right on the face (each a little different: one index entry each)...
        nearly = embedding + 1e-4 * np.linalg.norm(embedding) * rng.standard_normal(len(embedding))
        UnknownCluster.objects.filter(pk=cluster.pk).update(centroid=list(nearly))
    moved = embedding + 0.02 * np.linalg.norm(embedding) * np.eye(len(embedding))[0]
    UnknownCluster.objects.filter(pk=cluster.pk).update(centroid=list(moved))  # ...the live one a little off
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")

    found = unknowns.nearest_cluster(embedding, model="Dlib", dimension=128)

    assert found is not None and found[0] == str(cluster.pk) and 0 < found[1] < 0.01
