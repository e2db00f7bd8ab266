"""The request path: Argus's common endpoints against a bare Django view, under daphne, 1 and 2 processes.

    .venv/bin/python bench/request_path.py                       # about 2.5 minutes
    .venv/bin/python bench/request_path.py --seconds 8 --processes 1
    .venv/bin/python bench/request_path.py --processes 1 --endpoints ingest,live,realtime,cameras

1. A scratch database (``argus_bench_http``) is created beside the platform's (``DATABASE_URL`` or the
   embedded server) and migrated; in it an admin (with a JWT access token), an enterprise API key with
   ``anpr:ingest``, 20 cameras, 2,000 detections and 1,000 counts.
2. For each process count, two web tiers start side by side on loopback, both ``config.webtier`` (one
   listening socket, N daphne processes): Argus (``config.asgi``) and ``bench/bare_app.py`` (one Django
   view answering a small JSON document: no middleware, no database). Both run as in production
   (``DJANGO_DEBUG=false``, ``PROMETHEUS_MULTIPROC_DIR`` set), with the rate limits raised for the run
   (the buckets are still taken; they just never run dry) and no TLS redirect.
3. The same client drives each: ``--clients`` keep-alive connections (``http.client``, spread over two
   client processes so one interpreter's GIL does not cap the load), for ``--warmup`` seconds untimed,
   then ``--seconds`` counted. Per endpoint: requests per second answered with the expected status,
   p50/p95 latency, any other status by count, and the rate as a share of the bare view's (measured
   before and after the Argus endpoints in the same run; their mean is the floor).
   ``GET /api/v1/auth/me`` (JWT), ``POST /events/ingest`` (API key, a new event each time),
   ``GET /api/v1/detections/live``, ``GET /api/v1/cameras``, ``GET /api/v1/counts/realtime`` (JWT).
4. Printed at the end: the 2-process/1-process rate per endpoint and issue 19's goals, met or not.

Client and servers share this machine's cores, as do PostgreSQL and Redis: read the ratios, not the rates.
Loopback servers only. The scratch database is dropped afterwards (``--keep`` leaves it).
"""

from __future__ import annotations

import os
import sys

# The project is imported from its root (``bench.bare_app``, the apps): the root goes first on the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.getcwd()) != _HERE]
BASE_DIR = os.path.dirname(_HERE)
if BASE_DIR not in sys.path:
    sys.path.insert(0, BASE_DIR)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from bench.scratch import percentile, run_in_scratch_database, setup_django  # noqa: E402

SCRATCH_DB = "argus_bench_http"
BENCH_SECRET = "bench-http-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"  # signs the JWT too
RAISED_LIMIT = "100000000"  # per minute: the buckets are still taken, never emptied
CLIENT_PROCESSES = 2
MAX_REQUESTS_PER_CLIENT = 10_000_000  # a bound on every loop, far above what any run reaches
CAMERAS = 20


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    expected: int
    credential: str  # "jwt", "key" or "none"
    body: str | None = None  # "event": a new ANPR event per request


ENDPOINTS = [
    Endpoint("GET /api/v1/auth/me", "GET", "/api/v1/auth/me", 200, "jwt"),
    Endpoint("POST /events/ingest", "POST", "/events/ingest", 202, "key", body="event"),
    Endpoint("GET /api/v1/detections/live", "GET", "/api/v1/detections/live", 200, "jwt"),
    Endpoint("GET /api/v1/cameras", "GET", "/api/v1/cameras", 200, "jwt"),
    Endpoint("GET /api/v1/counts/realtime", "GET", "/api/v1/counts/realtime", 200, "jwt"),
]
BARE = Endpoint("bare view", "GET", "/bare", 200, "none")
# --endpoints names them by their path's last segment.
ENDPOINT_NAMES = {endpoint.path.rsplit("/", 1)[-1]: endpoint for endpoint in ENDPOINTS}


