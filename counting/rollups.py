"""Rebuilding the rollups from the raw rows, in bulk (a data load, or a repair after raw rows were edited).

Ingest keeps the rollups current row by row (``counting.ingest``); this is the set-based way to build them
for rows that arrived another way. The daily rollup is derived from the hourly one, so it stays exact for
days whose earliest hours were pruned from the raw table before the rebuild's range.

Only rebuild ranges whose raw rows are all still there: for hours already pruned by retention, the
rollups are the only record left, and a rebuild would replace them with what little the raw table holds.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from counting.analytics import hour_range


def rebuild_rollups(start: datetime | None = None, end: datetime | None = None) -> tuple[int, int]:
    """Recompute ``CountHourly`` for the whole UTC hours of ``[start, end)`` from the raw table, then
    ``CountDaily`` for every day those hours touch (whole days, from the hourly rollup). With neither bound,
    everything is rebuilt. Returns (hourly rows, daily rows) written."""
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    bounded = start is not None and end is not None
    if bounded:
        start, end = hour_range(start, end)
    params = {"start": start, "end": end}
    hours = "hour >= %(start)s AND hour < %(end)s" if bounded else "TRUE"
    stamps = "timestamp >= %(start)s AND timestamp < %(end)s" if bounded else "TRUE"
    # The days the range touches, whole: their other hours are read back from the hourly rollup.
    days = (
        "BETWEEN (%(start)s AT TIME ZONE 'UTC')::date "
        "AND ((%(end)s - interval '1 microsecond') AT TIME ZONE 'UTC')::date"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM counting_counthourly WHERE {hours}", params)
        cursor.execute(
            f"""
            INSERT INTO counting_counthourly
                (camera_id, hour, records, total, min_count, max_count, sum_confidence, updated_at)
            SELECT camera_id, date_trunc('hour', timestamp, 'UTC'), COUNT(*), SUM(count), MIN(count), MAX(count),
                   SUM(confidence), now()
            FROM counting_countrecord WHERE {stamps}
            GROUP BY 1, 2
            """,
            params,
        )
        hourly = cursor.rowcount
        cursor.execute(f"DELETE FROM counting_countdaily WHERE {'day ' + days if bounded else 'TRUE'}", params)
        cursor.execute(
            f"""
            INSERT INTO counting_countdaily
                (camera_id, day, records, total, min_count, max_count, sum_confidence, updated_at)
            SELECT camera_id, (hour AT TIME ZONE 'UTC')::date, SUM(records), SUM(total), MIN(min_count),
                   MAX(max_count), SUM(sum_confidence), now()
            FROM counting_counthourly
            WHERE {"(hour AT TIME ZONE 'UTC')::date " + days if bounded else "TRUE"}
            GROUP BY 1, 2
            """,
            params,
        )
        daily = cursor.rowcount
    return hourly, daily
