"""Export files: CSV and PDF hold exactly the rows the filters select, CSV streams, PDFs fetch nothing."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from attendance import exports
from attendance.choices import ExportFormat, ExportType
from attendance.models import AttendanceLog, ExportJob
from cameras.models import Camera
from tests.factories import AttendanceLogFactory, AuditLogFactory, CameraFactory, DetectionFactory, ExportJobFactory

pytestmark = pytest.mark.django_db


# --- Reading files back (imported by the other export tests) -------------------------------------------------


def stored_csv(job_or_key) -> list[dict[str, str]]:
    key = job_or_key if isinstance(job_or_key, str) else job_or_key.s3_key
    with default_storage.open(key, "rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode("utf-8-sig"))))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def stored_pdf_text(key: str) -> str:
    with default_storage.open(key, "rb") as handle:
        return pdf_text(handle.read())


def write(job: ExportJob, **kwargs) -> tuple[str, int]:
    return exports.write_export(job, **kwargs)


@pytest.fixture
def gate(db) -> Camera:
    return CameraFactory(id="CAM-EXP-1", name="Export Gate")


@pytest.fixture
def yard(db) -> Camera:
    return CameraFactory(id="CAM-EXP-2", name="Export Yard")


@pytest.fixture
def november(gate, yard) -> dict[str, AttendanceLog]:
    """Six logs: the filters of the tests below select the ``in_*`` ones."""
    return {
        "in_a": AttendanceLogFactory(employee_id="EMP-100", day=date(2025, 11, 3), camera=gate),
        "in_b": AttendanceLogFactory(employee_id="EMP-200", day=date(2025, 11, 4), camera=gate, status="late"),
        "in_c": AttendanceLogFactory(employee_id="EMP-300", day=date(2025, 11, 5), camera=gate),
        "other_camera": AttendanceLogFactory(employee_id="EMP-400", day=date(2025, 11, 4), camera=yard),
        "too_early": AttendanceLogFactory(employee_id="EMP-500", day=date(2025, 11, 2), camera=gate),
        "too_late": AttendanceLogFactory(employee_id="EMP-600", day=date(2025, 11, 6), camera=gate),
    }


NOVEMBER_FILTERS = {"cameraId": "CAM-EXP-1", "dateFrom": "2025-11-03", "dateTo": "2025-11-05"}


# --- CSV ---------------------------------------------------------------------------------------------------


def test_csv_holds_exactly_the_filtered_rows(november):
    job = ExportJobFactory(filters=NOVEMBER_FILTERS)

    key, rows = write(job)

    assert rows == 3
    assert [row["id"] for row in stored_csv(key)] == [november[k].id for k in ("in_a", "in_b", "in_c")]


def test_csv_with_no_filters_holds_every_row(november):
    key, rows = write(ExportJobFactory())

    assert rows == len(november)
    assert {row["employeeId"] for row in stored_csv(key)} == {log.employee_id for log in november.values()}


def test_csv_filtered_to_nothing_holds_only_the_header(november):
    key, rows = write(ExportJobFactory(filters={"employeeId": "EMP-NOBODY"}))

    assert rows == 0
    with default_storage.open(key, "rb") as handle:
        lines = handle.read().decode("utf-8-sig").splitlines()
    assert lines == [",".join(column.key for column in exports.ATTENDANCE_COLUMNS)]


def test_csv_columns_are_the_log_fields_of_001(gate):
    log = AttendanceLogFactory(
        employee_id="EMP-00412",
        day=date(2025, 11, 5),
        camera=gate,
        name="Sophia Martinez",
        department="Manufacturing",
        accuracy=98.5,
        odoo_status="synced",
    )

    key, _ = write(ExportJobFactory())

    (row,) = stored_csv(key)
    assert row == {
        "id": log.id,
        "employeeId": "EMP-00412",
        "name": "Sophia Martinez",
        "department": "Manufacturing",
        "date": "2025-11-05",
        "timeIn": timezone.localtime(log.check_in).strftime("%H:%M:%S"),
        "timeOut": timezone.localtime(log.check_out).strftime("%H:%M:%S"),
        "cameraId": "CAM-EXP-1",
        "cameraName": "Export Gate",
        "accuracy": "98.5",
        "status": "present",
        "odooStatus": "synced",
        "odooSyncTime": "",
    }


def test_csv_times_are_site_local(gate, settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"  # UTC+7: a 02:00 UTC check-in is 09:00 on site
    AttendanceLogFactory(employee_id="EMP-100", day=date(2025, 11, 5), camera=gate)

    key, _ = write(ExportJobFactory())

    assert stored_csv(key)[0]["timeIn"] == "09:00:00"


def test_csv_cells_that_look_like_formulas_are_written_as_text(gate):
    AttendanceLogFactory(
        employee_id="EMP-100", day=date(2025, 11, 5), camera=gate, name="=HYPERLINK(1)", department="@SUM(A1)"
    )

    key, _ = write(ExportJobFactory())

    row = stored_csv(key)[0]
    assert (row["name"], row["department"]) == ("'=HYPERLINK(1)", "'@SUM(A1)")


def test_csv_is_stored_under_the_exports_folder_of_its_type(november):
    job = ExportJobFactory()

    key, _ = write(job)

    assert key == f"exports/attendance/{job.pk}.csv"
    assert default_storage.exists(key)


# --- Streaming ---------------------------------------------------------------------------------------------


def test_csv_rows_are_read_through_a_server_side_cursor(november):
    plan = exports.source_for(ExportType.ATTENDANCE).plan({})
    rows = exports.csv_rows(plan, chunk_size=2)

    next(rows)  # the first row is in hand; the rest are still in the database
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_cursors WHERE statement ILIKE %s", ["%attendance_attendancelog%"])
        open_cursors = [statement for (statement,) in cursor.fetchall()]
    remaining = list(rows)

    assert len(open_cursors) == 1
    assert "DECLARE" in open_cursors[0].upper()
    assert len(remaining) == len(november) - 1


def test_csv_writes_each_row_as_soon_as_it_is_read(november):
    """Memory holds one row at a time: the file receives each row before the next one is read."""
    read = 0

    def counted(log):
        nonlocal read
        read += 1
        return log.employee_id

    class RecordingFile(io.BytesIO):
        def __init__(self):
            super().__init__()
            self.reads_at_write: list[int] = []

        def write(self, data):
            self.reads_at_write.append(read)
            return super().write(data)

    logs = AttendanceLog.objects.order_by("date", "id")
    plan = exports.ExportPlan(
        title="t",
        sections=(exports.Section("logs", (exports.Column("employeeId", "Employee", counted),), logs),),
        filters=(),
    )
    target = RecordingFile()

    rows = exports.render_csv(plan, target, chunk_size=2)

    assert rows == len(november)
    # header, then row n written when exactly n rows have been read
    assert target.reads_at_write == list(range(len(november) + 1))


def test_csv_progress_is_reported_after_every_chunk(november):
    calls: list[tuple[int, int]] = []
    plan = exports.source_for(ExportType.ATTENDANCE).plan({})

    exports.render_csv(
        plan, io.BytesIO(), chunk_size=2, progress=lambda done, total: calls.append((done, total)), total=6
    )

    assert calls == [(2, 6), (4, 6), (6, 6)]


# --- PDF ---------------------------------------------------------------------------------------------------


def test_pdf_holds_exactly_the_filtered_rows(november):
    key, rows = write(ExportJobFactory(format=ExportFormat.PDF, filters=NOVEMBER_FILTERS))

    text = stored_pdf_text(key)
    assert rows == 3
    for included in ("in_a", "in_b", "in_c"):
        assert november[included].employee_id in text
    for excluded in ("other_camera", "too_early", "too_late"):
        assert november[excluded].employee_id not in text


def test_pdf_has_a_title_the_filters_and_a_summary(november):
    key, _ = write(ExportJobFactory(format=ExportFormat.PDF, filters=NOVEMBER_FILTERS))

    text = stored_pdf_text(key)
    assert "Attendance report" in text
    assert "Filters" in text and "cameraId" in text and "CAM-EXP-1" in text and "2025-11-03" in text
    assert "Summary" in text
    assert "Attendance logs 3" in text
    assert "Late 1" in text and "Present 2" in text


def test_pdf_is_a_valid_document_stored_as_pdf(november):
    job = ExportJobFactory(format=ExportFormat.PDF)

    key, _ = write(job)

    assert key == f"exports/attendance/{job.pk}.pdf"
    with default_storage.open(key, "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_pdf_renderer_refuses_every_url_that_is_not_data():
    """The report's fetcher reaches nothing, not even a peer on localhost."""
    from weasyprint import HTML

    requests: list[str] = []

    class Peer(BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        html = f'<link rel="stylesheet" href="{base}/style.css"><img src="{base}/logo.png"><p>offline</p>'
        data = HTML(string=html, url_fetcher=exports.offline_url_fetcher()).write_pdf()
    finally:
        server.shutdown()
        server.server_close()

    assert requests == []
    assert "offline" in pdf_text(data)


def test_pdf_renderer_still_takes_data_urls():
    from weasyprint import HTML

    css = "data:text/css,p%3A%3Aafter%20%7B%20content%3A%20%22-embedded%22%20%7D"
    data = HTML(
        string=f'<link rel="stylesheet" href="{css}"><p>styles</p>', url_fetcher=exports.offline_url_fetcher()
    ).write_pdf()

    assert "styles-embedded" in pdf_text(data)


# --- Audit and person history ------------------------------------------------------------------------------


def test_audit_csv_holds_exactly_the_filtered_entries():
    moment = datetime(2025, 11, 5, 10, 0, tzinfo=UTC)
    wanted = AuditLogFactory(actor="ada", action="camera.update", message="a", severity="critical", timestamp=moment)
    AuditLogFactory(actor="ada", action="camera.update", message="b", severity="info", timestamp=moment)
    AuditLogFactory(
        actor="ada", action="camera.update", message="c", severity="critical", timestamp=moment - timedelta(days=30)
    )

    key, rows = write(
        ExportJobFactory(type=ExportType.AUDIT, filters={"severity": "critical", "date_from": "2025-11-01T00:00:00Z"})
    )

    assert rows == 1
    (row,) = stored_csv(key)
    assert (row["message"], row["severity"], row["timestamp"]) == (wanted.message, "critical", "2025-11-05T10:00:00Z")


def test_audit_pdf_holds_the_filtered_entries():
    moment = datetime(2025, 11, 5, 10, 0, tzinfo=UTC)
    AuditLogFactory(actor="ada", action="user.create", message="kept-entry", severity="warning", timestamp=moment)
    AuditLogFactory(actor="bob", action="user.create", message="other-entry", severity="warning", timestamp=moment)

    key, rows = write(ExportJobFactory(type=ExportType.AUDIT, format=ExportFormat.PDF, filters={"actor": "ada"}))

    text = stored_pdf_text(key)
    assert rows == 1
    assert "Audit log report" in text and "kept-entry" in text and "other-entry" not in text


def test_history_csv_holds_the_persons_logs_and_detections(gate, yard):
    log = AttendanceLogFactory(employee_id="EMP-7", day=date(2025, 11, 5), camera=gate)
    AttendanceLogFactory(employee_id="EMP-8", day=date(2025, 11, 5), camera=gate)
    seen = DetectionFactory(
        person_id="EMP-7", camera=yard, timestamp=datetime(2025, 11, 5, 3, 0, tzinfo=UTC), confidence=96.5
    )
    DetectionFactory(person_id="EMP-8", camera=yard, timestamp=datetime(2025, 11, 5, 3, 0, tzinfo=UTC))

    key, rows = write(ExportJobFactory(type=ExportType.HISTORY, filters={"employeeId": "EMP-7"}))

    assert rows == 2
    attendance_row, detection_row = stored_csv(key)
    assert (attendance_row["record"], attendance_row["date"], attendance_row["cameraId"]) == (
        "attendance",
        "2025-11-05",
        log.camera_id,
    )
    assert (detection_row["record"], detection_row["timestamp"], detection_row["cameraName"]) == (
        "detection",
        "2025-11-05T03:00:00Z",
        "Export Yard",
    )
    assert (detection_row["confidence"], detection_row["status"]) == (f"{seen.confidence:g}", "authorized")


def test_history_dates_select_site_local_days(gate, settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    # 18:00 UTC on the 4th is 01:00 on the 5th on site
    DetectionFactory(person_id="EMP-7", camera=gate, timestamp=datetime(2025, 11, 4, 18, 0, tzinfo=UTC))
    # 16:00 UTC on the 4th is 23:00 on the 4th on site
    DetectionFactory(person_id="EMP-7", camera=gate, timestamp=datetime(2025, 11, 4, 16, 0, tzinfo=UTC))

    key, rows = write(
        ExportJobFactory(type=ExportType.HISTORY, filters={"employeeId": "EMP-7", "dateFrom": "2025-11-05"})
    )

    assert rows == 1
    assert stored_csv(key)[0]["timestamp"] == "2025-11-04T18:00:00Z"


def test_history_pdf_has_a_table_per_record_kind(gate):
    AttendanceLogFactory(employee_id="EMP-7", day=date(2025, 11, 5), camera=gate, status="late")
    DetectionFactory(person_id="EMP-7", camera=gate, timestamp=datetime(2025, 11, 5, 3, 0, tzinfo=UTC))

    key, rows = write(
        ExportJobFactory(type=ExportType.HISTORY, format=ExportFormat.PDF, filters={"employeeId": "EMP-7"})
    )

    text = stored_pdf_text(key)
    assert rows == 2
    assert "Person history: EMP-7" in text
    assert "Attendance logs (1)" in text and "Detections (1)" in text
    assert "2025-11-05T03:00:00Z" in text
