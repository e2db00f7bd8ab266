"""001 ``/api/v1/cameras``: listing, creating, changing, deleting, import/export and the summary.

No stream is opened here: cameras whose URLs point anywhere but 127.0.0.1 are created disabled and never
checked (the live checks are in ``test_camera_live.py``).
"""

from __future__ import annotations

import pytest
from django.db import connection

from cameras.choices import CameraStatus
from cameras.models import Camera
from cameras.monitoring import apply_probe
from cameras.probing import ProbeResult
from tests.factories import CameraFactory, DetectionFactory

pytestmark = pytest.mark.django_db

CAMERAS = "/api/v1/cameras"
SECRET = "s3cr3t-Pa55"
# A camera on the site network: only ever stored and shown, never opened (enabled=False).
REMOTE_URL = f"rtsp://admin:{SECRET}@10.10.1.12:554/stream1"
MASKED_REMOTE_URL = "rtsp://admin:***@10.10.1.12:554/stream1"


def create_remote(client, **fields) -> dict:
    """Create a disabled camera with a password in its URL through the API; returns ``data``."""
    body = {"name": "Gate", "location": "Main gate", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False}
    response = client.post(CAMERAS, {**body, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def raw_stream_columns(camera_id: str) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT stream_url, stream_password FROM {Camera._meta.db_table} WHERE id = %s",
            [camera_id],
        )
        return cursor.fetchone()


def ids(response) -> list[str]:
    return [item["id"] for item in response.json()["data"]]


# --- Listing ---------------------------------------------------------------------------------------


@pytest.fixture
def fleet(db) -> list[Camera]:
    return [
        CameraFactory(id="CAM-01", name="Main Entrance", status=CameraStatus.ONLINE, enabled=True, tags=["entry"]),
        CameraFactory(
            id="CAM-02",
            name="Loading Dock",
            status=CameraStatus.OFFLINE,
            enabled=False,
            stream_type="HTTP",
            stream_url="http://127.0.0.1:8080/video.mjpg",
        ),
        CameraFactory(
            id="CAM-03", name="Server Room", location="Basement", status=CameraStatus.MAINTENANCE, enabled=False
        ),
        CameraFactory(id="CAM-04", name="Parking North", status=CameraStatus.ONLINE, enabled=True),
        CameraFactory(id="CAM-05", name="Parking South", status=CameraStatus.OFFLINE, enabled=False),
    ]


def test_list_returns_cameras_in_the_envelope_with_page_meta(viewer_client, fleet, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = viewer_client.get(CAMERAS)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert ids(response) == ["CAM-01", "CAM-02", "CAM-03", "CAM-04", "CAM-05"]
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 5, "totalPages": 1}
    first = body["data"][0]
    for key in (
        "id",
        "name",
        "location",
        "streamType",
        "status",
        "fps",
        "latency",
        "bitrate",
        "resolution",
        "lastSeen",
        "ipAddress",
        "tags",
        "thumbnail",
        "streamUrl",
        "lastChecked",
        "enabled",
    ):
        assert key in first


def test_list_query_count_does_not_grow_with_the_number_of_cameras(viewer_client, fleet, django_assert_max_num_queries):
    for number in range(6, 30):
        CameraFactory(id=f"CAM-{number:02d}")
    with django_assert_max_num_queries(6):
        response = viewer_client.get(CAMERAS, {"pageSize": 50})
    assert len(response.json()["data"]) == 29


def test_list_filters_by_status(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"status": "online"})) == ["CAM-01", "CAM-04"]


def test_list_filter_by_status_accepts_000_spelling(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"status": "inactive"})) == ["CAM-02", "CAM-05"]


def test_list_filter_by_unknown_status_is_refused(viewer_client, fleet):
    response = viewer_client.get(CAMERAS, {"status": "broken"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_list_filters_by_stream_type(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"streamType": "HTTP"})) == ["CAM-02"]


