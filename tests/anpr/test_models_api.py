"""003 ``/config/models``: the detector and OCR model registry (list with type filter, create, get, update, delete)."""

from __future__ import annotations

import pytest

from anpr.models import DetectionModel
from tests.anpr.conftest import assert_003_error, error_fields

pytestmark = pytest.mark.django_db

SPEC_DETECTOR = {
    "name": "YOLOv8 Vehicle Detector",
    "type": "detector",
    "version": "8.0.0",
    "weights_path": "/models/yolov8-vehicle.pt",
    "parameters": {"confidence_threshold": 0.5, "iou_threshold": 0.45, "input_size": 640, "framework": "PyTorch"},
    "metadata": {"description": "Vehicle detection model", "supported_devices": ["cpu", "cuda", "coral"]},
}
SPEC_OCR = {
    "name": "PaddleOCR Lithuanian",
    "type": "ocr",
    "version": "2.7.0",
    "weights_path": "/models/paddle-ocr-lt.tar.gz",
    "parameters": {"language": "lt", "confidence_threshold": 0.5, "framework": "PaddlePaddle"},
    "metadata": {"description": "OCR model optimized for Lithuanian plates"},
}
MODEL_KEYS = {"id", "name", "type", "version", "weights_path", "parameters", "metadata", "created_at", "updated_at"}


@pytest.fixture
def both(editor_client):
    return [editor_client.post("/config/models", body, format="json").json() for body in (SPEC_DETECTOR, SPEC_OCR)]


def test_create_answers_201_with_the_model_as_003_shows(editor_client):
    response = editor_client.post("/config/models", SPEC_DETECTOR, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == MODEL_KEYS
    assert body["id"] == "model-001"
    assert {key: body[key] for key in SPEC_DETECTOR} == SPEC_DETECTOR
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")


def test_created_models_are_numbered_in_turn(both):
    assert [model["id"] for model in both] == ["model-001", "model-002"]


def test_create_with_an_id_of_its_own(editor_client):
    response = editor_client.post("/config/models", {**SPEC_OCR, "id": "ocr-lt"}, format="json")
    assert response.json()["id"] == "ocr-lt"


def test_create_with_a_taken_id_is_409(editor_client, both):
    response = editor_client.post("/config/models", {**SPEC_OCR, "id": "model-001"}, format="json")
    assert_003_error(response, 409, "DUPLICATE_RESOURCE")


def test_list_answers_items_total_skip_limit(reader_client, both):
    body = reader_client.get("/config/models").json()
    assert [model["id"] for model in body["items"]] == ["model-001", "model-002"]
    assert (body["total"], body["skip"], body["limit"]) == (2, 0, 100)


def test_list_filtered_by_type(reader_client, both):
    body = reader_client.get("/config/models", {"type": "ocr"}).json()
    assert [model["name"] for model in body["items"]] == ["PaddleOCR Lithuanian"]
    assert body["total"] == 1


def test_list_with_an_unknown_type_is_400(reader_client, both):
    response = reader_client.get("/config/models", {"type": "segmenter"})
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["type"]


def test_list_runs_a_fixed_number_of_queries(reader_client, both, django_assert_max_num_queries):
    for number in range(20):
        DetectionModel.objects.create(id=f"extra-{number}", name="x", type="ocr")
    with django_assert_max_num_queries(4):
        assert reader_client.get("/config/models").json()["total"] == 22


def test_get_one_model(reader_client, both):
    assert reader_client.get("/config/models/model-002").json() == both[1]


def test_get_an_unknown_model_is_404(reader_client):
    body = assert_003_error(reader_client.get("/config/models/model-404"), 404, "RESOURCE_NOT_FOUND")
    assert body["detail"] == "Model not found"


def test_put_changes_only_what_it_sends(editor_client, both):
    response = editor_client.put(
        "/config/models/model-001", {"parameters": {"confidence_threshold": 0.6}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["parameters"] == {"confidence_threshold": 0.6}
    assert (body["name"], body["version"]) == (SPEC_DETECTOR["name"], "8.0.0")
    assert DetectionModel.objects.get(pk="model-001").parameters == {"confidence_threshold": 0.6}


def test_put_cannot_change_the_id(editor_client, both):
    editor_client.put("/config/models/model-001", {"id": "other", "version": "8.1.0"}, format="json")
    assert DetectionModel.objects.get(pk="model-001").version == "8.1.0"
    assert not DetectionModel.objects.filter(pk="other").exists()


def test_put_of_an_unknown_model_is_404(editor_client):
    assert_003_error(
        editor_client.put("/config/models/nope", {"version": "1"}, format="json"), 404, "RESOURCE_NOT_FOUND"
    )


def test_delete_answers_204_and_removes_it(editor_client, both):
    assert editor_client.delete("/config/models/model-001").status_code == 204
    assert list(DetectionModel.objects.values_list("pk", flat=True)) == ["model-002"]


def test_create_without_name_and_type_is_400_listing_both(editor_client):
    response = editor_client.post("/config/models", {"version": "1.0"}, format="json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert sorted(error_fields(response)) == ["name", "type"]


def test_create_with_an_unknown_type_is_400(editor_client):
    response = editor_client.post("/config/models", {**SPEC_OCR, "type": "classifier"}, format="json")
    assert error_fields(response) == ["type"]


def test_create_with_parameters_that_are_not_an_object_is_400(editor_client):
    response = editor_client.post("/config/models", {**SPEC_OCR, "parameters": [1, 2]}, format="json")
    assert error_fields(response) == ["parameters"]


def test_list_without_credentials_is_401(api_client):
    assert_003_error(api_client.get("/config/models"), 401, "AUTHENTICATION_FAILED")


def test_list_without_anpr_read_is_403(viewer_client):
    assert_003_error(viewer_client.get("/config/models"), 403, "FORBIDDEN")


def test_create_without_anpr_write_is_403(reader_client):
    assert_003_error(reader_client.post("/config/models", SPEC_OCR, format="json"), 403, "FORBIDDEN")
    assert not DetectionModel.objects.exists()


def test_delete_without_anpr_write_is_403(reader_client, both):
    assert_003_error(reader_client.delete("/config/models/model-001"), 403, "FORBIDDEN")


def test_changes_are_audited(editor_client):
    from accounts.models import AuditLog

    editor_client.post("/config/models", SPEC_OCR, format="json")
    assert AuditLog.objects.filter(resource_type="anpr-model", resource_id="model-001").exists()
