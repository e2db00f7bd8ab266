"""Deleting a person removes everything biometric about them, whichever surface deletes (issue 20)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone
from pgvector.django import VectorField

from accounts.models import AuditLog
from attendance.choices import ExportFormat, ExportStatus, ExportType
from attendance.exports import jobs
from attendance.models import ExportJob
from attendance.services import record_recognition
from recognition import enrolment, unknown_review
from recognition.face_service.choices import SessionStatus
from recognition.models import (
    Detection,
    FaceProfile,
    MatchRejection,
    RecognitionSession,
    SessionStudent,
    UnknownCluster,
    UnknownSighting,
)
from tests.factories import CameraFactory, DetectionFactory, FaceProfileFactory
from tests.recognition.conftest import enrol, media_files, photo_file
from tests.recognition.unknown_faces import face_of, see

pytestmark = pytest.mark.django_db

FACES = Path(django_settings.BASE_DIR).parent / "shared" / "data" / "faces"
EMPLOYEE = "EMP-ERASE"
# Fields that hold a stored file's key or a face's vector: a row naming the person must not keep them.
BIOMETRIC_KEYS = ("storage_key", "thumbnail", "s3_key")


@pytest.fixture
def person(admin_client, engine, django_capture_on_commit_callbacks) -> dict:
    """Enrolled from a real photo, seen twice by a camera (crops stored), present on site, exported twice
    (history PDF, attendance CSV), a student of a face-service session, and first seen as a stranger whose
    unknown-face cluster (another photo of them) was then added to their profile."""
    response = enrol(admin_client, EMPLOYEE, "Grace Hopper", [photo_file(FACES / "img1.jpg")])
    assert response.status_code == 201, response.json()
    profile = FaceProfile.objects.get(employee_id=EMPLOYEE)
    camera = CameraFactory()
    for _ in range(2):
        key = default_storage.save(f"detections/{camera.pk}/crop.jpg", ContentFile((FACES / "img1.jpg").read_bytes()))
        detection = DetectionFactory(profile=profile, camera=camera, thumbnail=key)
        record_recognition(
            employee_id=EMPLOYEE,
            name=profile.name,
            department="",
            camera=camera,
            seen_at=detection.timestamp,
            accuracy=99.0,
            thumbnail=key,
        )
    exports = [
        _exported(ExportType.HISTORY, ExportFormat.PDF, {"employeeId": EMPLOYEE}),
        _exported(ExportType.ATTENDANCE, ExportFormat.CSV, {}),
    ]
    session = RecognitionSession.objects.create(
        slot_id=1,
        room_id=1,
        status=SessionStatus.STOPPED,
        similarity_threshold=0.6,
        scan_interval=5,
        callback_url="http://127.0.0.1:9/",
        model_name=profile.embeddings.get().model,
        started_at=timezone.now(),
    )
    SessionStudent.objects.create(
        session=session,
        user_id=7,
        full_name=profile.name,
        roll_number=EMPLOYEE,
        embedding=list(profile.embeddings.get().embedding),
        embedding_version=1,
    )
    # Operators' rejections: a stranger's face rejected as them, and their own face rejected as someone else.
    their_face = list(profile.embeddings.get().embedding)
    stranger = [value + 0.5 for value in their_face]
    rejections = [
        MatchRejection.objects.create(profile=profile, model="Dlib", dimension=128, embedding=stranger),
        MatchRejection.objects.create(
            profile=FaceProfileFactory(employee_id="EMP-SOMEONE"), model="Dlib", dimension=128, embedding=their_face
        ),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, face_of(engine, "img2.jpg"), timezone.now())
    [cluster] = UnknownCluster.objects.all()
    unknown_review.assign(cluster, profile, by=enrolment.SYSTEM)
    files = {str(p.relative_to(django_settings.MEDIA_ROOT)) for p in media_files(django_settings)}
    assert any(f.startswith("faces/") for f in files) and any(f.startswith("detections/") for f in files)
    assert any(f.startswith("unknown-faces/") for f in files)
    assert any(f.startswith("exports/") for f in files)
    return {"profile": profile, "files": files, "exports": exports, "rejections": rejections}


def _exported(export_type: str, export_format: str, filters: dict) -> ExportJob:
    job = jobs.create_export_job(user=None, export_type=export_type, export_format=export_format, filters=filters)
    key, rows = jobs.write_export(job)
    assert rows > 0
    ExportJob.objects.filter(pk=job.pk).update(s3_key=key, status=ExportStatus.COMPLETED)
    return job


def assert_nothing_biometric_left(person: dict) -> None:
    profile = person["profile"]
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is FaceProfile:
                assert not model.objects.filter(**{field.name: profile.pk}).exists(), model
        naming = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and f.name in ("employee_id", "person_id", "roll_number")
        ]
        carries = [f for f in model._meta.concrete_fields if isinstance(f, VectorField) or f.name in BIOMETRIC_KEYS]
        for name in naming:
            rows = model.objects.filter(**{name: EMPLOYEE})
            for field in carries:
                if isinstance(field, VectorField):
                    assert not rows.exists(), f"{model.__name__} keeps their {field.name}"
                else:
                    assert not rows.exclude(**{field.name: ""}).exists(), f"{model.__name__} keeps their {field.name}"
    assert not MatchRejection.objects.filter(pk__in=[r.pk for r in person["rejections"]]).exists()
    left = {str(p.relative_to(django_settings.MEDIA_ROOT)) for p in media_files(django_settings)}
    assert not left & person["files"], left & person["files"]
    photo = (FACES / "img1.jpg").read_bytes()
    for path in media_files(django_settings):  # under every prefix: no copy of the photo, no file naming them
        content = path.read_bytes()
        assert content != photo and EMPLOYEE.encode() not in content, path
    for job in ExportJob.objects.filter(pk__in=[job.pk for job in person["exports"]]):
        assert job.s3_key == "" and jobs.download_url(job) is None and job.expires_at <= timezone.now()


def test_api_delete_erases_everything_biometric(admin_client, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    assert response.status_code in (200, 204)
    assert_nothing_biometric_left(person)


def test_admin_delete_erases_everything_biometric(client, admin_user, person, django_capture_on_commit_callbacks):
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/recognition/faceprofile/{person['profile'].pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert_nothing_biometric_left(person)


def test_dashboard_delete_erases_everything_biometric(client, admin_user, person, django_capture_on_commit_callbacks):
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/recognition/faces/{person['profile'].pk}/delete/")

    assert response.status_code == 302
    assert_nothing_biometric_left(person)


def test_the_erasure_is_audited_with_what_was_removed(admin_client, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    [entry] = AuditLog.objects.filter(action="faces.profile.delete")
    assert entry.context["employee_id"] == EMPLOYEE
    # One enrolment photo and the one crop of the unknown-face cluster that was added to them.
    assert entry.context["images"] == 2 and entry.context["embeddings"] == 2
    assert entry.context["unknown_clusters"] == 1 and entry.context["unknown_face_crops"] == 1
    # The stranger's detection became theirs when the cluster was added to them: it goes with their own two.
    assert entry.context["unknown_detection_thumbnails"] == 0
    assert entry.context["detection_thumbnails"] == 3 and entry.context["presence_thumbnails"] == 1
    assert entry.context["face_service_students"] == 1 and entry.context["export_files"] == 2
    assert entry.context["match_rejections"] == 2


def test_a_rejection_of_someone_else_for_another_face_is_kept(admin_client, person, django_capture_on_commit_callbacks):
    other = person["rejections"][1].profile
    kept = MatchRejection.objects.create(profile=other, model="Dlib", dimension=128, embedding=[1.0] + [0.0] * 127)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    assert MatchRejection.objects.filter(pk=kept.pk).exists()


def test_an_export_of_someone_else_is_kept(admin_client, person, django_capture_on_commit_callbacks):
    record_recognition(
        employee_id="EMP-OTHER", name="Ada", department="", camera=None, seen_at=timezone.now(), accuracy=99.0
    )
    kept = _exported(ExportType.ATTENDANCE, ExportFormat.CSV, {"employeeId": "EMP-OTHER"})

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    kept.refresh_from_db()
    assert kept.s3_key and default_storage.exists(kept.s3_key) and jobs.download_url(kept)


def test_a_queued_history_export_of_them_is_never_run(admin_client, person, django_capture_on_commit_callbacks):
    queued = jobs.create_export_job(
        user=None, export_type=ExportType.HISTORY, export_format=ExportFormat.CSV, filters={"employeeId": EMPLOYEE}
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    queued.refresh_from_db()
    assert queued.status == ExportStatus.FAILED and queued.expires_at <= timezone.now()


def test_the_unknown_face_clusters_enrolled_into_them_are_erased_and_others_kept(
    admin_client, engine, person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        see(CameraFactory(), face_of(engine, "img26.jpg"), timezone.now())
    stranger = UnknownCluster.objects.get(status="open")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    assert list(UnknownCluster.objects.all()) == [stranger]
    assert list(UnknownSighting.objects.values_list("cluster_id", flat=True)) == [stranger.pk]
    left = {str(p.relative_to(django_settings.MEDIA_ROOT)) for p in media_files(django_settings)}
    assert [f for f in left if f.startswith("unknown-faces/")] == [stranger.sightings.get().storage_key]


def test_a_cluster_enrolled_into_them_is_erased_after_their_employee_id_changed(
    admin_client, person, django_capture_on_commit_callbacks
):
    enrolment.update_profile(person["profile"], {"employee_id": "EMP-RENAMED"})
    # Someone else takes their old id: erasing this other person must keep the cluster (it is not theirs).
    newcomer = FaceProfileFactory(employee_id=EMPLOYEE)
    with django_capture_on_commit_callbacks(execute=True):
        enrolment.delete_profile(newcomer)
    assert UnknownCluster.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    assert response.status_code in (200, 204)
    assert not UnknownCluster.objects.exists() and not UnknownSighting.objects.exists()
    left = {str(p.relative_to(django_settings.MEDIA_ROOT)) for p in media_files(django_settings)}
    assert not [f for f in left if f.startswith("unknown-faces/")]


def test_an_unknown_detection_of_their_cluster_loses_its_crop_after_their_employee_id_changed(
    admin_client, engine, person, django_capture_on_commit_callbacks
):
    """A detection of the cluster that stayed unknown (here: relabelled back by hand) is found through the
    cluster, whatever id the person has now."""
    [cluster] = UnknownCluster.objects.all()
    Detection.objects.filter(unknown_sighting__cluster=cluster).update(profile=None, person_id="", name="")
    enrolment.update_profile(person["profile"], {"employee_id": "EMP-RENAMED"})

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.delete(f"/api/v1/faces/{person['profile'].pk}")

    assert not Detection.objects.exclude(thumbnail="").filter(profile__isnull=True, person_id="").exists()
    [entry] = AuditLog.objects.filter(action="faces.profile.delete")
    assert entry.context["unknown_clusters"] == 1 and entry.context["unknown_detection_thumbnails"] == 1
