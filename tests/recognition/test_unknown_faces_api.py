"""The unknown-face review queue, /api/v1/unknown-faces (001 envelope): list, detail, enrol, assign, merge,
ignore, delete; permissions and audit."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from accounts.models import AuditLog
from cameras.models import Alert
from recognition import matching, unknowns
from recognition.models import Detection, FaceEmbedding, FaceProfile, UnknownCluster, UnknownSighting
from tests.conftest import role_client
from tests.factories import CameraFactory
from tests.recognition.conftest import enrol, photo_file
from tests.recognition.unknown_faces import FACES, START, face_of, minutes, see

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def faces(engine) -> dict:
    return {name: face_of(engine, f"{name}.jpg") for name in ("img13", "img14", "img16", "img17", "img26")}


@pytest.fixture
def clusters(faces, django_capture_on_commit_callbacks) -> dict:
    """Person B (img13/img14) seen twice on camera one, person C (img16) once on camera two, a day later."""
    one, two = CameraFactory(), CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(one, faces["img13"], START, quality=0.5)
        see(one, faces["img14"], START + minutes(3), quality=0.7)
        see(two, faces["img16"], START + minutes(60 * 24))
    b = UnknownCluster.objects.get(count=2)
    c = UnknownCluster.objects.get(count=1)
    return {"b": b, "c": c, "one": one, "two": two}


def test_the_list_is_paged_newest_first_in_the_envelope(admin_client, clusters):
    body = admin_client.get("/api/v1/unknown-faces?pageSize=1").json()

    assert body["success"] is True
    assert body["meta"] == {"page": 1, "pageSize": 1, "total": 2, "totalPages": 2}
    [row] = body["data"]
    assert row["id"] == str(clusters["c"].pk) and row["count"] == 1 and row["status"] == "open"
    assert row["cameras"] == [clusters["two"].pk] and row["thumbnailUrl"].startswith("/files/")
    assert row["firstSeen"] and row["lastSeen"] and row["personId"] is None


def test_the_list_filters_by_status_camera_and_since(admin_client, clusters):
    UnknownCluster.objects.filter(pk=clusters["c"].pk).update(status="ignored")

    def ids(query: str) -> list[str]:
        return [row["id"] for row in admin_client.get(f"/api/v1/unknown-faces?{query}").json()["data"]]

    assert ids("status=ignored") == [str(clusters["c"].pk)]
    assert ids(f"cameraId={clusters['one'].pk}") == [str(clusters["b"].pk)]
    assert ids("since=" + (START + minutes(60)).isoformat().replace("+00:00", "Z")) == [str(clusters["c"].pk)]


def test_a_bad_status_filter_is_a_400(admin_client, clusters):
    response = admin_client.get("/api/v1/unknown-faces?status=maybe")

    assert response.status_code == 400 and response.json()["success"] is False


def test_the_detail_shows_the_best_crops_first_and_is_audited(admin_client, clusters):
    response = admin_client.get(f"/api/v1/unknown-faces/{clusters['b'].pk}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert [crop["quality"] for crop in data["crops"]] == [0.7, 0.5]
    assert admin_client.get(data["crops"][0]["url"]).status_code == 200
    entry = AuditLog.objects.get(action="unknown_face.view")
    assert entry.resource_id == str(clusters["b"].pk) and entry.actor


def test_an_unknown_id_is_a_404(admin_client, db):
    response = admin_client.get("/api/v1/unknown-faces/not-a-uuid")

    assert response.status_code == 404 and response.json()["success"] is False


def test_reading_needs_faces_read(clusters):
    client = role_client("ROLE-NO-FACES", ["cameras:read"])

    assert client.get("/api/v1/unknown-faces").status_code == 403


def test_acting_needs_faces_write(clusters):
    client = role_client("ROLE-FACES-READ", ["faces:read"])

    assert client.get("/api/v1/unknown-faces").status_code == 200
    assert client.post(f"/api/v1/unknown-faces/{clusters['b'].pk}/ignore").status_code == 403
    assert client.delete(f"/api/v1/unknown-faces/{clusters['b'].pk}").status_code == 403
    assert UnknownCluster.objects.count() == 2


def test_enrol_makes_a_person_of_the_best_crops_who_is_then_recognised(admin_client, clusters, faces):
    response = admin_client.post(
        f"/api/v1/unknown-faces/{clusters['b'].pk}/enrol", {"personId": "EMP-B", "name": "Bea"}, format="json"
    )

    assert response.status_code == 201, response.json()
    profile = FaceProfile.objects.get(employee_id="EMP-B")
    assert response.json()["data"]["id"] == str(profile.pk) and profile.status == "active"
    assert profile.images.count() == 2 and FaceEmbedding.objects.filter(profile=profile).count() == 2
    assert all(default_storage.exists(image.storage_key) for image in profile.images.all())
    cluster = UnknownCluster.objects.get(pk=clusters["b"].pk)
    assert cluster.status == "enrolled" and cluster.profile_id == profile.pk and cluster.employee_id == "EMP-B"
    # The same person's face is now named: the crops' embeddings are theirs.
    [best, *_] = matching.identify(faces["img14"].embedding)
    assert best.profile.pk == profile.pk and matching.is_match(best.distance)
    assert AuditLog.objects.filter(action="unknown_face.enrol", resource_id=str(cluster.pk)).exists()


def test_enrol_refuses_a_taken_employee_id_and_writes_nothing(admin_client, clusters):
    enrol(admin_client, "EMP-TAKEN", "Someone", [photo_file(FACES / "img26.jpg")])

    response = admin_client.post(
        f"/api/v1/unknown-faces/{clusters['b'].pk}/enrol", {"personId": "EMP-TAKEN", "name": "Bea"}, format="json"
    )

    assert response.status_code == 409 and response.json()["error"]["code"] == "DUPLICATE_EMPLOYEE_ID"
    assert FaceProfile.objects.count() == 1 and UnknownCluster.objects.get(pk=clusters["b"].pk).status == "open"


def test_enrol_needs_a_person_id_and_a_name(admin_client, clusters):
    response = admin_client.post(f"/api/v1/unknown-faces/{clusters['b'].pk}/enrol", {"name": "Bea"}, format="json")

    assert response.status_code == 400 and not FaceProfile.objects.exists()


def test_an_enrolled_cluster_cannot_be_enrolled_again(admin_client, clusters):
    url = f"/api/v1/unknown-faces/{clusters['b'].pk}/enrol"
    admin_client.post(url, {"personId": "EMP-B", "name": "Bea"}, format="json")

    response = admin_client.post(url, {"personId": "EMP-B2", "name": "Bea"}, format="json")

    assert response.status_code == 409 and response.json()["error"]["code"] == "ALREADY_ENROLLED"


def test_assign_adds_the_crops_to_an_existing_person(admin_client, clusters):
    enrol(admin_client, "EMP-C", "Cid", [photo_file(FACES / "img17.jpg")])
    profile = FaceProfile.objects.get(employee_id="EMP-C")

    response = admin_client.post(
        f"/api/v1/unknown-faces/{clusters['c'].pk}/assign", {"personId": "EMP-C"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert profile.images.count() == 2 and profile.embeddings.count() == 2
    cluster = UnknownCluster.objects.get(pk=clusters["c"].pk)
    assert cluster.status == "enrolled" and cluster.profile_id == profile.pk


def test_enrol_makes_the_clusters_earlier_unknown_detections_theirs(admin_client, clusters):
    other = Detection.objects.get(unknown_sighting__cluster=clusters["c"])

    admin_client.post(
        f"/api/v1/unknown-faces/{clusters['b'].pk}/enrol", {"personId": "EMP-B", "name": "Bea"}, format="json"
    )

    profile = FaceProfile.objects.get(employee_id="EMP-B")
    relabelled = Detection.objects.filter(unknown_sighting__cluster=clusters["b"])
    assert relabelled.count() == 2
    for detection in relabelled:
        assert (detection.profile_id, detection.person_id, detection.name) == (profile.pk, "EMP-B", "Bea")
        assert detection.status == "authorized"
    other.refresh_from_db()  # another stranger's detection stays unknown
    assert other.profile_id is None and other.person_id == "" and other.status == "unknown"
    [entry] = AuditLog.objects.filter(action="unknown_face.enrol")
    assert entry.context["detections"] == 2


def test_assign_makes_the_clusters_earlier_unknown_detections_theirs(admin_client, clusters):
    enrol(admin_client, "EMP-C", "Cid", [photo_file(FACES / "img17.jpg")])
    FaceProfile.objects.filter(employee_id="EMP-C").update(status="pending")

    admin_client.post(f"/api/v1/unknown-faces/{clusters['c'].pk}/assign", {"personId": "EMP-C"}, format="json")

    detection = Detection.objects.get(unknown_sighting__cluster=clusters["c"])
    assert (detection.person_id, detection.name, detection.status) == ("EMP-C", "Cid", "visitor")
    assert detection.profile_id == FaceProfile.objects.get(employee_id="EMP-C").pk


def test_assign_to_nobody_is_a_404(admin_client, clusters):
    response = admin_client.post(
        f"/api/v1/unknown-faces/{clusters['c'].pk}/assign", {"personId": "EMP-NOBODY"}, format="json"
    )

    assert response.status_code == 404 and UnknownCluster.objects.get(pk=clusters["c"].pk).status == "open"


def test_merge_moves_every_sighting_into_the_other_cluster(admin_client, clusters):
    b, c = clusters["b"], clusters["c"]

    response = admin_client.post(f"/api/v1/unknown-faces/{c.pk}/merge", {"into": str(b.pk)}, format="json")

    assert response.status_code == 200, response.json()
    assert list(UnknownCluster.objects.values_list("pk", flat=True)) == [b.pk]
    merged = UnknownCluster.objects.get()
    assert merged.count == 3 and merged.cameras == sorted([clusters["one"].pk, clusters["two"].pk])
    assert merged.last_seen == START + minutes(60 * 24) and merged.first_seen == START
    assert len(response.json()["data"]["crops"]) == 3
    assert AuditLog.objects.filter(action="unknown_face.merge", resource_id=str(b.pk)).exists()


def test_merge_into_itself_is_refused(admin_client, clusters):
    b = clusters["b"]

    response = admin_client.post(f"/api/v1/unknown-faces/{b.pk}/merge", {"into": str(b.pk)}, format="json")

    assert response.status_code == 400 and UnknownCluster.objects.count() == 2


def test_ignore_stops_the_alerting_and_resolves_the_open_alert(admin_client, faces, settings, clusters):
    settings.ARGUS_UNKNOWN_RECUR_COUNT = 2
    unknowns.check_recurrence(clusters["b"], at=START + minutes(3))
    assert Alert.objects.filter(source=unknowns.alert_source(clusters["b"]), resolved_at=None).exists()

    response = admin_client.post(f"/api/v1/unknown-faces/{clusters['b'].pk}/ignore")

    assert response.status_code == 200 and response.json()["data"]["status"] == "ignored"
    assert not Alert.objects.filter(source=unknowns.alert_source(clusters["b"]), resolved_at=None).exists()
    assert AuditLog.objects.filter(action="unknown_face.ignore").exists()


def test_delete_removes_the_crops_and_vectors(admin_client, clusters, django_capture_on_commit_callbacks):
    b = clusters["b"]
    crops = list(b.sightings.exclude(storage_key="").values_list("storage_key", flat=True))
    assert len(crops) == 2 and all(default_storage.exists(key) for key in crops)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.delete(f"/api/v1/unknown-faces/{b.pk}")

    assert response.status_code == 204
    assert not UnknownCluster.objects.filter(pk=b.pk).exists()
    assert not UnknownSighting.objects.filter(cluster_id=b.pk).exists()
    assert not any(default_storage.exists(key) for key in crops)
    entry = AuditLog.objects.get(action="unknown_face.delete")
    assert entry.context["sightings"] == 2 and entry.context["crops"] == 2