def test_list_filters_by_enabled(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"enabled": "true"})) == ["CAM-01", "CAM-04"]
    assert ids(viewer_client.get(CAMERAS, {"enabled": "false"})) == ["CAM-02", "CAM-03", "CAM-05"]


def test_list_search_matches_name_and_location(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"search": "parking"})) == ["CAM-04", "CAM-05"]
    assert ids(viewer_client.get(CAMERAS, {"search": "basement"})) == ["CAM-03"]


def test_list_search_matches_tags_and_ids(viewer_client, fleet):
    assert ids(viewer_client.get(CAMERAS, {"search": "entry"})) == ["CAM-01"]
    assert ids(viewer_client.get(CAMERAS, {"search": "cam-03"})) == ["CAM-03"]


def test_list_pages_with_page_and_page_size(viewer_client, fleet):
    response = viewer_client.get(CAMERAS, {"page": 2, "pageSize": 2})
    assert ids(response) == ["CAM-03", "CAM-04"]
    assert response.json()["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalPages": 3}


def test_list_refuses_a_page_size_over_the_maximum(viewer_client, fleet):
    response = viewer_client.get(CAMERAS, {"pageSize": 500})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "pageSize"


def test_list_says_it_is_version_1_and_not_deprecated(viewer_client, fleet):
    response = viewer_client.get(CAMERAS)
    assert response["X-API-Version"] == "1"
    assert (response["X-API-Status"], response.has_header("Deprecation"), response.has_header("Sunset")) == (
        "stable",
        False,
        False,
    )


