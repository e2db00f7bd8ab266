"""001's lists as its client filters them: the query parameters its spec names ("Query Params"), under the
spec's spelling, documented so in the OpenAPI document, and the snake_case spellings existing clients send still
read. Two rows of each list differ in every filtered field; each case says which one the filter keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from attendance.choices import OdooStatus
from attendance.models import AttendanceRecord
from tests.documented import openapi
from tests.factories import (
    AttendanceLogFactory,
    CameraFactory,
    DetectionEventLogFactory,
    DetectionFactory,
    FaceProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# ../shared/specs/001_*.md, each "Query Params" line, word for word.
SPEC_QUERY_PARAMS = {
    "/api/v1/users": {"role", "status", "search", "page", "pageSize"},
    "/api/v1/cameras": {"status", "streamType", "enabled", "search", "page", "pageSize"},
    "/api/v1/detections/live": {"cameraId", "limit"},
    "/api/v1/detections/events": {"status", "cameraId", "from", "to", "page", "pageSize"},
    "/api/v1/attendance/records": {"limit"},
    "/api/v1/attendance/logs": {"search", "cameraId", "dateFrom", "dateTo", "odooStatus", "page", "pageSize"},
    "/api/v1/faces": {"department", "search", "status", "page", "pageSize"},
}

EARLIER = datetime(2025, 11, 4, 8, 0, tzinfo=UTC)
LATER = EARLIER + timedelta(days=1)


@pytest.fixture
def two_of_each(admin_user):
    """Of each list, an "a" row and a "b" row that differ in every field 001 filters on ("b" is the later)."""
    UserFactory(email="sam@example.com", name="Sam Suspended", role_id="ROLE-VIEWER", status="suspended")
    cam_a = CameraFactory(id="CAM-A", name="North Door", status="online", enabled=True)
    cam_b = CameraFactory(id="CAM-B", name="South Yard", status="offline", enabled=False, stream_type="HTTP")
    DetectionFactory(camera=cam_a, timestamp=EARLIER)
    DetectionFactory(camera=cam_b, timestamp=LATER)
    DetectionEventLogFactory(camera=cam_a, timestamp=EARLIER, status="received")
    DetectionEventLogFactory(camera=cam_b, timestamp=LATER, status="error")
    AttendanceRecord.objects.create(person_id="EMP-A", name="Ada", timestamp=EARLIER, camera=cam_a)
    AttendanceRecord.objects.create(person_id="EMP-B", name="Bob", timestamp=LATER, camera=cam_b)
    AttendanceLogFactory(employee_id="EMP-A", camera=cam_a, day=date(2025, 11, 4), check_in=None)
    AttendanceLogFactory(employee_id="EMP-B", camera=cam_b, check_in=LATER, odoo_status=OdooStatus.SYNCED)
    FaceProfileFactory(employee_id="EMP-A", name="Ada", department="Research")
    FaceProfileFactory(employee_id="EMP-B", name="Bob", department="Sales", status="archived")


# The field that tells the rows apart in each list's answer.
KEY = {
    "/api/v1/users": "email",
    "/api/v1/cameras": "id",
    "/api/v1/detections/live": "cameraId",
    "/api/v1/detections/events": "cameraId",
    "/api/v1/attendance/records": "personId",
    "/api/v1/attendance/logs": "employeeId",
    "/api/v1/faces": "employeeId",
}

SPEC_FILTERS = [
    ("/api/v1/users", {"role": "ROLE-VIEWER"}, ["sam@example.com"]),
    ("/api/v1/users", {"status": "suspended"}, ["sam@example.com"]),
    ("/api/v1/users", {"search": "Sam"}, ["sam@example.com"]),
    ("/api/v1/users", {"page": "2", "pageSize": "1"}, ["sam@example.com"]),
    ("/api/v1/cameras", {"status": "offline"}, ["CAM-B"]),
    ("/api/v1/cameras", {"streamType": "HTTP"}, ["CAM-B"]),
    ("/api/v1/cameras", {"enabled": "false"}, ["CAM-B"]),
    ("/api/v1/cameras", {"search": "North"}, ["CAM-A"]),
    ("/api/v1/cameras", {"page": "2", "pageSize": "1"}, ["CAM-B"]),
    ("/api/v1/detections/live", {"cameraId": "CAM-A"}, ["CAM-A"]),
    ("/api/v1/detections/live", {"limit": "1"}, ["CAM-B"]),
    ("/api/v1/detections/events", {"status": "error"}, ["CAM-B"]),
    ("/api/v1/detections/events", {"cameraId": "CAM-A"}, ["CAM-A"]),
    ("/api/v1/detections/events", {"from": "2025-11-05T00:00:00Z"}, ["CAM-B"]),
    ("/api/v1/detections/events", {"to": "2025-11-04"}, ["CAM-A"]),
    ("/api/v1/detections/events", {"page": "2", "pageSize": "1"}, ["CAM-A"]),
    ("/api/v1/attendance/records", {"limit": "1"}, ["EMP-B"]),
    ("/api/v1/attendance/logs", {"search": "EMP-B"}, ["EMP-B"]),
    ("/api/v1/attendance/logs", {"cameraId": "CAM-A"}, ["EMP-A"]),
    ("/api/v1/attendance/logs", {"dateFrom": "2025-11-05"}, ["EMP-B"]),
    ("/api/v1/attendance/logs", {"dateTo": "2025-11-04"}, ["EMP-A"]),
    ("/api/v1/attendance/logs", {"odooStatus": "synced"}, ["EMP-B"]),
    ("/api/v1/attendance/logs", {"page": "2", "pageSize": "1"}, ["EMP-A"]),
    ("/api/v1/faces", {"department": "Sales"}, ["EMP-B"]),
    ("/api/v1/faces", {"search": "Ada"}, ["EMP-A"]),
    ("/api/v1/faces", {"status": "archived"}, ["EMP-B"]),
    ("/api/v1/faces", {"page": "2", "pageSize": "1"}, ["EMP-B"]),
]

# What clients already sent before the spec's spelling was documented: still read, the same way.
SNAKE_FILTERS = [
    ("/api/v1/cameras", {"stream_type": "HTTP"}, ["CAM-B"]),
    ("/api/v1/detections/events", {"camera_id": "CAM-A"}, ["CAM-A"]),
    ("/api/v1/detections/events", {"date_from": "2025-11-05T00:00:00Z"}, ["CAM-B"]),
    ("/api/v1/detections/events", {"date_to": "2025-11-04"}, ["CAM-A"]),
    ("/api/v1/attendance/logs", {"camera_id": "CAM-A"}, ["EMP-A"]),
    ("/api/v1/attendance/logs", {"date_from": "2025-11-05"}, ["EMP-B"]),
    ("/api/v1/attendance/logs", {"date_to": "2025-11-04"}, ["EMP-A"]),
    ("/api/v1/attendance/logs", {"odoo_status": "synced"}, ["EMP-B"]),
]


def _ids(cases):
    return [f"{path} {'&'.join(f'{k}={v}' for k, v in query.items())}" for path, query, _ in cases]


@pytest.mark.parametrize("path", sorted(SPEC_QUERY_PARAMS))
def test_the_document_names_each_query_parameter_as_the_spec_does(path):
    documented = {p["name"] for p in openapi()["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}

    assert SPEC_QUERY_PARAMS[path] <= documented


@pytest.mark.parametrize(("path", "query", "kept"), SPEC_FILTERS, ids=_ids(SPEC_FILTERS))
def test_each_spec_query_parameter_filters_the_list(admin_client, two_of_each, path, query, kept):
    response = admin_client.get(path, query)

    assert response.status_code == 200
    assert [item[KEY[path]] for item in response.json()["data"]] == kept


@pytest.mark.parametrize(("path", "query", "kept"), SNAKE_FILTERS, ids=_ids(SNAKE_FILTERS))
def test_the_snake_case_spelling_is_still_read(admin_client, two_of_each, path, query, kept):
    response = admin_client.get(path, query)

    assert response.status_code == 200
    assert [item[KEY[path]] for item in response.json()["data"]] == kept


def test_a_refusal_names_the_parameter_as_the_client_spelled_it(admin_client, two_of_each):
    spec = admin_client.get("/api/v1/detections/events", {"from": "yesterday"}).json()["error"]
    snake = admin_client.get("/api/v1/detections/events", {"date_from": "yesterday"}).json()["error"]

    assert (spec["code"], list(spec["details"]["fields"])) == ("VALIDATION_ERROR", ["from"])
    assert list(snake["details"]["fields"]) == ["dateFrom"]  # 001 camel-cases the names it reports
