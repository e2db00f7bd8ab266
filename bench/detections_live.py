"""Live detections at scale: ``GET /detections/live`` from its cache, from its indexes, and from a plain table.

    .venv/bin/python bench/detections_live.py                      # 1,000,000 detections, 50 cameras, 90 days
    .venv/bin/python bench/detections_live.py --rows 200000 --runs 30

001 wants the live list in under 200 ms, behind a 3 s Redis cache. This measures what each layer is worth.

1. A scratch database (``argus_bench_detections``) is created on the same PostgreSQL server as the
   platform's (``DATABASE_URL``, or the embedded one) and migrated with ``manage.py migrate``.
2. ``--rows`` detections over ``--cameras`` cameras and the last 90 days are generated server-side
   (``INSERT ... SELECT ... FROM generate_series``) into the real ``recognition_detection`` table, in time
   order, cameras taking turns: about 70% of faces belong to one of 500 people (mostly authorized, some
   visitors), the rest are unknown; each row has a track id, a bounding box and a thumbnail key (signed on
   every read, as in production). For the load the table's indexes are dropped and rebuilt afterwards, and
   foreign-key triggers are skipped (``session_replication_role``); then the table is analyzed.
3. Timed, ``--runs`` times each after a warm-up, for all cameras and for one (``?cameraId=``): the HTTP
   endpoint through Django's test client as an admin (the whole middleware, JWT auth, rate-limit and
   usage-recording stack, in-process) with the cache warm (hits), the same with the cache invalidated before
   each call the way a new detection does (misses: the indexed query and the serialization), and the query
   alone (``recognition.detections``'s ORM query, evaluated). Then every index of the table but its primary
   key is dropped and the miss and the query are timed again (``--baseline-runs`` times): a plain table,
   read by a sequential scan and a top-N sort. Printed: p50 and p95 of each, the miss/hit and
   plain/indexed ratios, whether both tables give the same rows, and the plan nodes (``EXPLAIN ANALYZE``,
   timing off) of the indexed and the plain query with the rows each read.
4. The scratch database is dropped (``--keep`` leaves it, indexes rebuilt, for a second look).

The token-bucket rate limit stays on but is raised (``ARGUS_RATE_STANDARD``, unless set) so that repeated
calls are not refused. Runs against loopback servers only (the embedded ones, or local
``DATABASE_URL``/``REDIS_URL``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from scratch import percentile, run_in_scratch_database, setup_django, timed

BASE_DIR = Path(__file__).resolve().parent.parent
SCRATCH_DB = "argus_bench_detections"
DAYS = 90
PEOPLE = 500


def camera_id(n: int, cameras: int) -> str:
    return f"bench-cam-{n:0{camera_digits(cameras)}d}"


def camera_digits(cameras: int) -> int:
    return max(3, len(str(cameras - 1)))


# --- Parent: scratch database around a child process ------------------------------------------------------------


def parent(args: argparse.Namespace) -> int:
    return run_in_scratch_database(
        __file__,
        SCRATCH_DB,
        args.keep,
        extra_env={
            # The limiter still runs on every call (its cost is part of the figure); it just must not refuse them.
            "ARGUS_RATE_STANDARD": os.environ.get("ARGUS_RATE_STANDARD", "100000000")
        },
    )


# --- Child: load, then measure -----------------------------------------------------------------------------------


def table_indexes() -> list[tuple[str, str]]:
    """Every index of the detections table but its primary key, as (name, definition)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'recognition_detection' "
            "AND indexname NOT LIKE '%%pkey' ORDER BY indexname"
        )
        return cursor.fetchall()


