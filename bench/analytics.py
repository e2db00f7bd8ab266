"""Count analytics at scale: the rollup-backed analytics against the same aggregate over the raw table.

    .venv/bin/python bench/analytics.py                      # 10,000,000 rows, 100 cameras, one year
    .venv/bin/python bench/analytics.py --rows 1000000 --runs 20 --raw-runs 5

1. A scratch database (``argus_bench_analytics``) is created on the same PostgreSQL server as the
   platform's (``DATABASE_URL``, or the embedded one) and migrated with ``manage.py migrate``.
2. ``--rows`` count rows over ``--cameras`` cameras and the year 2025 are generated server-side
   (``INSERT ... SELECT ... FROM generate_series``) into the real ``counting_countrecord`` table, each
   camera reporting at a regular interval with a daily rhythm and noise. For the load, the table's
   indexes are dropped and rebuilt afterwards, and foreign-key triggers are skipped
   (``session_replication_role``): the same end state as row-by-row ingest, much faster. The rollups
   are then built in bulk (``counting.rollups.rebuild_rollups``: one ``INSERT ... SELECT ... GROUP BY``
   per rollup) and the tables are analyzed.
3. Timed, ``--runs`` times each after a warm-up, for a month (June) and the year, all cameras and one:
   the analytics service in-process (``counting.analytics.analytics``), the same with the daily rollup
   switched off (whole days read from the hourly rollup: why ``CountDaily`` exists), and the HTTP
   endpoint ``GET /api/v1/counts/analytics`` through Django's test client (the whole middleware, auth,
   rate-limit and usage-recording stack, in-process). The same aggregate over the raw table
   (``counting.analytics.raw_analytics``) is timed ``--raw-runs`` times. Printed: p50 and p95 of each,
   the raw/rollup ratio, and whether both give the same figures.
4. The scratch database is dropped (``--keep`` leaves it for a second look).

Runs against loopback servers only (the embedded ones, or local ``DATABASE_URL``/``REDIS_URL``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from scratch import percentile, run_in_scratch_database, setup_django, timed

BASE_DIR = Path(__file__).resolve().parent.parent
SCRATCH_DB = "argus_bench_analytics"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))


# --- Parent: scratch database around a child process ------------------------------------------------------------


def parent(args: argparse.Namespace) -> int:
    return run_in_scratch_database(__file__, SCRATCH_DB, args.keep)


# --- Child: load, then measure -----------------------------------------------------------------------------------


def load(rows: int, cameras: int) -> None:
    from django.db import connection

    from cameras.models import Camera
    from counting.rollups import rebuild_rollups

    Camera.objects.bulk_create(
        [Camera(id=f"bench-cam-{n:03d}", name=f"Bench camera {n}", location="bench") for n in range(cameras)]
    )
    per_camera = rows // cameras
    step = (YEAR_END - YEAR_START).total_seconds() / per_camera  # seconds between one camera's reports
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'counting_countrecord' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        started = time.perf_counter()
        # Rows in time order (as counters send them), each camera offset by a few seconds; the count
        # follows a daily rhythm (busy at midday UTC) with noise, the confidence is 0.5..1.
        cursor.execute("SET session_replication_role = replica")  # no per-row foreign-key check
        cursor.execute(
            """
            INSERT INTO counting_countrecord (camera_id, timestamp, count, confidence, image_url, source, zone_id,
                                              created_at)
            SELECT 'bench-cam-' || lpad((i %% %(cameras)s)::text, 3, '0'),
                   ts,
                   greatest(0, round(20 + 15 * sin(extract(hour FROM ts) / 24.0 * 2 * pi() - pi() / 2)
                                     + random() * 10 - 5))::int,
                   0.5 + random() * 0.5,
                   '', 'api', '', ts
            FROM (
                SELECT i, %(start)s::timestamptz
                          + make_interval(secs => (i / %(cameras)s) * %(step)s + (i %% %(cameras)s) * 0.01) AS ts
                FROM generate_series(0, %(rows)s - 1) AS i
            ) s
            """,
            {"cameras": cameras, "rows": per_camera * cameras, "start": YEAR_START, "step": step},
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        inserted = time.perf_counter() - started
        print(f"generated {per_camera * cameras:,} raw rows in {inserted:.1f} s", flush=True)
        started = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        print(f"rebuilt {len(indexes)} raw-table indexes in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    hourly, daily = rebuild_rollups()
    print(f"built rollups ({hourly:,} hourly, {daily:,} daily rows) in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("counting_countrecord", "counting_counthourly", "counting_countdaily"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('counting_countrecord'))")
        size = cursor.fetchone()[0]
    print(f"vacuum analyze in {time.perf_counter() - started:.1f} s; raw table with indexes: {size}", flush=True)


def same_figures(a: dict, b: dict) -> bool:
    def close(x, y) -> bool:
        if isinstance(x, float) or isinstance(y, float):
            return x is not None and y is not None and abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y))
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(close(x[k], y[k]) for k in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(close(i, j) for i, j in zip(x, y, strict=True))
        return x == y

    return close(a, b)


def measure(runs: int, raw_runs: int) -> None:
    from django.test import Client

    from accounts.models import User
    from accounts.tokens import issue_tokens
    from config.api.contracts import utc_iso
    from counting import analytics

    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench", role_id="ROLE-ADMIN")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")

    def http(start: datetime, end: datetime, camera: str | None):
        params = {"start_date": utc_iso(start), "end_date": utc_iso(end)}
        if camera:
            params["camera_id"] = camera
        response = client.get("/api/v1/counts/analytics", params)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    print()
    header = f"{'range':<7} {'cameras':<8} {'what':<34} {'runs':>4} {'p50 ms':>10} {'p95 ms':>10}"
    print(header)
    print("-" * len(header))
    summary = []
    for label, (start, end) in (("month", MONTH), ("year", (YEAR_START, YEAR_END))):
        for camera in (None, "bench-cam-042"):
            ids = [camera] if camera else None
            who = "all" if camera is None else "one"
            cases = [
                ("analytics service (rollups)", runs, lambda s=start, e=end, i=ids: analytics.analytics(s, e, i)),
                (
                    "service, hourly rollup only",
                    runs,
                    lambda s=start, e=end, i=ids: analytics.analytics(s, e, i, use_daily_rollup=False),
                ),
                ("HTTP GET /api/v1/counts/analytics", runs, lambda s=start, e=end, c=camera: http(s, e, c)),
                (
                    "same aggregate on the raw table",
                    raw_runs,
                    lambda s=start, e=end, i=ids: analytics.raw_analytics(s, e, i),
                ),
            ]
            results = {}
            for what, n, fn in cases:
                samples, result = timed(fn, n)
                results[what] = (samples, result)
                print(
                    f"{label:<7} {who:<8} {what:<34} {n:>4} {percentile(samples, 0.5):>10.1f} "
                    f"{percentile(samples, 0.95):>10.1f}",
                    flush=True,
                )
            rollup_samples, rollup_result = results["analytics service (rollups)"]
            http_samples, http_result = results["HTTP GET /api/v1/counts/analytics"]
            raw_samples, raw_result = results["same aggregate on the raw table"]
            summary.append(
                (
                    label,
                    who,
                    percentile(raw_samples, 0.5) / percentile(rollup_samples, 0.5),
                    percentile(raw_samples, 0.5) / percentile(http_samples, 0.5),
                    same_figures(rollup_result, raw_result) and same_figures(http_result, raw_result),
                )
            )
    print()
    print(f"{'range':<7} {'cameras':<8} {'raw/service p50':>16} {'raw/HTTP p50':>14}  same figures")
    for label, who, ratio_service, ratio_http, same in summary:
        print(f"{label:<7} {who:<8} {ratio_service:>15.0f}x {ratio_http:>13.0f}x  {'yes' if same else 'NO'}")
    if not all(item[4] for item in summary):
        sys.exit(1)


def child(args: argparse.Namespace) -> int:
    setup_django()
    started = time.perf_counter()
    load(args.rows, args.cameras)
    print(f"load total {time.perf_counter() - started:.1f} s", flush=True)
    measure(args.runs, args.raw_runs)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each rollup-backed case")
    parser.add_argument("--raw-runs", type=int, default=5, help="timed runs of each raw-table aggregate")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