@dataclass
class Measured:
    count: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the web servers' CPU (user + system) over the counted window
    # The sum over clients of each one's answered requests per second of its own counted time, which runs from
    # the moment it turned to this target to the end of its last request there (a slow request finishing
    # after its turn is not charged to the next target's turn).
    client_rate: float | None = None
    latencies: list[float] = field(default_factory=list)  # ms, expected status only
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        if self.client_rate is not None:
            return self.client_rate
        return self.count / self.seconds if self.seconds else 0.0

    def p(self, share: float) -> float:
        return percentile(self.latencies, share) if self.latencies else float("nan")

    @property
    def cpu_ms(self) -> float:
        """Server CPU per answered request: what a request costs, whatever else the machine was doing."""
        answered = sum(self.statuses.values())
        return self.cpu_seconds * 1000 / answered if answered else float("nan")


# --- The client ------------------------------------------------------------------------------------------


def event_body(prefix: str, number: int) -> bytes:
    plate = f"{chr(65 + number % 26)}{chr(65 + number // 26 % 26)}{chr(65 + number // 676 % 26)}-{number % 1000:03d}"
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    document = {
        "event_id": f"{prefix}-{number}",
        "timestamp": stamp,
        "camera_id": f"cam-{number % 4:03d}",
        "zone_id": "zone-entrance",
        "plate_text": plate,
        "confidence": 0.91,
        "raw_candidates": [{"text": plate.replace("-", ""), "confidence": 0.9, "model": "paddle-ocr"}],
        "vehicle_info": {"color": "white", "type": "sedan", "confidence": 0.87},
        "metadata": {"edge_worker_id": "bench", "processing_time_ms": 245, "frame_number": number},
    }
    return json.dumps(document).encode()


@dataclass(frozen=True)
class Slice:
    """A stretch of the run in which every client drives one target."""

    label: str  # "bare" or "argus"
    port: int
    endpoint: Endpoint
    start: float  # epoch seconds
    end: float
    counted: bool


def schedule(bare_port: int, argus_port: int, endpoint: Endpoint, warmup: float, seconds: float, rounds: int):
    """Bare and Argus take turns (``rounds`` times each, after an uncounted turn each to warm up), so both meet
    the same background load on this shared machine; each gets ``seconds`` counted in all."""
    slices = []
    at = time.time() + 1.5  # the client processes are up by then
    turns = [(False, warmup / 2)] + [(True, seconds / rounds)] * rounds
    for counted, length in turns:
        for label, port, target in (("bare", bare_port, BARE), ("argus", argus_port, endpoint)):
            slices.append(Slice(label, port, target, at, at + length, counted))
            at += length
    return slices


