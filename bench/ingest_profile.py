"""Where one ``POST /events/ingest`` goes, in-process, through the ASGI application daphne serves
(``config.asgi``: the body limit, the pooled handler and its thread hop, every middleware, the view).

    .venv/bin/python bench/ingest_profile.py                  # CPU per event, then a cProfile
    .venv/bin/python bench/ingest_profile.py --runs 3000 --top 0

The same scratch data and API key as ``bench/request_path.py`` (its seed), production settings (DEBUG off,
``PROMETHEUS_MULTIPROC_DIR`` set), rate limits raised. Printed: the process's CPU per event (user + system,
every thread: what a daphne process would spend beyond the HTTP parsing), the SQL statements and Redis
commands one warm event costs, then the functions with the most cumulative and own time over ``--runs``
events. CPU time, unlike the wall clock, is left mostly alone by the machine's other load.
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
import asyncio  # noqa: E402
import concurrent.futures  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from bench.live_profile import redis_commands  # noqa: E402
from bench.request_path import BENCH_SECRET, RAISED_LIMIT, event_body, seed  # noqa: E402
from bench.scratch import run_in_scratch_database, setup_django  # noqa: E402

SCRATCH_DB = "argus_bench_ingest_profile"


class AsgiClient:
    """Calls the ASGI application as daphne does: one HTTP scope per request, the body in one message."""

    def __init__(self, application, key: str):
        self.application = application
        self.key = key.encode()
        self.loop = asyncio.new_event_loop()

    def post(self, body: bytes) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._post(body))

    async def _post(self, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/events/ingest",
            "raw_path": b"/events/ingest",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-api-key", self.key),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status, chunks = 0, []

        async def receive():
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.application(scope, receive, send)
        return status, b"".join(chunks)


def poster(key: str):
    from config.asgi import application

    client = AsgiClient(application, key)
    number = 0

    def post() -> None:
        nonlocal number
        number += 1
        status, content = client.post(event_body("profile", number))
        assert status == 202, (status, content[:300])

    return application, post


def callgrind_control(*arguments: str) -> None:
    """``callgrind_control`` on this process, which keeps running Python meanwhile (Callgrind answers between
    basic blocks: a process blocked waiting for the answer would never get it)."""
    command = subprocess.Popen(["callgrind_control", *arguments, str(os.getpid())], stdout=subprocess.DEVNULL)
    while command.poll() is None:
        time.sleep(0.005)  # wakes now and then, so Callgrind gets to answer; few instructions counted


def measure_under_callgrind(args) -> int:
    """The ``--callgrind`` run's inner process, under Callgrind: the instructions of ``--runs`` warm events."""
    setup_django()
    _application, post = poster(os.environ["ARGUS_BENCH_KEY"])
    for _ in range(50):
        post()
    callgrind_control("--zero")
    for _ in range(args.runs):
        post()
    callgrind_control("--dump=measured")
    return 0


def run_callgrind(args, key: str) -> None:
    out = tempfile.mkdtemp(prefix="argus-ingest-callgrind-")
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out.%p"]
    command += [sys.executable, os.path.abspath(__file__), "--child", "--measure", "--runs", str(args.runs)]
    subprocess.run(command, env={**os.environ, "ARGUS_BENCH_KEY": key}, check=True, stderr=subprocess.DEVNULL)
    dumps = [name for name in os.listdir(out) if name.endswith(".1")]  # the first dump: the measured events
    with open(os.path.join(out, dumps[0])) as dump:
        totals = next(int(line.split()[1]) for line in dump if line.startswith(("summary:", "totals:")))
    print(f"=== instructions per event (Callgrind, {args.runs} events): {totals / args.runs / 1e6:.2f} M ({out})")


STAGES = [  # (label, module, attribute): thread CPU inside each, nested stages included in their callers
    ("handler respond (pool thread)", "config.http_handler", "PooledASGIHandler.respond"),
    ("  middleware chain and view", "django.core.handlers.base", "BaseHandler.get_response"),
    ("    DRF dispatch", "rest_framework.views", "APIView.dispatch"),
    ("      DRF initial (auth, permissions, throttle)", "rest_framework.views", "APIView.initial"),
    ("        API key authentication", "accounts.authentication", "ApiKeyAuthentication.authenticate"),
    ("      view post", "anpr.api.views", "EventIngestView.post"),
    ("        request.data (JSON parse)", "rest_framework.request", "Request._load_data_and_files"),
    ("        validate_event", "anpr.ingest", "validate_event"),
    ("        store_event", "anpr.ingest", "store_event"),
    ("          insert", "anpr.ingest", "_insert"),
    ("      finalize_response", "rest_framework.views", "APIView.finalize_response"),
    ("    response render", "django.template.response", "SimpleTemplateResponse.render"),
    ("response close (pool thread)", "django.http.response", "HttpResponseBase.close"),
    ("  usage record", "config.api.usage", "_record_quietly"),
    ("signals sent (request_started, _finished, ...)", "django.dispatch.dispatcher", "Signal.send"),
    ("create_request", "django.core.handlers.asgi", "ASGIHandler.create_request"),
    ("psycopg Cursor.execute (every statement)", "psycopg", "Cursor.execute"),
    ("  connection health check (SELECT 1)", "django.db.backends.postgresql.base", "DatabaseWrapper.is_usable"),
    ("psycopg Connection.commit", "psycopg", "Connection.commit"),
    ("redis pipelines", "redis.client", "Pipeline.execute"),
]


