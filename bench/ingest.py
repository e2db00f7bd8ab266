"""Sustained ANPR ingest against a running server, compared with inserting the same rows directly.

    .venv/bin/python bench/ingest.py --url http://127.0.0.1:8011 --create-key --seconds 60 --clients 8

1. ``--clients`` threads (httpx, keep-alive) each post JSON events to ``POST /events/ingest`` for
   ``--seconds``; every event id starts with this run's prefix. Reported: accepted events per second and
   the p50/p95/p99 latency of accepted requests, and any other status by count.
2. The same number of rows, of the same shape, are inserted straight into a scratch copy of the events
   table (``CREATE TABLE ... (LIKE anpr_plateevent INCLUDING ALL)``: same columns and indexes) with
   psycopg, by ``executemany`` in one transaction and by ``COPY``, and each rate is set against the
   HTTP rate. The scratch table is dropped afterwards.
3. The run's stored events are counted: the count must equal the accepted count (exit status 1 if not).

The server is not started here. The rate limit of 003 (1000 ingest requests a minute per edge worker)
would cap the run at about 17 events/s, so start the server with a higher one for a benchmark, e.g.
``ARGUS_RATE_INGEST=100000000``. Only loopback addresses are accepted as ``--url``. The database is the
one the Django settings name (``DATABASE_URL``, or the embedded server), which must be the server's.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
MAX_REQUESTS_PER_CLIENT = 10_000_000  # a bound on every loop, far above what any run reaches
WARMUP_REQUESTS = 20
CAMERAS = ["cam-001", "cam-002", "cam-003", "cam-004"]
ZONES = ["zone-entrance", "zone-exit"]


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, accepted requests only
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # transport errors by type


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        sys.exit(f"--url must be a loopback address (127.0.0.0/8, ::1 or localhost), not {host!r}")


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # a developer's bench, not a deployment
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would swamp the report


def create_key(prefix: str) -> tuple[str, int]:
    from accounts.models import ApiKey

    raw = ApiKey.generate()
    key = ApiKey(name=f"bench {prefix}", scopes=["anpr:ingest"], tier="enterprise")
    key.set_key(raw)
    key.save()
    return raw, key.pk


def event_document(event_id: str, number: int) -> dict:
    from config.api.contracts import now_iso

    plate = f"{chr(65 + number % 26)}{chr(65 + number // 26 % 26)}{chr(65 + number // 676 % 26)}-{number % 1000:03d}"
    return {
        "event_id": event_id,
        "timestamp": now_iso(),
        "camera_id": CAMERAS[number % len(CAMERAS)],
        "zone_id": ZONES[number % len(ZONES)],
        "plate_text": plate,
        "confidence": round(0.6 + (number % 40) / 100, 2),
        "raw_candidates": [{"text": plate.replace("-", ""), "confidence": 0.9, "model": "paddle-ocr"}],
        "vehicle_info": {"color": "white", "type": "sedan", "confidence": 0.87},
        "metadata": {"edge_worker_id": "bench", "processing_time_ms": 245, "frame_number": number},
    }


def run_client(url: str, key: str, prefix: str, index: int, deadline: float, result: ClientResult) -> None:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    # trust_env=False: no proxy from the environment; the request goes to the loopback address given.
    with httpx.Client(base_url=url, headers=headers, timeout=30.0, trust_env=False) as client:
        for number in range(MAX_REQUESTS_PER_CLIENT):
            if time.perf_counter() >= deadline:
                break
            body = json.dumps(event_document(f"{prefix}-r-{index}-{number}", number * 31 + index))
            started = time.perf_counter()
            try:
                response = client.post("/events/ingest", content=body)
            except httpx.HTTPError as exc:
                result.failures[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            result.statuses[response.status_code] += 1
            if response.status_code == 202:
                result.latencies.append(elapsed)


def percentile(values: list[float], share: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def direct_rows(count: int, prefix: str) -> list[tuple]:
    """``count`` rows of the events table's shape, as the ingest service would write them."""
    from anpr.plates import normalize_plate, trigrams

    rows = []
    now = datetime.now(UTC)
    for number in range(count):
        document = event_document(f"{prefix}-direct-{number}", number)
        normalized = normalize_plate(document["plate_text"])
        rows.append(
            (
                document["event_id"],
                now,
                document["camera_id"],
                document["zone_id"],
                document["plate_text"],
                normalized,
                trigrams(normalized),
                document["confidence"],
                json.dumps(document["raw_candidates"]),
                json.dumps(document["vehicle_info"]),
                None,
                json.dumps(document["metadata"]),
                "",
                "",
                "",
                None,
                now,
            )
        )
    return rows


COLUMNS = (
    "event_id, timestamp, camera_id, zone_id, plate_text, plate_normalized, plate_trigrams, confidence, "
    "raw_candidates, vehicle_info, tpms_status, metadata, frame_key, crop_key, watchlist_match, "
    "watchlist_entry_id, created_at"
)


