"""The unknown-face queue on the dashboard (/recognition/unknowns/) and in Admin: the same actions as the API,
audited as the dashboard's or the admin's."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from accounts.models import AuditLog
from recognition.models import FaceProfile, UnknownCluster
from tests.conftest import role_user, signed_in
from tests.factories import CameraFactory
from tests.recognition.unknown_faces import START, face_of, minutes, see

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def faces(engine) -> dict:
    return {name: face_of(engine, f"{name}.jpg") for name in ("img13", "img14", "img26")}


@pytest.fixture
def clusters(faces, django_capture_on_commit_callbacks) -> dict:
    camera = CameraFactory()
    with django_capture_on_commit_callbacks(execute=True):
        see(camera, faces["img13"], START)
        see(camera, faces["img14"], START + minutes(2))
        see(camera, faces["img26"], START + minutes(5))
    return {"b": UnknownCluster.objects.get(count=2), "x": UnknownCluster.objects.get(count=1), "camera": camera}


@pytest.fixture
def web(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_navigation_links_the_queue(web, db):
    page = web.get("/recognition/faces/").content.decode()

    assert 'href="/recognition/unknowns/"' in page


def test_the_queue_lists_open_clusters_with_their_crops_and_the_read_is_audited(web, clusters):
    response = web.get("/recognition/unknowns/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-cluster-id="{clusters["b"].pk}"' in page and f'data-cluster-id="{clusters["x"].pk}"' in page
    assert "Seen 2 times" in page and "/files/unknown-faces/" in page
    assert AuditLog.objects.filter(action="unknown_face.list").exists()


def test_the_queue_filters_by_status(web, clusters):
    UnknownCluster.objects.filter(pk=clusters["x"].pk).update(status="ignored")

    open_page = web.get("/recognition/unknowns/").content.decode()
    ignored_page = web.get("/recognition/unknowns/?status=ignored").content.decode()

    assert str(clusters["x"].pk) not in open_page and str(clusters["b"].pk) in open_page
    assert str(clusters["x"].pk) in ignored_page and str(clusters["b"].pk) not in ignored_page


def test_the_queue_filters_by_a_day_seen_since(web, clusters):
    UnknownCluster.objects.filter(pk=clusters["x"].pk).update(last_seen=START + minutes(60 * 48))

    page = web.get(f"/recognition/unknowns/?since={(START + minutes(60 * 24)).date().isoformat()}").content.decode()

    assert str(clusters["x"].pk) in page and str(clusters["b"].pk) not in page


def test_the_detail_page_shows_the_crops_and_the_actions(web, clusters):
    response = web.get(f"/recognition/unknowns/{clusters['b'].pk}/")

    page = response.content.decode()
    assert response.status_code == 200 and page.count("data-sighting-id=") == 2
    for form in ('id="enrol"', 'id="assign"', 'id="merge"', 'id="ignore"', 'id="delete"'):
        assert form in page
    assert AuditLog.objects.filter(action="unknown_face.view", resource_id=str(clusters["b"].pk)).exists()


def test_a_viewer_without_faces_read_is_refused(client, clusters):
    client.force_login(role_user("ROLE-NO-FACES-WEB", ["cameras:read"]))

    assert client.get("/recognition/unknowns/").status_code == 403


def test_a_reader_sees_no_actions_and_cannot_post_them(clusters):
    client = signed_in(role_user("ROLE-FACES-READ-WEB", ["faces:read"]))

    page = client.get(f"/recognition/unknowns/{clusters['b'].pk}/").content.decode()
    response = client.post(f"/recognition/unknowns/{clusters['b'].pk}/ignore/")

    assert 'id="ignore"' not in page and response.status_code == 403
    assert UnknownCluster.objects.get(pk=clusters["b"].pk).status == "open"


def test_enrol_from_the_dashboard(web, clusters):
    response = web.post(
        f"/recognition/unknowns/{clusters['b'].pk}/enrol/", {"employee_id": "EMP-WEB", "name": "Webster"}
    )

    profile = FaceProfile.objects.get(employee_id="EMP-WEB")
    assert response.status_code == 302 and response.url == f"/recognition/faces/{profile.pk}/"
    assert profile.images.count() == 2 and UnknownCluster.objects.get(pk=clusters["b"].pk).status == "enrolled"
    entry = AuditLog.objects.get(action="unknown_face.enrol")
    assert "(dashboard)" in entry.message and entry.context["employee_id"] == "EMP-WEB"


def test_a_refused_enrolment_says_why_and_changes_nothing(web, clusters):
    web.post(f"/recognition/unknowns/{clusters['b'].pk}/enrol/", {"employee_id": "EMP-WEB", "name": "Webster"})

    response = web.post(
        f"/recognition/unknowns/{clusters['x'].pk}/enrol/", {"employee_id": "EMP-WEB", "name": "Other"}, follow=True
    )

    assert "already has a face profile" in response.content.decode()
    assert FaceProfile.objects.count() == 1 and UnknownCluster.objects.get(pk=clusters["x"].pk).status == "open"


def test_merge_ignore_and_delete_from_the_dashboard(web, clusters, django_capture_on_commit_callbacks):
    b, x = clusters["b"], clusters["x"]
    web.post(f"/recognition/unknowns/{x.pk}/merge/", {"into": str(b.pk)})
    assert list(UnknownCluster.objects.values_list("count", flat=True)) == [3]

    web.post(f"/recognition/unknowns/{b.pk}/ignore/")
    assert UnknownCluster.objects.get().status == "ignored"

    crops = list(b.sightings.exclude(storage_key="").values_list("storage_key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(f"/recognition/unknowns/{b.pk}/delete/")
    assert response.status_code == 302 and not UnknownCluster.objects.exists()
    assert crops and not any(default_storage.exists(key) for key in crops)


def test_an_unknown_action_is_a_404(web, clusters):
    assert web.post(f"/recognition/unknowns/{clusters['b'].pk}/promote/").status_code == 404


# --- Admin ----------------------------------------------------------------------------------------------------


def test_admin_lists_clusters_and_shows_one_with_its_crops(web, clusters):
    assert web.get("/admin/recognition/unknowncluster/").status_code == 200
    page = web.get(f"/admin/recognition/unknowncluster/{clusters['b'].pk}/change/").content.decode()
    assert page.count("/files/unknown-faces/") == 2


def test_admin_actions_ignore_and_delete_through_the_service(web, clusters, django_capture_on_commit_callbacks):
    url = "/admin/recognition/unknowncluster/"
    web.post(url, {"action": "ignore_selected", "_selected_action": [str(clusters["b"].pk)]})
    assert UnknownCluster.objects.get(pk=clusters["b"].pk).status == "ignored"

    crops = list(clusters["x"].sightings.values_list("storage_key", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        web.post(url, {"action": "delete_selected_with_crops", "_selected_action": [str(clusters["x"].pk)]})

    assert not UnknownCluster.objects.filter(pk=clusters["x"].pk).exists()
    assert not any(default_storage.exists(key) for key in crops)
    assert "(admin)" in AuditLog.objects.get(action="unknown_face.delete").message
