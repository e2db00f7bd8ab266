"""Issue 17: every query parameter the OpenAPI document gives a 001 operation is one the view reads, under the
documented name. The test walks the generated document: a parameter whose values are constrained (an enum, an
integer, a yes/no, a date) is sent with a value that must be refused, and the refusal (400, 001's format) must
name it as sent; a free-text parameter is sent with a value matching one seeded row (which must come back) and
with one matching nothing (which must leave nothing). A documented name the view does not read fails either
way: it is ignored, so nothing is refused and nothing filtered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from attendance.models import AttendanceRecord
from cameras.models import Zone
from config.api.contracts import Contract, contract_for_path
from config.models import SystemMetric
from integrations.models import OdooSyncLog
from recognition.models import UnknownCluster
from tests.documented import openapi
from tests.factories import (
    AlertFactory,
    AttendanceLogFactory,
    CameraFactory,
    DetectionEventLogFactory,
    DetectionFactory,
    FaceProfileFactory,
)

pytestmark = pytest.mark.django_db

NOTHING = "zz-matches-nothing"


def _schema(parameter: dict) -> dict:
    schema = parameter.get("schema", {})
    if "$ref" in schema:  # an enum drf-spectacular made a component of
        return openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _documented_query_parameters() -> list[tuple[str, str, str, dict]]:
    """(method, path, parameter name, its schema) of every query parameter of every 001 operation."""
    found = []
    for path, item in openapi()["paths"].items():
        if contract_for_path(path) != Contract.SPA:
            continue
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["in"] == "query":
                    found.append((method, path, parameter["name"], _schema(parameter)))
    return found


PARAMETERS = _documented_query_parameters()

# A value each kind of constrained parameter cannot take.
REFUSED = {"integer": "not-a-number", "boolean": "maybe", "date": "not-a-date", "date-time": "not-a-date"}


def _refused_value(schema: dict) -> str | None:
    if "enum" in schema:
        return "no-such-value"
    return REFUSED.get(schema.get("format")) or REFUSED.get(schema.get("type"))


# What a free-text parameter matches in the seeded rows (``seeded``), by parameter, or by path and parameter.
MATCHES = {
    "cameraId": "CAM-QP",
    "department": "Research",
    "employeeId": "EMP-QP",
    "search": "EMP-QP",
    "role": "ROLE-ADMIN",
    "actor": "auditor",
    "action": "camera.",
    "person": "EMP-QP",
    "resourceId": "CAM-QP",
    "resourceType": "camera",
    "zoneId": "zone-qp",
    "runId": "run-qp",
    "attendanceLogId": "ATT-QP",
    "label": "CPU usage",
    ("/api/v1/cameras", "search"): "Query Gate",
    ("/api/v1/audit", "search"): "auditor",
    ("/api/v1/users", "search"): "admin@example",
}
# Parameters read only beside another one (their description says so).
CONTEXT = {("/api/v1/system/health/metrics", "label"): {"history": "true"}}
PATH_VALUES = {"employee_id": "EMP-QP"}


@pytest.fixture
def seeded(admin_user):
    """One row of everything a 001 list answers, all about camera CAM-QP and person EMP-QP."""
    zone = Zone.objects.create(id="zone-qp", name="Gate", geometry={"type": "polygon", "points": []})
    camera = CameraFactory(id="CAM-QP", name="Query Gate", zone=zone)
    profile = FaceProfileFactory(employee_id="EMP-QP", name="Ada Query", department="Research")
    now = timezone.now()
    AlertFactory(camera=camera)
    AttendanceLogFactory(
        id="ATT-QP", employee_id="EMP-QP", name="Ada Query", department="Research", camera=camera, check_in=now
    )
    AttendanceRecord.objects.create(person_id="EMP-QP", name="Ada Query", timestamp=now, camera=camera)
    AuditLog.objects.create(
        actor="auditor@example.com",
        action="camera.update",
        resource_type="camera",
        resource_id="CAM-QP",
        context={"employee_id": "EMP-QP"},
        message="Renamed the gate camera",
    )
    DetectionEventLogFactory(camera=camera)
    DetectionFactory(camera=camera, profile=profile)
    OdooSyncLog.objects.create(
        employee_id="EMP-QP", result="success", action="create", attendance_log_id="ATT-QP", run_id="run-qp"
    )
    SystemMetric.objects.create(category="cpu", label="CPU usage", value=12.5, unit="%")
    UnknownCluster.objects.create(
        model="Dlib",
        dimension=128,
        centroid=[1.0] + [0.0] * 127,
        first_seen=now - timedelta(hours=1),
        last_seen=now,
        cameras=["CAM-QP"],
        count=1,
    )


def _url(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{path}: give its path parameters a value in PATH_VALUES"
    return path


def _count(body: dict) -> int:
    data = body["data"]
    if isinstance(data, list):
        return len(data)
    return data["totals"]["total"]  # attendance statistics: the logs counted


def test_every_001_operation_documents_its_query_parameters_in_camel_case():
    assert [(path, name) for _, path, name, _ in PARAMETERS if "_" in name] == []


@pytest.mark.parametrize(
    ("method", "path", "name", "schema"), PARAMETERS, ids=[f"{m.upper()} {p} {n}" for m, p, n, _ in PARAMETERS]
)
def test_the_view_reads_each_documented_query_parameter(admin_client, seeded, method, path, name, schema):
    assert method == "get", "a write documents a query parameter: probe it here"
    url, context = _url(path), CONTEXT.get((path, name), {})
    refused = _refused_value(schema)

    if refused is not None:
        response = admin_client.get(url, {**context, name: refused})

        assert response.status_code == 400, f"{name}={refused} was not refused: {response.status_code}"
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"  # 001's code
        assert name in error["details"]["fields"], f"the refusal names {list(error['details']['fields'])}"
    else:
        match = MATCHES.get((path, name), MATCHES.get(name))
        assert match is not None, f"{path} {name}: say in MATCHES what it matches in the seeded rows"
        matching = admin_client.get(url, {**context, name: match})
        unmatched = admin_client.get(url, {**context, name: NOTHING})

        assert (matching.status_code, unmatched.status_code) == (200, 200)
        assert _count(matching.json()) > 0, f"{name}={match} found nothing"
        assert _count(unmatched.json()) == 0, f"{name}={NOTHING} filtered nothing out"