def test_list_needs_authentication(api_client, fleet):
    response = api_client.get(CAMERAS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


# --- Creating ---------------------------------------------------------------------------------------


def test_create_answers_201_with_the_created_camera(operator_client):
    data = create_remote(operator_client)
    assert data["name"] == "Gate"
    assert data["location"] == "Main gate"
    assert data["streamType"] == "RTSP"
    assert data["enabled"] is False
    assert data["version"] == 1
    assert Camera.objects.filter(pk=data["id"]).exists()


def test_create_without_id_generates_cam_01_then_cam_02(operator_client):
    assert create_remote(operator_client)["id"] == "CAM-01"
    assert create_remote(operator_client)["id"] == "CAM-02"


def test_create_generated_id_follows_the_highest_existing_one(operator_client):
    CameraFactory(id="CAM-07")
    assert create_remote(operator_client)["id"] == "CAM-08"


def test_create_keeps_a_given_id(operator_client):
    assert create_remote(operator_client, id="CAM-LOBBY")["id"] == "CAM-LOBBY"
    assert Camera.objects.filter(pk="CAM-LOBBY").exists()


def test_create_with_a_duplicate_id_is_refused_with_409(operator_client):
    CameraFactory(id="CAM-07", name="Original")
    response = operator_client.post(
        CAMERAS,
        {"id": "CAM-07", "name": "Copy", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["success"] is False
    assert Camera.objects.get(pk="CAM-07").name == "Original"


def test_create_without_a_name_is_refused(operator_client):
    response = operator_client.post(CAMERAS, {"streamType": "RTSP", "streamUrl": REMOTE_URL}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "name"
    assert not Camera.objects.exists()


def test_create_with_a_stream_url_that_does_not_fit_the_stream_type_is_refused(operator_client):
    response = operator_client.post(
        CAMERAS,
        {"name": "Gate", "streamType": "RTSP", "streamUrl": "http://10.10.1.12/video.mjpg", "enabled": False},
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "streamUrl"
    assert not Camera.objects.exists()


def test_create_with_an_unknown_stream_type_is_refused(operator_client):
    response = operator_client.post(
        CAMERAS, {"name": "Gate", "streamType": "Carrier pigeon", "streamUrl": REMOTE_URL}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "streamType"


def test_viewer_cannot_create_a_camera(viewer_client):
    response = viewer_client.post(
        CAMERAS, {"name": "Gate", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"
    assert not Camera.objects.exists()


# --- The stream password ----------------------------------------------------------------------------


def test_create_stores_the_password_encrypted_not_in_the_database_in_clear(operator_client):
    camera_id = create_remote(operator_client)["id"]
    stream_url, stream_password = raw_stream_columns(camera_id)
    assert SECRET not in stream_url
    assert SECRET not in stream_password
    assert stream_password.startswith("enc:v1:")


def test_the_stored_password_decrypts_to_the_one_given(operator_client):
    camera_id = create_remote(operator_client)["id"]
    camera = Camera.objects.get(pk=camera_id)
    assert camera.stream_password == SECRET
    assert camera.stream_url == "rtsp://admin@10.10.1.12:554/stream1"


def test_create_answer_masks_the_password(operator_client):
    data = create_remote(operator_client)
    assert data["streamUrl"] == MASKED_REMOTE_URL


def test_get_masks_the_password(operator_client):
    camera_id = create_remote(operator_client)["id"]
    response = operator_client.get(f"{CAMERAS}/{camera_id}")
    assert response.status_code == 200
    assert response.json()["data"]["streamUrl"] == MASKED_REMOTE_URL
    assert SECRET not in response.content.decode()


def test_list_masks_the_password(operator_client):
    create_remote(operator_client)
    response = operator_client.get(CAMERAS)
    assert response.json()["data"][0]["streamUrl"] == MASKED_REMOTE_URL
    assert SECRET not in response.content.decode()


def test_export_masks_the_password(operator_client):
    create_remote(operator_client)
    response = operator_client.get(f"{CAMERAS}/export")
    assert response.json()["data"][0]["streamUrl"] == MASKED_REMOTE_URL
    assert SECRET not in response.content.decode()


def test_edge_config_get_masks_the_password(operator_client):
    camera_id = create_remote(operator_client)["id"]
    response = operator_client.get(f"/config/cameras/{camera_id}")
    assert response.status_code == 200
    assert response.json()["rtsp_url"] == MASKED_REMOTE_URL
    assert SECRET not in response.content.decode()


def test_writing_the_masked_url_back_keeps_the_stored_password(operator_client):
    camera_id = create_remote(operator_client)["id"]
    response = operator_client.put(
        f"{CAMERAS}/{camera_id}", {"name": "Gate (renamed)", "streamUrl": MASKED_REMOTE_URL}, format="json"
    )
    assert response.status_code == 200
    camera = Camera.objects.get(pk=camera_id)
    assert camera.name == "Gate (renamed)"
    assert camera.stream_password == SECRET


def test_writing_a_new_password_replaces_the_stored_one(operator_client):
    camera_id = create_remote(operator_client)["id"]
    operator_client.put(
        f"{CAMERAS}/{camera_id}", {"streamUrl": "rtsp://admin:n3w-one@10.10.1.12:554/stream1"}, format="json"
    )
    assert Camera.objects.get(pk=camera_id).stream_password == "n3w-one"


# --- Updating with versions -------------------------------------------------------------------------


def test_put_with_the_current_version_succeeds_and_increments_it(operator_client):
    CameraFactory(id="CAM-01", name="Before")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After", "version": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "After"
    assert response.json()["data"]["version"] == 2
    assert Camera.objects.get(pk="CAM-01").version == 2


def test_put_with_a_stale_version_is_refused_with_409_version_conflict(operator_client):
    camera = CameraFactory(id="CAM-01", name="Before")
    Camera.objects.filter(pk=camera.pk).update(version=3)
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After", "version": 2}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "VERSION_CONFLICT"
    assert error["details"] == {"currentVersion": 3}


def test_put_with_a_stale_version_changes_nothing(operator_client):
    camera = CameraFactory(id="CAM-01", name="Before")
    Camera.objects.filter(pk=camera.pk).update(version=3)
    operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After", "version": 2}, format="json")
    camera.refresh_from_db()
    assert (camera.name, camera.version) == ("Before", 3)


def test_put_with_a_current_if_match_header_succeeds(operator_client):
    CameraFactory(id="CAM-01", name="Before")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert response.json()["data"]["version"] == 2


def test_put_with_a_stale_if_match_header_is_refused(operator_client):
    CameraFactory(id="CAM-01", name="Before")
    operator_client.put(f"{CAMERAS}/CAM-01", {"name": "Second"}, format="json")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "VERSION_CONFLICT"
    assert Camera.objects.get(pk="CAM-01").name == "Second"


def test_put_with_an_if_match_that_is_no_version_is_refused(operator_client):
    CameraFactory(id="CAM-01", name="Before")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "After"}, format="json", HTTP_IF_MATCH='"v1"')
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "If-Match must be the camera's version number"
    assert Camera.objects.get(pk="CAM-01").name == "Before"


def test_get_answers_the_version_as_etag(operator_client):
    CameraFactory(id="CAM-01")
    assert operator_client.get(f"{CAMERAS}/CAM-01")["ETag"] == '"1"'


def test_put_without_a_version_still_increments_it(operator_client):
    CameraFactory(id="CAM-01")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"location": "Hall"}, format="json")
    assert response.json()["data"]["version"] == 2


def test_put_with_an_invalid_stream_url_is_refused_and_changes_nothing(operator_client):
    CameraFactory(id="CAM-01")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"name": "X", "streamUrl": "not a url"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "streamUrl"
    camera = Camera.objects.get(pk="CAM-01")
    assert (camera.name, camera.version) == ("Camera CAM-01", 1)


def test_put_cannot_change_the_id(operator_client):
    CameraFactory(id="CAM-01")
    response = operator_client.put(f"{CAMERAS}/CAM-01", {"id": "CAM-99"}, format="json")
    assert response.status_code == 400
    assert Camera.objects.filter(pk="CAM-01").exists()
    assert not Camera.objects.filter(pk="CAM-99").exists()


def test_viewer_cannot_update_a_camera(viewer_client):
    CameraFactory(id="CAM-01", name="Before")
    response = viewer_client.put(f"{CAMERAS}/CAM-01", {"name": "After"}, format="json")
    assert response.status_code == 403
    assert Camera.objects.get(pk="CAM-01").name == "Before"


# --- State and status -------------------------------------------------------------------------------


def test_patch_state_enables_a_camera(operator_client):
    CameraFactory(id="CAM-01", enabled=False)
    response = operator_client.patch(f"{CAMERAS}/CAM-01/state", {"enabled": True}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["enabled"] is True
    assert Camera.objects.get(pk="CAM-01").enabled is True


def test_patch_state_disables_a_camera(operator_client):
    CameraFactory(id="CAM-01", enabled=True)
    operator_client.patch(f"{CAMERAS}/CAM-01/state", {"enabled": False}, format="json")
    assert Camera.objects.get(pk="CAM-01").enabled is False


def test_patch_state_without_enabled_is_refused(operator_client):
    CameraFactory(id="CAM-01", enabled=True)
    response = operator_client.patch(f"{CAMERAS}/CAM-01/state", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "enabled"


def test_viewer_cannot_patch_state(viewer_client):
    CameraFactory(id="CAM-01", enabled=True)
    assert viewer_client.patch(f"{CAMERAS}/CAM-01/state", {"enabled": False}, format="json").status_code == 403
    assert Camera.objects.get(pk="CAM-01").enabled is True


@pytest.mark.parametrize("status", ["online", "offline", "maintenance"])
def test_patch_status_accepts_001_statuses(operator_client, status):
    CameraFactory(id="CAM-01", status=CameraStatus.OFFLINE if status != "offline" else CameraStatus.ONLINE)
    response = operator_client.patch(f"{CAMERAS}/CAM-01/status", {"status": status}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == status
    assert Camera.objects.get(pk="CAM-01").status == status


@pytest.mark.parametrize(("spelling", "stored"), [("active", "online"), ("inactive", "offline")])
def test_patch_status_accepts_000_active_and_inactive(operator_client, spelling, stored):
    CameraFactory(id="CAM-01", status=CameraStatus.MAINTENANCE)
    response = operator_client.patch(f"{CAMERAS}/CAM-01/status", {"status": spelling}, format="json")
    assert response.status_code == 200
    assert Camera.objects.get(pk="CAM-01").status == stored


def test_patch_status_refuses_an_unknown_status(operator_client):
    CameraFactory(id="CAM-01", status=CameraStatus.ONLINE)
    response = operator_client.patch(f"{CAMERAS}/CAM-01/status", {"status": "exploded"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "status"
    assert Camera.objects.get(pk="CAM-01").status == CameraStatus.ONLINE


# --- Deleting and unknown ids ------------------------------------------------------------------------


def test_operator_cannot_delete_a_camera(operator_client):
    CameraFactory(id="CAM-01")
    response = operator_client.delete(f"{CAMERAS}/CAM-01")
    assert response.status_code == 403
    assert Camera.objects.filter(pk="CAM-01").exists()


def test_admin_deletes_a_camera_with_204(admin_client):
    CameraFactory(id="CAM-01")
    response = admin_client.delete(f"{CAMERAS}/CAM-01")
    assert response.status_code == 204
    assert not Camera.objects.filter(pk="CAM-01").exists()


def test_a_deleted_camera_is_404(admin_client):
    CameraFactory(id="CAM-01")
    admin_client.delete(f"{CAMERAS}/CAM-01")
    assert admin_client.get(f"{CAMERAS}/CAM-01").status_code == 404


def test_get_unknown_camera_is_404_not_found(viewer_client):
    response = viewer_client.get(f"{CAMERAS}/CAM-404")
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["requestId"]


def test_put_unknown_camera_is_404(operator_client):
    assert operator_client.put(f"{CAMERAS}/CAM-404", {"name": "X"}, format="json").status_code == 404


def test_delete_unknown_camera_is_404(admin_client):
    assert admin_client.delete(f"{CAMERAS}/CAM-404").status_code == 404


# --- Export and import ------------------------------------------------------------------------------


def test_export_returns_import_ready_documents(operator_client):
    create_remote(operator_client, id="CAM-01", tags=["gate"], resolution="1920x1080")
    response = operator_client.get(f"{CAMERAS}/export")
    assert response.status_code == 200
    [document] = response.json()["data"]
    assert document["id"] == "CAM-01"
    assert document["name"] == "Gate"
    assert document["streamType"] == "RTSP"
    assert document["tags"] == ["gate"]
    assert (document["width"], document["height"]) == (1920, 1080)
    assert "version" not in document and "status" not in document


def test_export_reimported_into_an_empty_fleet_recreates_the_cameras(operator_client, admin_client):
    create_remote(operator_client, id="CAM-01", tags=["gate"], resolution="1920x1080")
    documents = operator_client.get(f"{CAMERAS}/export").json()["data"]
    Camera.objects.all().delete()
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["created"] == ["CAM-01"]
    camera = Camera.objects.get(pk="CAM-01")
    assert (camera.name, camera.location, camera.tags) == ("Gate", "Main gate", ["gate"])
    assert (camera.width, camera.height) == (1920, 1080)
    assert camera.stream_url == "rtsp://admin@10.10.1.12:554/stream1"


def test_export_reimported_over_the_same_fleet_keeps_the_passwords(operator_client):
    create_remote(operator_client, id="CAM-01")
    documents = operator_client.get(f"{CAMERAS}/export").json()["data"]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 201
    assert response.json()["data"]["updated"] == ["CAM-01"]
    assert Camera.objects.get(pk="CAM-01").stream_password == SECRET


@pytest.mark.parametrize("count", [3, 6])
def test_export_costs_the_same_queries_however_many_cameras(viewer_client, count, django_assert_max_num_queries):
    CameraFactory.create_batch(count, stream_url=REMOTE_URL, enabled=False)

    with django_assert_max_num_queries(3):
        documents = viewer_client.get(f"{CAMERAS}/export").json()["data"]

    assert len(documents) == count


def test_export_with_download_is_an_attachment(viewer_client):
    CameraFactory(id="CAM-01")
    response = viewer_client.get(f"{CAMERAS}/export", {"download": "1"})
    assert response["Content-Disposition"] == 'attachment; filename="cameras.json"'


def test_import_creates_and_updates_in_one_go(operator_client):
    CameraFactory(id="CAM-01", name="Old name")
    documents = [
        {"id": "CAM-01", "name": "New name", "streamType": "RTSP", "streamUrl": REMOTE_URL},
        {"id": "CAM-02", "name": "Yard", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False},
    ]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 201
    assert response.json()["data"] == {"created": ["CAM-02"], "updated": ["CAM-01"], "total": 2}
    assert Camera.objects.get(pk="CAM-01").name == "New name"
    assert Camera.objects.get(pk="CAM-02").stream_password == SECRET


def test_import_accepts_a_bare_list(operator_client):
    response = operator_client.post(
        f"{CAMERAS}/import",
        [{"name": "Yard", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False}],
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["data"]["created"] == ["CAM-01"]


def test_import_with_one_invalid_camera_imports_nothing(operator_client):
    CameraFactory(id="CAM-01", name="Old name")
    documents = [
        {"id": "CAM-01", "name": "New name"},
        {"id": "CAM-02", "name": "Yard", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False},
        {"id": "CAM-03", "name": "Broken", "streamType": "RTSP", "streamUrl": "http://10.0.0.1/x", "enabled": False},
    ]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cameras.2.streamUrl"
    assert Camera.objects.count() == 1
    assert Camera.objects.get(pk="CAM-01").name == "Old name"


def test_import_with_a_camera_without_a_name_imports_nothing(operator_client):
    documents = [
        {"id": "CAM-01", "name": "Yard", "enabled": False},
        {"id": "CAM-02", "enabled": False},
    ]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cameras.1.name"
    assert Camera.objects.count() == 0


def test_import_with_a_field_of_the_wrong_type_is_refused_not_a_crash(operator_client):
    documents = [
        {"id": "CAM-01", "name": "Yard", "enabled": False},
        {"id": "CAM-02", "name": "Dock", "fps": "fast", "enabled": False},
    ]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cameras.1.fps"
    assert Camera.objects.count() == 0


def test_import_with_an_invalid_id_is_refused(operator_client):
    documents = [{"id": "CAM 01/../x", "name": "Yard", "enabled": False}]
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": documents}, format="json")
    assert response.status_code == 400
    assert Camera.objects.count() == 0


def test_import_with_an_empty_list_is_refused(operator_client):
    response = operator_client.post(f"{CAMERAS}/import", {"cameras": []}, format="json")
    assert response.status_code == 400


def test_viewer_cannot_import(viewer_client):
    response = viewer_client.post(f"{CAMERAS}/import", {"cameras": [{"name": "Yard", "enabled": False}]}, format="json")
    assert response.status_code == 403
    assert Camera.objects.count() == 0


# --- Summary ----------------------------------------------------------------------------------------


def test_summary_has_one_entry_per_camera_in_001_shape(viewer_client):
    CameraFactory(id="CAM-01")
    CameraFactory(id="CAM-02")
    response = viewer_client.get(f"{CAMERAS}/summary")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [entry["id"] for entry in data] == ["CAM-01", "CAM-02"]
    for entry in data:
        assert set(entry) == {"id", "detectionsToday", "unknownFaces", "uptimePercent"}


def test_summary_uptime_is_null_before_any_check(viewer_client):
    CameraFactory(id="CAM-01")
    [entry] = viewer_client.get(f"{CAMERAS}/summary").json()["data"]
    assert entry["uptimePercent"] is None


def test_summary_uptime_is_the_share_of_todays_checks_that_found_the_camera_online(viewer_client):
    camera = CameraFactory(id="CAM-01")
    other = CameraFactory(id="CAM-02")
    for ok in (True, True, False, True):
        apply_probe(camera, ProbeResult(ok=ok, latency_ms=40.0, error="" if ok else "Connection refused"))
    apply_probe(other, ProbeResult(ok=False, error="Connection refused"))
    data = {entry["id"]: entry for entry in viewer_client.get(f"{CAMERAS}/summary").json()["data"]}
    assert data["CAM-01"]["uptimePercent"] == 75.0
    assert data["CAM-02"]["uptimePercent"] == 0.0


def test_summary_counts_todays_detections_and_unknown_faces_per_camera(viewer_client):
    from django.utils import timezone

    camera, quiet = CameraFactory(id="CAM-01"), CameraFactory(id="CAM-02")
    now = timezone.now()
    for status in ("authorized", "unknown", "unknown"):
        DetectionFactory(camera=camera, confidence=90, timestamp=now, status=status)
    DetectionFactory(camera=camera, confidence=90, timestamp=now - timezone.timedelta(days=1), status="unknown")

    data = {entry["id"]: entry for entry in viewer_client.get(f"{CAMERAS}/summary").json()["data"]}

    assert (data["CAM-01"]["detectionsToday"], data["CAM-01"]["unknownFaces"]) == (3, 2)
    assert (data[quiet.pk]["detectionsToday"], data[quiet.pk]["unknownFaces"]) == (0, 0)


@pytest.mark.parametrize("count", [3, 6])
def test_summary_costs_the_same_queries_however_many_cameras(viewer_client, count, django_assert_max_num_queries):
    for _ in range(count):
        camera = CameraFactory()
        apply_probe(camera, ProbeResult(ok=True, latency_ms=40.0))
        DetectionFactory.create_batch(2, camera=camera)

    with django_assert_max_num_queries(4):
        data = viewer_client.get(f"{CAMERAS}/summary").json()["data"]

    assert len(data) == count and all(entry["detectionsToday"] == 2 for entry in data)


def test_summary_needs_authentication(api_client):
    assert api_client.get(f"{CAMERAS}/summary").status_code == 401


# --- A camera's own face match threshold (issue 20) ---------------------------------------------------------


def test_a_camera_takes_its_own_match_threshold_and_shows_it(operator_client):
    camera = create_remote(operator_client, matchThreshold=0.06)

    assert camera["matchThreshold"] == 0.06 and Camera.objects.get(pk=camera["id"]).match_threshold == 0.06
    assert operator_client.get(f"{CAMERAS}/{camera['id']}").json()["data"]["matchThreshold"] == 0.06


def test_a_camera_without_a_match_threshold_shows_null(operator_client):
    assert create_remote(operator_client)["matchThreshold"] is None


def test_a_camera_match_threshold_can_be_cleared(operator_client):
    camera = create_remote(operator_client, matchThreshold=0.06)

    response = operator_client.put(f"{CAMERAS}/{camera['id']}", {"matchThreshold": None}, format="json")

    assert response.status_code == 200, response.json()
    assert Camera.objects.get(pk=camera["id"]).match_threshold is None


@pytest.mark.parametrize("value", [0, -0.1, 0.5, "strict"])
def test_a_match_threshold_out_of_range_is_refused_naming_the_field(operator_client, value):
    body = {"name": "Gate", "streamType": "RTSP", "streamUrl": REMOTE_URL, "enabled": False, "matchThreshold": value}

    response = operator_client.post(CAMERAS, body, format="json")

    assert response.status_code == 400, response.json()
    assert "matchThreshold" in str(response.json()) and not Camera.objects.exists()
