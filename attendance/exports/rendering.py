"""An export plan as a file: CSV written while the rows are read, or a PDF report.

CSV: a server-side cursor hands the rows over ``EXPORT_CHUNK_SIZE`` at a time and each is written out at
once, so a year of logs never sits in memory. A PDF is a titled report (filters, summary, tables) rendered
by WeasyPrint, which may fetch nothing: only ``data:`` URLs are allowed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.template.loader import render_to_string
from django.utils import timezone

from attendance.exports.plans import ExportPlan

# Rows fetched per round trip of the server-side cursor, and written between two progress updates.
EXPORT_CHUNK_SIZE = 2000
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ProgressCallback = Callable[[int, int], object]


def offline_url_fetcher():
    """WeasyPrint's fetcher limited to ``data:`` URLs: a report never reaches the network or the disk."""
    # Imported here: WeasyPrint loads Pango, which only the processes that render PDFs need.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value  # shown as text by spreadsheets, never evaluated
    return value


def csv_header(plan: ExportPlan) -> list[str]:
    """The CSV columns: one section's keys, or ``record`` then every section's keys in order."""
    if len(plan.sections) == 1:
        return [column.key for column in plan.sections[0].columns]
    keys: list[str] = ["record"]
    for section in plan.sections:
        keys.extend(column.key for column in section.columns if column.key not in keys)
    return keys


def csv_rows(plan: ExportPlan, *, chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[list[Any]]:
    """Each row of each section, read from a server-side cursor ``chunk_size`` rows at a time."""
    header = csv_header(plan)
    for section in plan.sections:
        positions = [header.index(column.key) for column in section.columns]
        for row in section.queryset.iterator(chunk_size=chunk_size):
            cells: list[Any] = [""] * len(header)
            if section.record:
                cells[0] = section.record
            for position, column in zip(positions, section.columns, strict=True):
                cells[position] = _cell(column.value(row))
            yield cells


def render_csv(
    plan: ExportPlan,
    target: IO[bytes],
    *,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> int:
    """Write the plan as UTF-8 CSV (with a BOM, for spreadsheets) into ``target``; returns the row count.

    Each row is written as soon as it is read; ``progress(done, total)`` is called after every chunk.
    """
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(csv_header(plan))
        done = 0
        for cells in csv_rows(plan, chunk_size=chunk_size):
            writer.writerow(cells)
            done += 1
            if progress and done % chunk_size == 0:
                progress(done, total if total is not None else done)
        return done
    finally:
        text.detach()  # leave ``target`` open for the caller


def render_pdf(plan: ExportPlan, target: IO[bytes], *, progress: ProgressCallback | None = None) -> int:
    """Render the plan as a PDF report (title, filters, summary, one table per section); returns the row count."""
    sections = []
    done = 0
    total = plan.total()
    for section in plan.sections:
        columns = [column for column in section.columns if column.in_pdf]
        rows = [
            [column.value(row) for column in columns] for row in section.queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE)
        ]
        done += len(rows)
        sections.append({"title": section.title, "labels": [column.label for column in columns], "rows": rows})
        if progress:
            progress(done, total)
    html = render_to_string(
        "attendance/export_report.html",
        {
            "title": plan.title,
            "generated_at": timezone.localtime(),
            "time_zone": timezone.get_current_timezone_name(),
            "filters": plan.filters,
            "summary": plan.summary(),
            "sections": sections,
        },
    )
    from weasyprint import HTML

    HTML(string=html, url_fetcher=offline_url_fetcher()).write_pdf(target)
    return done