def direct_insert(count: int, prefix: str) -> dict[str, float]:
    """Rows per second inserting ``count`` rows into a scratch copy of the events table, two ways."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None, host=db["HOST"], port=db["PORT"]
    )
    scratch = f"anpr_bench_scratch_{os.getpid()}"
    rates: dict[str, float] = {}
    rows = direct_rows(count, prefix)
    placeholders = ", ".join(["%s"] * len(rows[0]))
    with psycopg.connect(conninfo, autocommit=True) as connection:
        try:
            for method in ("executemany", "copy"):
                connection.execute(f"DROP TABLE IF EXISTS {scratch}")
                connection.execute(f"CREATE TABLE {scratch} (LIKE anpr_plateevent INCLUDING ALL)")
                started = time.perf_counter()
                with connection.transaction(), connection.cursor() as cursor:
                    if method == "executemany":
                        cursor.executemany(f"INSERT INTO {scratch} ({COLUMNS}) VALUES ({placeholders})", rows)
                    else:
                        with cursor.copy(f"COPY {scratch} ({COLUMNS}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
                rates[method] = count / (time.perf_counter() - started)
                stored = connection.execute(f"SELECT count(*) FROM {scratch}").fetchone()[0]
                assert stored == count, f"{method}: {stored} rows in the scratch table, expected {count}"
        finally:
            connection.execute(f"DROP TABLE IF EXISTS {scratch}")
    return rates


def stored_count(prefix: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        # Only the timed run's events (not the warm-up's); event ids are [A-Za-z0-9._:-], none of which
        # is a LIKE wildcard, and the prefix ends in a dash, so no other run's ids can match.
        cursor.execute("SELECT count(*) FROM anpr_plateevent WHERE event_id LIKE %s", [f"{prefix}-r-%"])
        return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running server (loopback only)")
    parser.add_argument("--api-key", default=os.environ.get("ARGUS_BENCH_API_KEY", ""), help="a key with anpr:ingest")
    parser.add_argument(
        "--create-key", action="store_true", help="create an anpr:ingest key for this run (deleted after)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to post")
    parser.add_argument("--keep", action="store_true", help="keep the run's events (default: delete them at the end)")
    args = parser.parse_args(argv)
    loopback_only(args.url)
    if not 1 <= args.clients <= 256 or not 1 <= args.seconds <= 3600:
        parser.error("--clients must be 1-256 and --seconds 1-3600")
    setup_django()

    prefix = f"bench-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    key_id = None
    key = args.api_key
    if args.create_key:
        key, key_id = create_key(prefix)
    if not key:
        parser.error("give --api-key (or ARGUS_BENCH_API_KEY), or --create-key")

    try:
        with httpx.Client(base_url=args.url, headers={"X-API-Key": key}, timeout=10.0, trust_env=False) as client:
            for number in range(WARMUP_REQUESTS):
                response = client.post("/events/ingest", json=event_document(f"{prefix}-warmup-{number}", number))
                if response.status_code != 202:
                    sys.exit(f"warm-up request answered {response.status_code}: {response.text[:300]}")

        target = f"{args.url}/events/ingest"
        print(f"run {prefix}: {args.clients} clients posting JSON events to {target} for {args.seconds:g} s")
        results = [ClientResult() for _ in range(args.clients)]
        deadline = time.perf_counter() + args.seconds
        started = time.perf_counter()
        threads = [
            threading.Thread(target=run_client, args=(args.url, key, prefix, index, deadline, results[index]))
            for index in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        elapsed = time.perf_counter() - started

        latencies = sorted(latency for result in results for latency in result.latencies)
        statuses = sum((result.statuses for result in results), Counter())
        failures = sum((result.failures for result in results), Counter())
        accepted = statuses.get(202, 0)
        http_rate = accepted / elapsed
        print(f"  accepted (202): {accepted} in {elapsed:.1f} s = {http_rate:.1f} events/s")
        others = {status: count for status, count in sorted(statuses.items()) if status != 202}
        if others or failures:
            print(f"  other answers: {others or '-'}; transport errors: {dict(failures) or '-'}")
        if statuses.get(429):
            print("  (429: the server's ingest rate limit; start it with ARGUS_RATE_INGEST raised for a benchmark)")
        if latencies:
            print(
                "  latency of accepted requests: "
                f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms, "
                f"p99 {percentile(latencies, 99) * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
            )

        if accepted:
            rates = direct_insert(accepted, prefix)
            print(f"direct psycopg inserts of the same {accepted} rows into a scratch copy of anpr_plateevent:")
            for method, rate in rates.items():
                print(f"  {method:<12} {rate:10.1f} rows/s = {rate / http_rate:6.1f}x the HTTP ingest rate")

        stored = stored_count(prefix)
        print(f"stored events of this run: {stored}; accepted: {accepted}")
        if stored != accepted:
            print("MISMATCH: stored != accepted")
            return 1
        print("OK: stored == accepted")
        return 0
    finally:
        from django.db import connection

        if not args.keep:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM anpr_plateevent WHERE event_id LIKE %s", [f"{prefix}-%"])
        if key_id is not None:
            from accounts.models import ApiKey

            ApiKey.objects.filter(pk=key_id).delete()


if __name__ == "__main__":
    sys.exit(main())