def drop_indexes(indexes: list[tuple[str, str]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')


def build_indexes(indexes: list[tuple[str, str]]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)


def load(rows: int, cameras: int) -> list[tuple[str, str]]:
    from django.db import connection
    from django.utils import timezone

    from cameras.models import Camera

    Camera.objects.bulk_create(
        [Camera(id=camera_id(n, cameras), name=f"Bench camera {n}", location="bench") for n in range(cameras)]
    )
    end = timezone.now().replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    step = (end - start).total_seconds() / rows  # seconds between two detections, whatever the camera
    indexes = table_indexes()
    drop_indexes(indexes)
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SET session_replication_role = replica")  # no per-row foreign-key check
        # Cameras take turns; a track spans five consecutive faces of one camera. Known faces score high with a
        # small distance, unknown ones lower with a distance past any match threshold.
        cursor.execute(
            """
            INSERT INTO recognition_detection (id, profile_id, person_id, name, camera_id, confidence, distance,
                                               timestamp, track_id, bounding_box, thumbnail, status, source,
                                               event_id, created_at)
            SELECT gen_random_uuid(), NULL,
                   CASE WHEN known THEN 'EMP-' || lpad(person::text, 5, '0') ELSE '' END,
                   CASE WHEN known THEN 'Bench person ' || person ELSE '' END,
                   camera,
                   CASE WHEN known THEN 80 + random() * 20 ELSE 30 + random() * 40 END,
                   CASE WHEN known THEN random() * 0.35 ELSE 0.5 + random() * 0.5 END,
                   ts,
                   'TRACK-' || substr(md5(camera || ':' || (i / %(cameras)s / 5)), 1, 12),
                   jsonb_build_object('top', (random() * 600)::int, 'left', (random() * 1200)::int,
                                      'width', 80 + (random() * 160)::int, 'height', 100 + (random() * 200)::int),
                   'detections/' || camera || '/' || to_char(ts AT TIME ZONE 'UTC', 'YYYY/MM/DD') || '/'
                       || md5(i::text) || '.jpg',
                   CASE WHEN NOT known THEN 'unknown' WHEN person %% 10 = 0 THEN 'visitor' ELSE 'authorized' END,
                   'builtin', NULL, ts
            FROM (
                SELECT i,
                       'bench-cam-' || lpad((i %% %(cameras)s)::text, %(digits)s, '0') AS camera,
                       %(start)s::timestamptz + make_interval(secs => i * %(step)s) AS ts,
                       random() < 0.7 AS known,
                       (random() * (%(people)s - 1))::int AS person
                FROM generate_series(0, %(rows)s - 1) AS i
            ) s
            """,
            {
                "cameras": cameras,
                "digits": camera_digits(cameras),
                "rows": rows,
                "start": start,
                "step": step,
                "people": PEOPLE,
            },
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        print(f"generated {rows:,} detections in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    build_indexes(indexes)
    print(f"rebuilt {len(indexes)} indexes in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE recognition_detection")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('recognition_detection'))")
        size = cursor.fetchone()[0]
    print(f"vacuum analyze in {time.perf_counter() - started:.1f} s; table with indexes: {size}", flush=True)
    return indexes


def live_queryset(camera: str | None, limit: int):
    """The query ``recognition.detections.live_detections`` runs on a cache miss."""
    from recognition.models import Detection

    queryset = Detection.objects.all()
    if camera:
        queryset = queryset.filter(camera_id=camera)
    return queryset.order_by("-timestamp", "id")[:limit]


def plan(queryset) -> str:
    """The plan's nodes, outermost first (EXPLAIN ANALYZE without timing), with the rows each scan read."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params)
        document = cursor.fetchone()[0]
    root = (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]
    names = []

    def walk(node: dict) -> None:
        name = ("Parallel " if node.get("Parallel Aware") else "") + node["Node Type"]
        if node.get("Index Name"):
            name += f" using {node['Index Name']}"
        if node.get("Sort Method"):
            name += f" [{node['Sort Method']}]"
        if "Scan" in node["Node Type"]:
            # Per-loop averages: over parallel workers the product is approximate.
            loops = node.get("Actual Loops", 1)
            read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
            name += f" (read {'~' if loops > 1 else ''}{read:,.0f} rows)"
        names.append(name)
        for child_node in node.get("Plans", []):
            walk(child_node)

    walk(root)
    return " > ".join(names)


def detection_queries(fn) -> int:
    """How many queries on the detections table one call of ``fn`` makes (0 on a cache hit)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return sum(1 for query in captured.captured_queries if '"recognition_detection"' in query["sql"])


def measure(args: argparse.Namespace, indexes: list[tuple[str, str]]) -> bool:
    from django.test import Client

    from accounts.models import User
    from accounts.tokens import issue_tokens
    from recognition import detections

    limit = args.limit
    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench", role_id="ROLE-ADMIN")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    one = camera_id(min(7, args.cameras - 1), args.cameras)
    scopes = (("all", None), ("one", one))

    def http(camera: str | None) -> list[str]:
        params = {"limit": limit, **({"cameraId": camera} if camera else {})}
        response = client.get("/api/v1/detections/live", params)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert body["success"] and len(body["data"]) == limit, str(body)[:300]
        return [item["id"] for item in body["data"]]

    def query(camera: str | None) -> list[str]:
        return [str(d.id) for d in live_queryset(camera, limit)]

    # What a new detection does: the cached lists are no longer reachable. Run once now, so that nothing
    # cached by an earlier run under this Redis prefix is served.
    invalidate = detections._bump_live_version
    invalidate()

    def warm(camera: str | None):
        # The cache lives 3 s: fill it (or find it filled) right before each timed hit.
        return lambda: detections.live_detections(camera, limit)

    print()
    print(f"camera for one: {one}; limit {limit}; cache hits are refreshed and misses forced before each run")
    header = f"{'cameras':<8} {'what':<40} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9}"
    print(header)
    print("-" * len(header))
    figures: dict[tuple[str, str], list[float]] = {}
    results: dict[tuple[str, str], object] = {}

    def run(who: str, what: str, runs: int, fn, before=None) -> None:
        samples, result = timed(fn, runs, before)
        figures[who, what], results[who, what] = samples, result
        print(
            f"{who:<8} {what:<40} {runs:>5} {percentile(samples, 0.5):>9.2f} {percentile(samples, 0.95):>9.2f}",
            flush=True,
        )

    calls = {}
    for who, camera in scopes:
        run(who, "HTTP, cache hit", args.runs, lambda c=camera: http(c), warm(camera))
        run(who, "HTTP, cache miss (indexed)", args.runs, lambda c=camera: http(c), invalidate)
        run(who, "query alone (indexed)", args.runs, lambda c=camera: query(c))
        warm(camera)()
        hit_queries = detection_queries(lambda c=camera: http(c))
        invalidate()
        calls[who] = (hit_queries, detection_queries(lambda c=camera: http(c)))
    plans = {who: {"indexed": plan(live_queryset(camera, limit))} for who, camera in scopes}

    started = time.perf_counter()
    drop_indexes(indexes)
    print(
        f"-- dropped {len(indexes)} indexes ({', '.join(name for name, _ in indexes)}) "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    for who, camera in scopes:
        run(who, "HTTP, cache miss (plain table)", args.baseline_runs, lambda c=camera: http(c), invalidate)
        run(who, "query alone (plain table)", args.baseline_runs, lambda c=camera: query(c))
        plans[who]["plain"] = plan(live_queryset(camera, limit))
    if args.keep:
        build_indexes(indexes)

    def p50(who: str, what: str) -> float:
        return percentile(figures[who, what], 0.5)

    def p95(who: str, what: str) -> float:
        return percentile(figures[who, what], 0.95)

    print()
    print(f"{'cameras':<8} {'ratio':<40} {'p50':>9} {'p95':>9}")
    ratios = (
        ("miss/hit (HTTP, indexed)", "HTTP, cache miss (indexed)", "HTTP, cache hit"),
        ("plain/indexed (HTTP, cache miss)", "HTTP, cache miss (plain table)", "HTTP, cache miss (indexed)"),
        ("plain/indexed (query alone)", "query alone (plain table)", "query alone (indexed)"),
    )
    for who, _ in scopes:
        for label, top, bottom in ratios:
            print(
                f"{who:<8} {label:<40} {p50(who, top) / p50(who, bottom):>8.1f}x "
                f"{p95(who, top) / p95(who, bottom):>8.1f}x"
            )
    print()
    same_everywhere = True
    for who, _ in scopes:
        hit_queries, miss_queries = calls[who]
        indexed = results[who, "HTTP, cache miss (indexed)"]
        same = indexed == results[who, "HTTP, cache miss (plain table)"] == results[who, "query alone (indexed)"]
        same = same and indexed == results[who, "query alone (plain table)"] == results[who, "HTTP, cache hit"]
        same_everywhere = same_everywhere and same and hit_queries == 0 and miss_queries == 1
        print(
            f"cameras {who}: detection queries per call: hit {hit_queries}, miss {miss_queries}; "
            f"same {limit} rows from cache, indexes and plain table: {'yes' if same else 'NO'}"
        )
        print(f"  plan, indexed: {plans[who]['indexed']}")
        print(f"  plan, plain:   {plans[who]['plain']}")
    return same_everywhere


def child(args: argparse.Namespace) -> int:
    setup_django()
    started = time.perf_counter()
    indexes = load(args.rows, args.cameras)
    print(f"load total {time.perf_counter() - started:.1f} s", flush=True)
    return 0 if measure(args, indexes) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--limit", type=int, default=50, help="the endpoint's limit (001 default 50, at most 200)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each indexed case")
    parser.add_argument("--baseline-runs", type=int, default=30, help="timed runs of each plain-table case")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rows < 1 or args.cameras < 1 or not 1 <= args.limit <= 200 or args.runs < 1 or args.baseline_runs < 1:
        parser.error("--rows, --cameras, --runs and --baseline-runs must be positive, --limit 1..200")
    if args.rows < args.cameras * args.limit:
        parser.error("--rows must give every camera at least --limit detections")
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