def client_thread(slices, headers_by_label, prefix, out: dict[str, Measured]) -> None:
    connections: dict[int, http.client.HTTPConnection] = {}
    number = 0
    for part in slices:
        conn = connections.get(part.port) or http.client.HTTPConnection("127.0.0.1", part.port, timeout=30)
        connections[part.port] = conn
        time.sleep(max(0.0, part.start - time.time()))
        began = last_end = time.time()  # the previous turn's last request may have ended after part.start
        headers = headers_by_label[part.label]
        result = out[part.label]
        while number < MAX_REQUESTS_PER_CLIENT and time.time() < part.end:
            number += 1
            body = event_body(prefix, number) if part.endpoint.body == "event" else None
            started = time.perf_counter()
            try:
                conn.request(part.endpoint.method, part.endpoint.path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                if part.counted:
                    result.errors[type(exc).__name__] += 1
                conn.close()
                conn = connections[part.port] = http.client.HTTPConnection("127.0.0.1", part.port, timeout=30)
                continue
            last_end = time.time()
            if not part.counted:
                continue
            result.statuses[response.status] += 1
            if response.status == part.endpoint.expected:
                result.count += 1
                result.latencies.append((time.perf_counter() - started) * 1000)
        if part.counted:
            result.seconds += last_end - began
    for conn in connections.values():
        conn.close()


def client_process(slices, headers_by_label, prefix, threads, queue) -> None:
    results = [{"bare": Measured(), "argus": Measured()} for _ in range(threads)]
    workers = [
        threading.Thread(target=client_thread, args=(slices, headers_by_label, f"{prefix}-{n}", results[n]))
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = {}
    for label in ("bare", "argus"):
        count, latencies, statuses, errors, rate = 0, [], Counter(), Counter(), 0.0
        for result in results:
            count += result[label].count
            latencies.extend(result[label].latencies)
            statuses.update(result[label].statuses)
            errors.update(result[label].errors)
            rate += result[label].count / result[label].seconds if result[label].seconds else 0.0
        merged[label] = (count, latencies, dict(statuses), dict(errors), rate)
    queue.put(merged)


def drive(tiers: dict, endpoint: Endpoint, headers: dict, args) -> dict[str, Measured]:
    """``args.clients`` keep-alive connections, bare and Argus (``endpoint``) taking turns; by label."""
    slices = schedule(tiers["bare"][1], tiers["argus"][1], endpoint, args.warmup, args.seconds, args.rounds)
    headers_by_label = {"bare": {}, "argus": headers}
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    clients = args.clients
    shares = [
        clients // CLIENT_PROCESSES + (1 if n < clients % CLIENT_PROCESSES else 0) for n in range(CLIENT_PROCESSES)
    ]
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    processes = [
        context.Process(target=client_process, args=(slices, headers_by_label, f"{prefix}-{n}", share, queue))
        for n, share in enumerate(shares)
        if share
    ]
    for process in processes:
        process.start()
    measured = {label: Measured(client_rate=0.0) for label in ("bare", "argus")}
    # Each tier's CPU over its own counted turns (the other tier idles meanwhile).
    for part in slices:
        time.sleep(max(0.0, part.start - time.time()))
        cpu_before = server_cpu(tiers[part.label][0])
        time.sleep(max(0.0, part.end - time.time()))
        if part.counted:
            measured[part.label].cpu_seconds += server_cpu(tiers[part.label][0]) - cpu_before
            measured[part.label].seconds += part.end - part.start
    for _ in processes:
        merged = queue.get(timeout=120)
        for label, (count, latencies, statuses, errors, rate) in merged.items():
            measured[label].client_rate += rate
            measured[label].count += count
            measured[label].latencies.extend(latencies)
            measured[label].statuses.update(statuses)
            measured[label].errors.update(errors)
    for process in processes:
        process.join(timeout=30)
    return measured


# --- Servers ---------------------------------------------------------------------------------------------


def server_cpu(tier: subprocess.Popen) -> float:
    """CPU seconds (user + system) the tier's servers have used so far."""
    import psutil

    total = 0.0
    for server in psutil.Process(tier.pid).children():
        try:
            times = server.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_tier(application: str, processes: int, env: dict, cwd: str = BASE_DIR) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "config.webtier", "--processes", str(processes), "-b", "127.0.0.1"]
    command += ["-p", str(port), "-v", "0", application]
    tier = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return tier, port


def wait_ready(tier: subprocess.Popen, port: int, path: str, processes: int) -> None:
    """Until ``path`` answers on as many fresh connections as it takes to have reached every process."""
    deadline = time.monotonic() + 90
    answered = 0
    while time.monotonic() < deadline:
        if tier.poll() is not None:
            sys.exit(f"web tier exited with {tier.returncode}: {tier.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            answered += 1
            if answered >= 4 * processes:
                return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"web tier on port {port} not ready in 90 s")


def stop_tier(tier: subprocess.Popen) -> None:
    tier.send_signal(signal.SIGTERM)
    try:
        tier.wait(timeout=30)
    except subprocess.TimeoutExpired:
        tier.kill()
        tier.wait()


# --- Data ------------------------------------------------------------------------------------------------


def seed() -> tuple[str, str]:
    """The admin's access token and the API key; cameras, detections and counts to read."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import ApiKey, User
    from accounts.tokens import issue_tokens
    from cameras.models import Camera
    from counting.models import CountRecord

    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench", role_id="ROLE-ADMIN")
    access = issue_tokens(user).access
    raw = ApiKey.generate()
    key = ApiKey(name="bench http", scopes=["anpr:ingest"], tier="enterprise")
    key.set_key(raw)
    key.save()
    Camera.objects.bulk_create(
        [Camera(id=f"bench-cam-{n:03d}", name=f"Bench camera {n}", location="bench") for n in range(CAMERAS)]
    )
    now = timezone.now()
    CountRecord.objects.bulk_create(
        [
            CountRecord(
                camera_id=f"bench-cam-{n % CAMERAS:03d}",
                timestamp=now - timedelta(minutes=n),
                count=n % 40,
                confidence=0.9,
            )
            for n in range(1000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO recognition_detection (id, profile_id, person_id, name, camera_id, confidence, distance,
                                               timestamp, track_id, bounding_box, thumbnail, status, source,
                                               event_id, created_at)
            SELECT gen_random_uuid(), NULL, 'EMP-' || lpad((i %% 50)::text, 5, '0'), 'Bench person ' || (i %% 50),
                   'bench-cam-' || lpad((i %% %(cameras)s)::text, 3, '0'), 90, 0.2,
                   now() - make_interval(secs => i * 30), 'TRACK-' || (i / 5),
                   '{"top": 10, "left": 20, "width": 100, "height": 120}'::jsonb,
                   'detections/bench/' || md5(i::text) || '.jpg', 'authorized', 'builtin', NULL, now()
            FROM generate_series(0, 1999) AS i
            """,
            {"cameras": CAMERAS},
        )
    return access, raw


