"""003 configuration API: ``/config/cameras``, ``/config/zones`` and ``/config/sensors``.

Snake_case bodies, lists as ``{items, total, skip, limit}``, errors as ``{detail, error_code, timestamp,
request_id}``. Cameras with site addresses are created disabled and never opened.
"""

from __future__ import annotations

import copy

import pytest

from cameras.models import Camera, Sensor, Zone
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

SECRET = "password"
SPEC_CAMERA = {
    "name": "Entrance Main",
    "rtsp_url": f"rtsp://admin:{SECRET}@192.168.1.100:554/stream1",
    "enabled": False,  # a site address: stored, never opened
    "fps": 10,
    "resolution": {"width": 1920, "height": 1080},
    "detection_model": "yolov8-vehicle",
    "ocr_models": ["paddle-ocr-lt", "tesseract-lt"],
    "metadata": {"location": "Main gate", "manufacturer": "Hikvision"},
}
SPEC_POLYGON = {
    "type": "polygon",
    "points": [{"x": 100, "y": 200}, {"x": 500, "y": 200}, {"x": 500, "y": 600}, {"x": 100, "y": 600}],
}
TPMS_CONFIG = {
    "sensor_port": "COM3",
    "baudrate": 115200,
    "threshold": {"pressure_min": 1.8, "pressure_max": 2.5, "temperature_max": 60},
}


def assert_003_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_code"] == code
    assert body["detail"]
    assert body["timestamp"].endswith("Z")
    assert body["request_id"]
    return body


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.fixture
def hd_camera(db) -> Camera:
    return CameraFactory(id="cam-001", width=1920, height=1080)


# --- Cameras ---------------------------------------------------------------------------------------


