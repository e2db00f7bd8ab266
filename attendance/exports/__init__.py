"""Export jobs (001 ``export_jobs``): what each kind of export selects, and how it becomes a file.

Three kinds share one machinery: attendance logs (the filters of ``GET /attendance/logs``), the audit log
(the filters of ``GET /audit``) and one person's history (their attendance logs and detections). A job
stores its filters as the client sent them (validated, in the filter set's own spelling), and the Celery
task (``attendance.export_tasks.generate_export``) selects the rows again from them.

- :mod:`.plans`: what an export is (a plan of sections and columns) and the source interface;
- :mod:`.sources`: the attendance and person-history sources, and the registry of every source;
- :mod:`.audit`: the audit log's source;
- :mod:`.rendering`: CSV written while rows are read, and the PDF report;
- :mod:`.jobs`: a job's life: creation, who sees it, its stored file and signed download URL.
"""

from __future__ import annotations

from attendance.exports.jobs import (
    ABANDONED_MESSAGE,
    EXPORT_TTL,
    LOST_MESSAGE,
    create_export_job,
    download_url,
    fail_abandoned,
    fail_unqueued,
    owner_of,
    pdf_max_rows,
    requeue_lost,
    storage_key,
    visible_jobs,
    write_export,
)
from attendance.exports.plans import Column, ExportFilterError, ExportPlan, ExportSource, Section
from attendance.exports.rendering import (
    EXPORT_CHUNK_SIZE,
    csv_header,
    csv_rows,
    offline_url_fetcher,
    render_csv,
    render_pdf,
)
from attendance.exports.sources import ATTENDANCE_COLUMNS, SOURCES, source_for

__all__ = [
    "ABANDONED_MESSAGE",
    "ATTENDANCE_COLUMNS",
    "EXPORT_CHUNK_SIZE",
    "EXPORT_TTL",
    "LOST_MESSAGE",
    "SOURCES",
    "Column",
    "ExportFilterError",
    "ExportPlan",
    "ExportSource",
    "Section",
    "create_export_job",
    "csv_header",
    "csv_rows",
    "download_url",
    "fail_abandoned",
    "fail_unqueued",
    "offline_url_fetcher",
    "owner_of",
    "pdf_max_rows",
    "render_csv",
    "render_pdf",
    "requeue_lost",
    "source_for",
    "storage_key",
    "visible_jobs",
    "write_export",
]