# --- The run ---------------------------------------------------------------------------------------------


def server_env(metrics_dir: str) -> dict:
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "ARGUS_RATE_STANDARD": RAISED_LIMIT,
        "ARGUS_RATE_INGEST": RAISED_LIMIT,
        "ARGUS_RATE_ANONYMOUS": RAISED_LIMIT,
        "ARGUS_RATE_CAMERAS": RAISED_LIMIT,  # /api/v1/cameras has its own per-route limit (002)
        "ARGUS_INFERENCE_PROCESSES": "0",  # no face calls here: no inference workers beside each server
        "ARGUS_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
    }


def line(name: str, processes: int, measured: Measured, bare: Measured | None) -> str:
    share = f"{measured.rate / bare.rate * 100:5.1f} %" if bare and bare.rate else "    -  "
    cpu_share = f"{bare.cpu_ms / measured.cpu_ms * 100:5.1f} %" if bare else "    -  "
    other = {k: v for k, v in measured.statuses.items() if k not in (200, 202)}
    extra = f"  other: {other}" if other else ""
    extra += f"  errors: {dict(measured.errors)}" if measured.errors else ""
    return (
        f"{name:<30} {processes:>2}  {measured.rate:8.1f}  {measured.p(0.5):7.1f}  {measured.p(0.95):7.1f}  "
        f"{share}  {measured.cpu_ms:7.2f}  {cpu_share}{extra}"
    )


def child(args: argparse.Namespace) -> int:
    setup_django()
    access, key = seed()
    from django.db import connections

    connections.close_all()
    headers = {
        "jwt": {"Authorization": f"Bearer {access}"},
        "key": {"X-API-Key": key, "Content-Type": "application/json"},
        "none": {},
    }
    results: dict[tuple[str, int], Measured] = {}
    floors: dict[tuple[str, int], Measured] = {}
    print(
        f"{args.clients} keep-alive clients; per endpoint, bare view and Argus take turns {args.rounds} times"
        f" ({args.seconds:g} s counted each, after {args.warmup / 2:g} s each to warm up)"
    )
    print(f"{'endpoint':<30} {'N':>2}  {'req/s':>8}  {'p50 ms':>7}  {'p95 ms':>7}  of bare  {'CPU ms':>7}  of bare")
    print("(the bare view's figures on the line under each endpoint are its own turns; CPU ms: the web servers'")
    print(" CPU per answered request, and beside it the bare view's over this one's: the share of the bare rate")
    print(" this endpoint would reach on equal CPU, a figure the machine's other load leaves mostly alone)")
    with tempfile.TemporaryDirectory(prefix="argus-bench-metrics-") as metrics_dir:
        env = server_env(metrics_dir)
        for processes in args.processes:
            argus, argus_port = start_tier("config.asgi:application", processes, env, args.argus_dir or BASE_DIR)
            bare, bare_port = start_tier("bench.bare_app:application", processes, env)
            tiers = {"argus": (argus, argus_port), "bare": (bare, bare_port)}
            try:
                wait_ready(argus, argus_port, "/healthz", processes)
                wait_ready(bare, bare_port, "/bare", processes)
                for endpoint in args.endpoints:
                    measured = drive(tiers, endpoint, headers[endpoint.credential], args)
                    results[(endpoint.name, processes)] = measured["argus"]
                    floors[(endpoint.name, processes)] = measured["bare"]
                    print(line(endpoint.name, processes, measured["argus"], measured["bare"]), flush=True)
                    print(line("  bare view, same turns", processes, measured["bare"], None), flush=True)
            finally:
                stop_tier(argus)
                stop_tier(bare)
    report_goals(results, floors, args.processes, args.endpoints)
    print(f"\nload average over the run's end (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} cores")
    return 0