def test_create_camera_answers_201_in_003_shape(operator_client):
    response = operator_client.post("/config/cameras", SPEC_CAMERA, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "cam-001"
    assert body["name"] == "Entrance Main"
    assert body["resolution"] == {"width": 1920, "height": 1080}
    assert body["fps"] == 10
    assert body["detection_model"] == "yolov8-vehicle"
    assert body["ocr_models"] == ["paddle-ocr-lt", "tesseract-lt"]
    assert body["metadata"] == {"location": "Main gate", "manufacturer": "Hikvision"}
    assert body["zone_id"] is None
    assert {"created_at", "updated_at"} <= set(body)


def test_create_camera_masks_the_rtsp_password(operator_client):
    response = operator_client.post("/config/cameras", SPEC_CAMERA, format="json")
    assert response.json()["rtsp_url"] == "rtsp://admin:***@192.168.1.100:554/stream1"
    assert SECRET not in response.content.decode()


def test_create_camera_keeps_the_rtsp_password_for_the_platform(operator_client):
    camera_id = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()["id"]
    assert Camera.objects.get(pk=camera_id).stream_password == SECRET


def test_create_camera_ids_count_up_in_003_style(operator_client):
    first = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()["id"]
    second = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()["id"]
    assert (first, second) == ("cam-001", "cam-002")


def test_create_camera_with_a_non_rtsp_url_is_refused(operator_client):
    response = operator_client.post(
        "/config/cameras", {**SPEC_CAMERA, "rtsp_url": "http://192.168.1.100/stream"}, format="json"
    )
    body = assert_003_error(response, 400, "VALIDATION_ERROR")
    assert body["detail"] == "Validation error"
    assert error_fields(response) == ["rtsp_url"]
    assert not Camera.objects.exists()


def test_create_camera_without_rtsp_url_is_refused(operator_client):
    body = {key: value for key, value in SPEC_CAMERA.items() if key != "rtsp_url"}
    response = operator_client.post("/config/cameras", body, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "rtsp_url" in error_fields(response)


def test_create_camera_with_an_unknown_zone_is_refused(operator_client):
    response = operator_client.post("/config/cameras", {**SPEC_CAMERA, "zone_id": "zone-nowhere"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["zone_id"]
    assert not Camera.objects.exists()


def test_get_camera_answers_the_003_shape(operator_client):
    camera_id = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()["id"]
    response = operator_client.get(f"/config/cameras/{camera_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["rtsp_url"] == "rtsp://admin:***@192.168.1.100:554/stream1"
    assert body["resolution"] == {"width": 1920, "height": 1080}


def test_get_camera_without_known_resolution_answers_null(viewer_client):
    CameraFactory(id="cam-009")
    assert viewer_client.get("/config/cameras/cam-009").json()["resolution"] is None


def test_get_unknown_camera_is_404_in_003_error_shape(viewer_client):
    body = assert_003_error(viewer_client.get("/config/cameras/cam-404"), 404, "RESOURCE_NOT_FOUND")
    assert body["detail"] == "Camera not found"
    assert set(body) == {"detail", "error_code", "timestamp", "request_id"}


def test_update_camera_changes_only_what_is_sent(operator_client):
    camera_id = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()["id"]
    response = operator_client.put(
        f"/config/cameras/{camera_id}",
        {"name": "Entrance Main (Updated)", "fps": 15, "metadata": {"location": "Main gate - Updated"}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["fps"], body["enabled"]) == ("Entrance Main (Updated)", 15, False)
    assert body["metadata"] == {"location": "Main gate - Updated"}
    assert body["rtsp_url"] == "rtsp://admin:***@192.168.1.100:554/stream1"
    assert Camera.objects.get(pk=camera_id).stream_password == SECRET


def test_update_camera_with_the_masked_url_keeps_the_password(operator_client):
    created = operator_client.post("/config/cameras", SPEC_CAMERA, format="json").json()
    operator_client.put(f"/config/cameras/{created['id']}", {"rtsp_url": created["rtsp_url"]}, format="json")
    assert Camera.objects.get(pk=created["id"]).stream_password == SECRET


def test_update_unknown_camera_is_404(operator_client):
    response = operator_client.put("/config/cameras/cam-404", {"name": "X"}, format="json")
    assert_003_error(response, 404, "RESOURCE_NOT_FOUND")


def test_delete_camera_answers_204(admin_client):
    CameraFactory(id="cam-001")
    response = admin_client.delete("/config/cameras/cam-001")
    assert response.status_code == 204
    assert not Camera.objects.exists()


def test_delete_camera_needs_cameras_delete(operator_client):
    CameraFactory(id="cam-001")
    assert_003_error(operator_client.delete("/config/cameras/cam-001"), 403, "FORBIDDEN")
    assert Camera.objects.exists()


def test_viewer_cannot_create_a_camera(viewer_client):
    assert_003_error(viewer_client.post("/config/cameras", SPEC_CAMERA, format="json"), 403, "FORBIDDEN")
    assert not Camera.objects.exists()


def test_config_needs_authentication(api_client):
    assert_003_error(api_client.get("/config/cameras"), 401, "AUTHENTICATION_FAILED")


@pytest.fixture
def edge_fleet(db) -> list[Camera]:
    return [
        CameraFactory(id="cam-001", enabled=True),
        CameraFactory(id="cam-002", enabled=False),
        CameraFactory(id="cam-003", enabled=True),
        CameraFactory(id="cam-004", enabled=False),
        CameraFactory(id="cam-005", enabled=True),
    ]


def test_list_cameras_answers_items_total_skip_limit(viewer_client, edge_fleet, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = viewer_client.get("/config/cameras")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "skip", "limit"}
    assert (body["total"], body["skip"], body["limit"]) == (5, 0, 100)
    assert [item["id"] for item in body["items"]] == ["cam-001", "cam-002", "cam-003", "cam-004", "cam-005"]


def test_list_cameras_query_count_does_not_grow_with_the_fleet(
    viewer_client, edge_fleet, django_assert_max_num_queries
):
    for number in range(6, 40):
        CameraFactory(id=f"cam-{number:03d}", width=1280, height=720)
    with django_assert_max_num_queries(6):
        response = viewer_client.get("/config/cameras")
    assert response.json()["total"] == 39


def test_list_cameras_filters_by_enabled(viewer_client, edge_fleet):
    body = viewer_client.get("/config/cameras", {"enabled": "true"}).json()
    assert [item["id"] for item in body["items"]] == ["cam-001", "cam-003", "cam-005"]
    assert body["total"] == 3


def test_list_cameras_filter_by_disabled(viewer_client, edge_fleet):
    body = viewer_client.get("/config/cameras", {"enabled": "false"}).json()
    assert [item["id"] for item in body["items"]] == ["cam-002", "cam-004"]


def test_list_cameras_refuses_a_non_boolean_enabled(viewer_client, edge_fleet):
    response = viewer_client.get("/config/cameras", {"enabled": "maybe"})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["enabled"]


def test_list_cameras_pages_with_skip_and_limit(viewer_client, edge_fleet):
    body = viewer_client.get("/config/cameras", {"skip": 1, "limit": 2}).json()
    assert [item["id"] for item in body["items"]] == ["cam-002", "cam-003"]
    assert (body["total"], body["skip"], body["limit"]) == (5, 1, 2)


def test_list_cameras_refuses_a_limit_over_1000(viewer_client, edge_fleet):
    response = viewer_client.get("/config/cameras", {"limit": 1001})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["limit"]


def test_list_cameras_refuses_a_negative_skip(viewer_client, edge_fleet):
    response = viewer_client.get("/config/cameras", {"skip": -1})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["skip"]


# --- Zones -----------------------------------------------------------------------------------------


def zone_body(**fields) -> dict:
    body = {
        "name": "Entrance Zone",
        "camera_id": "cam-001",
        "type": "enter",
        "geometry": copy.deepcopy(SPEC_POLYGON),
        "metadata": {"description": "Main entrance area"},
    }
    return {**body, **fields}


def test_create_zone_with_the_spec_example_answers_201(operator_client, hd_camera):
    response = operator_client.post("/config/zones", zone_body(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "zone-001"
    assert body["camera_id"] == "cam-001"
    assert body["type"] == "enter"
    assert body["geometry"] == SPEC_POLYGON
    assert body["metadata"] == {"description": "Main entrance area"}
    assert Zone.objects.get(pk="zone-001").camera_id == "cam-001"


def test_create_zone_with_two_points_is_refused(operator_client, hd_camera):
    geometry = {"type": "polygon", "points": SPEC_POLYGON["points"][:2]}
    response = operator_client.post("/config/zones", zone_body(geometry=geometry), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["geometry"]
    assert not Zone.objects.exists()


def test_create_zone_with_collinear_points_is_refused(operator_client, hd_camera):
    geometry = {"type": "polygon", "points": [{"x": 100, "y": 100}, {"x": 200, "y": 200}, {"x": 300, "y": 300}]}
    response = operator_client.post("/config/zones", zone_body(geometry=geometry), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "line" in response.json()["errors"][0]["message"]
    assert not Zone.objects.exists()


def test_create_zone_with_a_self_crossing_polygon_is_refused(operator_client, hd_camera):
    bow_tie = [{"x": 100, "y": 200}, {"x": 500, "y": 600}, {"x": 500, "y": 200}, {"x": 100, "y": 600}]
    response = operator_client.post(
        "/config/zones", zone_body(geometry={"type": "polygon", "points": bow_tie}), format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "crosses itself" in response.json()["errors"][0]["message"]
    assert not Zone.objects.exists()


def test_create_zone_with_a_lopsided_self_crossing_polygon_is_refused(operator_client, hd_camera):
    crossing = [{"x": 100, "y": 200}, {"x": 500, "y": 600}, {"x": 500, "y": 200}, {"x": 100, "y": 400}]
    response = operator_client.post(
        "/config/zones", zone_body(geometry={"type": "polygon", "points": crossing}), format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "crosses itself" in response.json()["errors"][0]["message"]


def test_create_zone_outside_the_cameras_resolution_is_refused(operator_client):
    CameraFactory(id="cam-small", width=640, height=360)
    response = operator_client.post("/config/zones", zone_body(camera_id="cam-small"), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "640x360" in response.json()["errors"][0]["message"]
    assert not Zone.objects.exists()


def test_create_zone_with_non_numeric_points_is_refused(operator_client, hd_camera):
    geometry = {"type": "polygon", "points": [{"x": "a", "y": 1}, {"x": 2, "y": 3}, {"x": 4, "y": 1}]}
    response = operator_client.post("/config/zones", zone_body(geometry=geometry), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_create_zone_for_an_unknown_camera_is_refused(operator_client):
    response = operator_client.post("/config/zones", zone_body(camera_id="cam-404"), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["camera_id"]
    assert not Zone.objects.exists()


def test_create_zone_with_an_unknown_type_is_refused(operator_client, hd_camera):
    response = operator_client.post("/config/zones", zone_body(type="moat"), format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["type"]


@pytest.fixture
def zones(db, hd_camera) -> list[Zone]:
    other = CameraFactory(id="cam-002")
    return [
        Zone.objects.create(id="zone-001", name="A", camera=hd_camera, geometry=SPEC_POLYGON),
        Zone.objects.create(id="zone-002", name="B", camera=other, geometry=SPEC_POLYGON),
        Zone.objects.create(id="zone-003", name="C", camera=hd_camera, geometry=SPEC_POLYGON),
    ]


def test_list_zones_answers_items_total_skip_limit(viewer_client, zones, django_assert_max_num_queries):
    for number in range(4, 30):
        Zone.objects.create(id=f"zone-{number:03d}", name="Z", camera=zones[0].camera, geometry=SPEC_POLYGON)
    with django_assert_max_num_queries(6):
        response = viewer_client.get("/config/zones")
    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (29, 0, 100)
    assert body["items"][0]["geometry"] == SPEC_POLYGON


def test_list_zones_filters_by_camera_id(viewer_client, zones):
    body = viewer_client.get("/config/zones", {"camera_id": "cam-001"}).json()
    assert [item["id"] for item in body["items"]] == ["zone-001", "zone-003"]
    assert body["total"] == 2


def test_get_unknown_zone_is_404(viewer_client):
    body = assert_003_error(viewer_client.get("/config/zones/zone-404"), 404, "RESOURCE_NOT_FOUND")
    assert body["detail"] == "Zone not found"


def test_update_zone_geometry(operator_client, zones):
    geometry = {
        "type": "polygon",
        "points": [{"x": 100, "y": 200}, {"x": 600, "y": 200}, {"x": 600, "y": 700}, {"x": 100, "y": 700}],
    }
    response = operator_client.put(
        "/config/zones/zone-001", {"name": "Entrance Zone (Updated)", "geometry": geometry}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["geometry"] == geometry
    zone = Zone.objects.get(pk="zone-001")
    assert (zone.name, zone.geometry) == ("Entrance Zone (Updated)", geometry)


def test_update_zone_with_an_invalid_geometry_changes_nothing(operator_client, zones):
    geometry = {"type": "polygon", "points": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}
    response = operator_client.put("/config/zones/zone-001", {"name": "X", "geometry": geometry}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    zone = Zone.objects.get(pk="zone-001")
    assert (zone.name, zone.geometry) == ("A", SPEC_POLYGON)


def test_update_zone_geometry_outside_the_frame_is_refused(operator_client, zones):
    geometry = {"type": "polygon", "points": [{"x": 0, "y": 0}, {"x": 2000, "y": 0}, {"x": 0, "y": 500}]}
    response = operator_client.put("/config/zones/zone-001", {"geometry": geometry}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_moving_a_zone_to_a_camera_whose_frame_it_does_not_fit_is_refused(operator_client, zones):
    CameraFactory(id="cam-small", width=320, height=240)
    response = operator_client.put("/config/zones/zone-001", {"camera_id": "cam-small"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["geometry"]
    assert Zone.objects.get(pk="zone-001").camera_id == "cam-001"


def test_moving_a_zone_to_a_camera_whose_frame_it_fits(operator_client, zones):
    response = operator_client.put("/config/zones/zone-001", {"camera_id": "cam-002"}, format="json")
    assert response.status_code == 200
    assert Zone.objects.get(pk="zone-001").camera_id == "cam-002"


def test_delete_zone_answers_204(admin_client, zones):
    response = admin_client.delete("/config/zones/zone-002")
    assert response.status_code == 204
    assert not Zone.objects.filter(pk="zone-002").exists()


def test_delete_unknown_zone_is_404(admin_client):
    assert_003_error(admin_client.delete("/config/zones/zone-404"), 404, "RESOURCE_NOT_FOUND")


# --- Sensors ---------------------------------------------------------------------------------------


def test_create_tpms_sensor(operator_client, hd_camera):
    response = operator_client.post(
        "/config/sensors",
        {
            "name": "TPMS Sensor - Camera 1",
            "type": "tpms",
            "camera_id": "cam-001",
            "zone_id": None,
            "config": TPMS_CONFIG,
            "metadata": {"description": "Tire pressure monitoring sensor"},
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == "sensor-001"
    assert (body["type"], body["camera_id"], body["zone_id"]) == ("tpms", "cam-001", None)
    assert body["config"] == TPMS_CONFIG


def test_create_barrier_sensor_in_a_zone(operator_client, zones):
    config = {"relay_pin": 17, "pulse_duration_ms": 500, "require_plate": True}
    response = operator_client.post(
        "/config/sensors",
        {
            "name": "Barrier - Entrance",
            "type": "barrier",
            "camera_id": "cam-001",
            "zone_id": "zone-001",
            "config": config,
        },
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["zone_id"], response.json()["config"]) == ("zone-001", config)


def test_create_rfid_sensor(operator_client):
    config = {"reader_port": "/dev/ttyUSB0", "protocol": "wiegand", "baudrate": 9600}
    response = operator_client.post(
        "/config/sensors", {"name": "Reader", "type": "rfid", "config": config}, format="json"
    )
    assert response.status_code == 201
    assert Sensor.objects.get(pk=response.json()["id"]).config == config


def test_create_sensor_with_a_text_baudrate_is_refused(operator_client):
    response = operator_client.post(
        "/config/sensors", {"name": "Reader", "type": "rfid", "config": {"baudrate": "fast"}}, format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["config"]
    assert "baudrate" in response.json()["errors"][0]["message"]
    assert not Sensor.objects.exists()


def test_create_tpms_sensor_with_pressure_min_not_below_max_is_refused(operator_client):
    config = {**TPMS_CONFIG, "threshold": {"pressure_min": 2.5, "pressure_max": 2.5}}
    response = operator_client.post("/config/sensors", {"name": "T", "type": "tpms", "config": config}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert "pressure_min" in response.json()["errors"][0]["message"]
    assert not Sensor.objects.exists()


def test_create_barrier_sensor_with_a_boolean_relay_pin_is_refused(operator_client):
    response = operator_client.post(
        "/config/sensors", {"name": "B", "type": "barrier", "config": {"relay_pin": True}}, format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_create_barrier_sensor_with_a_zero_pulse_is_refused(operator_client):
    response = operator_client.post(
        "/config/sensors", {"name": "B", "type": "barrier", "config": {"pulse_duration_ms": 0}}, format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")


def test_create_sensor_of_an_unknown_type_is_refused(operator_client):
    response = operator_client.post("/config/sensors", {"name": "S", "type": "laser"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["type"]


def test_create_sensor_in_an_unknown_zone_is_refused(operator_client):
    response = operator_client.post(
        "/config/sensors", {"name": "S", "type": "rfid", "zone_id": "zone-404"}, format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["zone_id"]
    assert not Sensor.objects.exists()


def test_create_sensor_on_an_unknown_camera_is_refused(operator_client):
    response = operator_client.post(
        "/config/sensors", {"name": "S", "type": "rfid", "camera_id": "cam-404"}, format="json"
    )
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["camera_id"]


@pytest.fixture
def sensors(db, hd_camera) -> list[Sensor]:
    return [
        Sensor.objects.create(id="sensor-001", name="T1", type="tpms", camera=hd_camera, config=TPMS_CONFIG),
        Sensor.objects.create(id="sensor-002", name="B1", type="barrier", camera=hd_camera),
        Sensor.objects.create(id="sensor-003", name="T2", type="tpms"),
    ]


def test_list_sensors_answers_items_total_skip_limit(viewer_client, sensors, django_assert_max_num_queries):
    for number in range(4, 30):
        Sensor.objects.create(id=f"sensor-{number:03d}", name="R", type="rfid", camera=sensors[0].camera)
    with django_assert_max_num_queries(6):
        response = viewer_client.get("/config/sensors")
    body = response.json()
    assert (body["total"], body["skip"], body["limit"]) == (29, 0, 100)


def test_list_sensors_filters_by_type(viewer_client, sensors):
    body = viewer_client.get("/config/sensors", {"type": "tpms"}).json()
    assert [item["id"] for item in body["items"]] == ["sensor-001", "sensor-003"]
    assert body["total"] == 2


def test_list_sensors_refuses_an_unknown_type_filter(viewer_client, sensors):
    assert_003_error(viewer_client.get("/config/sensors", {"type": "laser"}), 400, "VALIDATION_ERROR")


def test_update_sensor_threshold(operator_client, sensors):
    config = {"threshold": {"pressure_min": 1.9, "pressure_max": 2.4}}
    response = operator_client.put("/config/sensors/sensor-001", {"config": config}, format="json")
    assert response.status_code == 200
    assert Sensor.objects.get(pk="sensor-001").config == config


def test_update_sensor_with_an_inverted_threshold_changes_nothing(operator_client, sensors):
    config = {"threshold": {"pressure_min": 3.0, "pressure_max": 2.4}}
    response = operator_client.put("/config/sensors/sensor-001", {"config": config}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert Sensor.objects.get(pk="sensor-001").config == TPMS_CONFIG


def test_changing_a_sensors_type_revalidates_its_stored_config(operator_client, sensors):
    Sensor.objects.filter(pk="sensor-003").update(config={"relay_pin": "GPIO17"})
    response = operator_client.put("/config/sensors/sensor-003", {"type": "barrier"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert Sensor.objects.get(pk="sensor-003").type == "tpms"


def test_delete_sensor_answers_204(admin_client, sensors):
    assert admin_client.delete("/config/sensors/sensor-002").status_code == 204
    assert not Sensor.objects.filter(pk="sensor-002").exists()


def test_get_unknown_sensor_is_404(viewer_client):
    body = assert_003_error(viewer_client.get("/config/sensors/sensor-404"), 404, "RESOURCE_NOT_FOUND")
    assert body["detail"] == "Sensor not found"