def print_stages(post, events: int = 2000) -> None:
    """Thread CPU per event inside each of :data:`STAGES` (a wrapper per stage: a few calls, little cost)."""
    import importlib
    import inspect

    spent: dict[str, float] = {label: 0.0 for label, _, _ in STAGES}
    originals = []
    for label, module_name, attribute in STAGES:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        real = inspect.getattr_static(owner, name)

        def wrapped(*a, _real=real, _label=label, **k):
            began = time.thread_time()
            try:
                return _real(*a, **k)
            finally:
                spent[_label] += time.thread_time() - began

        if inspect.iscoroutinefunction(real):
            continue
        setattr(owner, name, wrapped)
        originals.append((owner, name, real))
    import threading

    def thread_cpu() -> dict[str, float]:
        ticks = os.sysconf("SC_CLK_TCK")
        seen = {}
        for thread in threading.enumerate():
            try:
                with open(f"/proc/self/task/{thread.native_id}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seen[thread.name] = seen.get(thread.name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
        return seen

    threads_before = thread_cpu()
    cpu = time.process_time()
    for _ in range(events):
        post()
    total = time.process_time() - cpu
    threads_after = thread_cpu()
    for owner, name, real in originals:
        setattr(owner, name, real)
    print(f"CPU per event by stage ({events} events, {total * 1000 / events:.3f} ms of process CPU each):")
    for label, _, _ in STAGES:
        print(f"  {label:<52} {spent[label] * 1000 / events:7.3f} ms")
    print("CPU per event by thread:")
    for name, after in sorted(threads_after.items()):
        used = after - threads_before.get(name, 0.0)
        if used:
            print(f"  {name:<52} {used * 1000 / events:7.3f} ms")


def child(args) -> int:
    if args.measure:
        return measure_under_callgrind(args)
    setup_django()
    _access, key = seed()
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    if args.callgrind:
        connections.close_all()
        run_callgrind(args, key)
        return 0
    application, post = poster(key)
    for _ in range(200):
        post()
    # One pool thread: the request's synchronous part runs there, where its queries are captured and profiled.
    handler = application.application_mapping["http"].app  # inside BodyLimit: the pooled handler
    handler.executor = one_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    for _ in range(20):
        post()
    capture = one_thread.submit(lambda: CaptureQueriesContext(connections["default"]).__enter__()).result()
    commands = redis_commands(post)
    one_thread.submit(capture.__exit__, None, None, None).result()
    print(f"{len(capture.captured_queries)} SQL statement(s):")
    for query in capture.captured_queries:
        print("   ", query["sql"][:200])
    print(f"{len(commands)} Redis round trip(s):")
    for command in commands:
        print("   ", command)

    from django.db.backends.base.base import BaseDatabaseWrapper

    connects = []
    connect = BaseDatabaseWrapper.connect
    BaseDatabaseWrapper.connect = lambda self: connects.append(1) or connect(self)
    for _ in range(100):
        post()
    BaseDatabaseWrapper.connect = connect
    print(f"{len(connects)} database connection(s) opened over 100 events")

    import gc

    collections = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started_at = [0.0]

    def timed_gc(phase, info):
        if phase == "start":
            started_at[0] = time.thread_time()
        else:
            collections[info["generation"]][0] += 1
            collections[info["generation"]][1] += time.thread_time() - started_at[0]

    gc.callbacks.append(timed_gc)
    for _ in range(1000):
        post()
    gc.callbacks.remove(timed_gc)
    print(
        "garbage collections over 1000 events: "
        + ", ".join(f"gen{g}: {n} ({t * 1000:.1f} ms CPU)" for g, (n, t) in collections.items())
        + f"; {len(gc.get_objects())} objects tracked"
    )

    if args.stages:
        print_stages(post)

    rounds = []
    for _ in range(args.repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.runs):
            post()
        rounds.append(((time.process_time() - cpu) * 1000 / args.runs, (time.perf_counter() - wall) * 1000 / args.runs))
    print("CPU ms per event by round: " + ", ".join(f"{cpu:.3f}" for cpu, _ in rounds))
    print(
        f"=== CPU per event: median {statistics.median(c for c, _ in rounds):.3f} ms, min"
        f" {min(c for c, _ in rounds):.3f} ms (wall median {statistics.median(w for _, w in rounds):.3f} ms)"
    )
    if args.top:
        # A profiler on each thread (the event loop's and the pool's) timing its CPU, the figures added up.
        profile, pool_profile = cProfile.Profile(time.thread_time), cProfile.Profile(time.thread_time)
        one_thread.submit(pool_profile.enable).result()
        profile.enable()
        for _ in range(args.runs):
            post()
        profile.disable()
        one_thread.submit(pool_profile.disable).result()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.add(pool_profile)
        if args.save:
            stats.dump_stats(args.save)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds of --runs events")
    parser.add_argument("--top", type=int, default=40, help="profile lines to print (0: no profile)")
    parser.add_argument("--callgrind", action="store_true", help="count instructions per event under Callgrind")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help="CPU per event inside the main stages")
    parser.add_argument("--save", help="write the profile here too (pstats format)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args)
    os.environ.setdefault("DJANGO_SECRET_KEY", BENCH_SECRET)
    metrics_dir = tempfile.mkdtemp(prefix="argus-ingest-profile-metrics-")
    return run_in_scratch_database(
        os.path.abspath(__file__),
        SCRATCH_DB,
        args.keep,
        extra_env={
            "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
            "DJANGO_DEBUG": "false",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "ARGUS_RATE_STANDARD": RAISED_LIMIT,
            "ARGUS_RATE_INGEST": RAISED_LIMIT,
            "ARGUS_INFERENCE_PROCESSES": "0",
            "ARGUS_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