def report_goals(results: dict, floors: dict, processes: list[int], endpoints: list[Endpoint]) -> None:
    if 1 in processes and 2 in processes:
        print("\n2 processes / 1 process (rates):")
        for endpoint in endpoints:
            one, two = results[(endpoint.name, 1)], results[(endpoint.name, 2)]
            bare_one, bare_two = floors[(endpoint.name, 1)], floors[(endpoint.name, 2)]
            scaling = two.rate / one.rate if one.rate else float("nan")
            bare_scaling = bare_two.rate / bare_one.rate if bare_one.rate else float("nan")
            print(f"  {endpoint.name:<30} {scaling:5.2f}x   (bare view in the same turns: {bare_scaling:5.2f}x)")
    print("\nissue 19's goals:")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    if 1 in processes:
        measured = {endpoint.name for endpoint in endpoints}
        for name, goal in (("GET /api/v1/auth/me", 0.40), ("POST /events/ingest", 0.35)):
            if name not in measured:
                continue
            argus, bare = results[(name, 1)], floors[(name, 1)]
            share = argus.rate / bare.rate if bare.rate else float("nan")
            by_cpu = bare.cpu_ms / argus.cpu_ms
            print(
                f"  {name} >= {goal:.0%} of bare (1 process): {share:.1%} {verdict(share >= goal)}"
                f" (by server CPU per request: {by_cpu:.1%})"
            )
        for name in ("GET /api/v1/detections/live", "GET /api/v1/counts/realtime"):
            if name not in measured:
                continue
            p95 = results[(name, 1)].p(0.95)
            print(f"  {name} p95 <= 30 ms (1 process): {p95:.1f} ms {verdict(p95 <= 30)}")
    if 1 in processes and 2 in processes and "POST /events/ingest" in {endpoint.name for endpoint in endpoints}:
        ratio = results[("POST /events/ingest", 2)].rate / results[("POST /events/ingest", 1)].rate
        print(f"  POST /events/ingest, 2 processes >= 1.5x 1: {ratio:.2f}x {verdict(ratio >= 1.5)}")


def endpoint_list(raw: str) -> list[Endpoint]:
    unknown = [name for name in raw.split(",") if name not in ENDPOINT_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown endpoint(s) {','.join(unknown)}")
    return [ENDPOINT_NAMES[name] for name in raw.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=4.0, help="counted seconds per endpoint, and as many bare")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed seconds before each count")
    parser.add_argument("--rounds", type=int, default=4, help="turns bare and Argus take per endpoint")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=lambda raw: [int(p) for p in raw.split(",")], default=[1, 2])
    parser.add_argument(
        "--endpoints",
        type=endpoint_list,
        default=ENDPOINTS,
        help=f"comma-separated, of {','.join(ENDPOINT_NAMES)} (default all)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the scratch database")
    parser.add_argument(
        "--argus-dir",
        help="serve Argus from this checkout instead (e.g. an older commit, to compare; it needs config/webtier.py"
        " and a schema the scratch database's migrations match)",
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 256 or not 0 < args.seconds <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--clients 1..256, --seconds up to 600, --warmup up to 60")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds 1..100")
    if any(not 1 <= p <= 16 for p in args.processes):
        parser.error("--processes: counts from 1 to 16, comma-separated")
    if args.child:
        return child(args)
    # Production settings want a real secret; the child mints the access token the servers check with it.
    os.environ.setdefault("DJANGO_SECRET_KEY", BENCH_SECRET)
    return run_in_scratch_database(
        os.path.abspath(__file__),
        SCRATCH_DB,
        args.keep,
        extra_env={"DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"]},
    )


if __name__ == "__main__":
    sys.exit(main())
