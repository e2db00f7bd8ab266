"""Where one request of the live lists goes: ``GET /api/v1/detections/live`` and ``GET /api/v1/counts/realtime``
(and ``auth/me`` for reference) in-process, through Django's test client with the bench's data and JWT.

    .venv/bin/python bench/live_profile.py                 # timings, then a cProfile of each endpoint
    .venv/bin/python bench/live_profile.py --runs 2000 --top 40

The same scratch database and seed as ``bench/request_path.py``, production settings (DEBUG off), rate limits
raised. Printed per endpoint: p50/p95 of the in-process call, the SQL statements and Redis commands one warm
call makes, then the functions with the most cumulative and own time over ``--runs`` calls.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.getcwd()) != _HERE]
BASE_DIR = os.path.dirname(_HERE)
if BASE_DIR not in sys.path:
    sys.path.insert(0, BASE_DIR)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

from bench.request_path import BENCH_SECRET, RAISED_LIMIT, seed  # noqa: E402
from bench.scratch import percentile, run_in_scratch_database, setup_django  # noqa: E402

SCRATCH_DB = "argus_bench_live_profile"
PATHS = ["/api/v1/detections/live", "/api/v1/counts/realtime", "/api/v1/auth/me"]


def redis_commands(call) -> list[str]:
    """The Redis commands ``call`` sends (every client of redis-py goes through Connection.send_command)."""
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes | str) else b"".join(command))
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = spy
    try:
        call()
    finally:
        redis.connection.AbstractConnection.send_packed_command = original
    return [repr(command)[:160] for command in sent]


def child(args) -> int:
    setup_django()
    access, _key = seed()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {access}")
    for path in args.paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        for _ in range(20):
            client.get(path)
        with CaptureQueriesContext(connection) as queries:
            commands = redis_commands(lambda path=path: client.get(path))
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)  # a refusal is not what is timed
        print(f"\n=== {path}: p50 {percentile(samples, 0.5):.2f} ms, p95 {percentile(samples, 0.95):.2f} ms")
        print(f"{len(queries.captured_queries)} SQL statement(s):")
        for query in queries.captured_queries:
            print("   ", query["sql"][:200])
        print(f"{len(commands)} Redis round trip(s):")
        for command in commands:
            print("   ", command)
        if args.top:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.runs):
                client.get(path)
            profile.disable()
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--top", type=int, default=35, help="profile lines to print (0: no profile)")
    parser.add_argument("--paths", type=lambda raw: raw.split(","), default=PATHS)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args)
    os.environ.setdefault("DJANGO_SECRET_KEY", BENCH_SECRET)
    return run_in_scratch_database(
        os.path.abspath(__file__),
        SCRATCH_DB,
        args.keep,
        extra_env={
            "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "ARGUS_RATE_STANDARD": RAISED_LIMIT,
            "ARGUS_RATE_CAMERAS": RAISED_LIMIT,  # /api/v1/cameras has its own per-route limit (002)
            "ARGUS_LOG_LEVEL": "WARNING",
        },
    )


if __name__ == "__main__":
    sys.exit(main())
