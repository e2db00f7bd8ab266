"""Inference isolation: does one client's face inference slow everybody else's requests?

    .venv/bin/python bench/inference_isolation.py [--rounds 3] [--cycles 4] [--phase-seconds 4] [--processes 1]

Issue 15's goal: while two clients verify faces in a loop, ``GET /api/v1/auth/me`` p95 stays within twice
its idle p95. Measured on the real stack, over loopback HTTP:

1. A scratch database (``argus_bench_inference``) is created on the platform's PostgreSQL and migrated; a
   user (admin role) and an enrolled face (``img1.jpg`` of ../shared/data/faces) are created in it.
2. The platform's ASGI app is started under daphne on a free loopback port once per inference mode, with
   ``ARGUS_INFERENCE_PROCESSES`` set: the pool (``--processes``, default 1: face inference in worker
   processes) and ``0`` (inference on the request thread, as before the pool). Each is warmed up (the
   pool's worker starts, the engine loads, connections open).
3. ``--probes`` keep-alive clients call ``GET /api/v1/auth/me`` back to back, while ``--verifiers`` other
   keep-alive clients (in a process of their own) ``POST /api/v1/faces/verify`` with two photos
   (``img1.jpg`` and ``img2.jpg``, the same person) in a loop, switched on and off: ``--cycles`` times
   ``--phase-seconds`` idle (no verification under way) then as long under load (counted from 1.5 s
   after the verifiers start). A probe counts for the phase it began and ended in. The modes take turns,
   ``--rounds`` times, so that whatever else the machine runs weighs on both alike. Every answer is
   checked (200; the verifications: verified).
4. Printed per mode: p50/p95 of ``auth/me`` idle and under load, the load/idle p95 ratio (goal <= 2;
   also per round), verifications per second and their p50; then the in-process/pool ratio of the p95
   under load.
5. The servers are stopped; the scratch database is dropped (``--keep`` leaves it).

The servers run with the development settings (as ``make run``). The token-bucket rate limit stays on (its
cost is part of every request) but is raised (``ARGUS_RATE_STANDARD``, unless set) so that no call is
refused. Loopback servers only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scratch import percentile, run_in_scratch_database, setup_django

if TYPE_CHECKING:
    from config.webtier import LocalServer

BASE_DIR = Path(__file__).resolve().parent.parent
SHARED_FACES = BASE_DIR.parent / "shared" / "data" / "faces"
SCRATCH_DB = "argus_bench_inference"
PHOTOS = ("img1.jpg", "img2.jpg")  # the same person, 2.6 and 1.8 megapixels
ME = "/api/v1/auth/me"
VERIFY = "/api/v1/faces/verify"
SETTLE_SECONDS = 1.5  # verifications running before a load phase starts counting


# --- Parent: scratch database around a child process ------------------------------------------------------------


def parent(args: argparse.Namespace) -> int:
    return run_in_scratch_database(
        __file__,
        SCRATCH_DB,
        args.keep,
        extra_env={"ARGUS_RATE_STANDARD": os.environ.get("ARGUS_RATE_STANDARD", "100000000")},
    )


# --- Child: data, daphne per mode, measurements --------------------------------------------------------------


def prepare() -> str:
    """A user with an enrolled face; their access token."""
    from django.core.files import File

    from accounts.models import User
    from accounts.tokens import issue_tokens
    from recognition import enrolment, inference

    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench", role_id="ROLE-ADMIN")
    with (SHARED_FACES / PHOTOS[0]).open("rb") as handle, inference.in_process():
        enrolment.create_profile({"employee_id": "BENCH-001", "name": "Bench Person"}, [File(handle, PHOTOS[0])])
    return issue_tokens(user).access


def daphne(processes: int, token: str) -> contextlib.AbstractContextManager[LocalServer]:
    """The platform under daphne on a free loopback port with ``processes`` inference workers, ready once it
    answers ``auth/me`` for ``token``."""
    import httpx

    from config.webtier import serve_locally

    def answers_me(server: LocalServer) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(server.url + ME, headers=auth(token), timeout=2).status_code == 200
        return False

    return serve_locally({"ARGUS_INFERENCE_PROCESSES": str(processes)}, ready=answers_me, stop_grace=20)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verify_files(photos: list[tuple[str, bytes]]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The multipart files of ``faces/verify``: ``image1`` and ``image2``."""
    return [(f"image{i + 1}", (name, data, "image/jpeg")) for i, (name, data) in enumerate(photos)]


@dataclass
class Mode:
    """One inference mode's server and what was measured on it, over every round."""

    label: str
    processes: int
    url: str = ""
    idle: list[float] = field(default_factory=list)  # auth/me latencies, ms
    loaded: list[float] = field(default_factory=list)
    verify: list[float] = field(default_factory=list)  # verification latencies, ms
    verified_in_load: int = 0
    load_seconds: float = 0.0
    round_ratios: list[float] = field(default_factory=list)


def load(url: str, token: str, photos: list[tuple[str, bytes]], clients: int, active, in_flight, stop, results) -> None:
    """In a process of its own (so the probes' timing never waits on it): ``clients`` keep-alive clients
    ``POST faces/verify`` with the two photos back to back while ``active`` is set, until ``stop``.
    ``in_flight`` counts the verifications under way; (finish time, ms) of each go to ``results``."""
    import httpx

    files = verify_files(photos)
    done: list[tuple[float, float]] = []

    async def verifier() -> None:
        async with httpx.AsyncClient(base_url=url, headers=auth(token), timeout=180) as client:
            while not stop.is_set():
                # Counted before looking at ``active``: once the parent has cleared it and seen no request
                # in flight, no verification can start.
                with in_flight.get_lock():
                    in_flight.value += 1
                if not active.is_set():
                    with in_flight.get_lock():
                        in_flight.value -= 1
                    await asyncio.sleep(0.02)
                    continue
                try:
                    started = time.perf_counter()
                    response = await client.post(VERIFY, files=files)
                    done.append((time.time(), (time.perf_counter() - started) * 1000))
                finally:
                    with in_flight.get_lock():
                        in_flight.value -= 1
                assert response.status_code == 200, response.text[:300]
                assert response.json()["data"]["verified"] is True, response.text[:300]

    async def run() -> None:
        await asyncio.gather(*(verifier() for _ in range(clients)))

    try:
        asyncio.run(run())
    except BaseException as exc:  # the parent reports it
        results.put(("error", repr(exc)))
        raise
    results.put(("ok", done))


async def alternate(mode: Mode, token: str, args: argparse.Namespace, active, in_flight) -> tuple[list, list, list]:
    """Probes call auth/me without a pause while the verifiers are switched on and off: ``--cycles`` times
    ``--phase-seconds`` idle (no verification under way) then the same under load (after SETTLE_SECONDS).
    A sample counts for the phase it started and ended in; returns (idle, loaded, load windows)."""
    import httpx

    phase = {"now": "switching"}
    idle: list[float] = []
    loaded: list[float] = []
    windows: list[tuple[float, float]] = []
    finished = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=mode.url, headers=auth(token), timeout=60) as client:
            while not finished.is_set():
                before, started = phase["now"], time.perf_counter()
                response = await client.get(ME)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text[:300]
                if before == phase["now"] == "idle":
                    idle.append(elapsed)
                elif before == phase["now"] == "load":
                    loaded.append(elapsed)

    async def conduct() -> None:
        for _ in range(args.cycles):
            active.clear()
            while in_flight.value > 0:
                await asyncio.sleep(0.02)
            phase["now"] = "idle"
            await asyncio.sleep(args.phase_seconds)
            phase["now"] = "switching"
            active.set()
            await asyncio.sleep(SETTLE_SECONDS)
            phase["now"] = "load"
            window_start = time.time()
            await asyncio.sleep(args.phase_seconds)
            windows.append((window_start, time.time()))
            phase["now"] = "switching"
        active.clear()
        finished.set()

    await asyncio.gather(conduct(), *(probe() for _ in range(args.probes)))
    return idle, loaded, windows


def measure_round(mode: Mode, token: str, photos: list[tuple[str, bytes]], args: argparse.Namespace) -> None:
    """One round of alternating idle and load phases on ``mode``'s server; the figures join ``mode``'s."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    active, stop, results = context.Event(), context.Event(), context.Queue()
    in_flight = context.Value("i", 0)
    loader = context.Process(
        target=load, args=(mode.url, token, photos, args.verifiers, active, in_flight, stop, results), daemon=True
    )
    loader.start()
    try:
        idle, loaded, windows = asyncio.run(alternate(mode, token, args, active, in_flight))
    finally:
        stop.set()
    status, done = results.get(timeout=300)
    loader.join(timeout=30)
    if status != "ok":
        sys.exit(f"{mode.label}: a verifier failed: {done}")
    mode.idle.extend(idle)
    mode.loaded.extend(loaded)
    mode.verify.extend(latency for _, latency in done)
    mode.verified_in_load += sum(1 for finished, _ in done if any(a <= finished <= b for a, b in windows))
    mode.load_seconds += sum(b - a for a, b in windows)
    mode.round_ratios.append(percentile(loaded, 0.95) / percentile(idle, 0.95))


def warm_up(mode: Mode, token: str, photos: list[tuple[str, bytes]]) -> None:
    """Connections, caches, the inference worker and its engine: ready before anything is timed."""
    import httpx

    files = verify_files(photos)
    with httpx.Client(base_url=mode.url, headers=auth(token), timeout=120) as client:
        for _ in range(3):
            response = client.post(VERIFY, files=files)
            assert response.status_code == 200, response.text[:300]
        for _ in range(50):
            assert client.get(ME).status_code == 200


def ms(value: float) -> str:
    return f"{value:.1f}"


def report(modes: list[Mode], args: argparse.Namespace) -> bool:
    print()
    print(
        f"GET {ME}: {args.probes} keep-alive clients without pause; load: {args.verifiers} clients POST {VERIFY} "
        f"({' + '.join(args.photos)}) in a loop, switched on and off every {args.phase_seconds:g} s "
        f"({args.rounds} rounds x {args.cycles} cycles per mode, modes taking turns); {os.cpu_count()} cores"
    )
    header = (
        f"{'inference':<14} {'idle n':>7} {'p50 ms':>7} {'p95 ms':>7} {'load n':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p95 load/idle':>14} {'verify p50 ms':>14} {'verifies/s':>11}"
    )
    print(header)
    print("-" * len(header))
    for mode in modes:
        idle_p95, load_p95 = percentile(mode.idle, 0.95), percentile(mode.loaded, 0.95)
        print(
            f"{mode.label:<14} {len(mode.idle):>7} {ms(percentile(mode.idle, 0.5)):>7} {ms(idle_p95):>7} "
            f"{len(mode.loaded):>7} {ms(percentile(mode.loaded, 0.5)):>7} {ms(load_p95):>7} "
            f"{load_p95 / idle_p95:>13.2f}x {ms(percentile(mode.verify, 0.5)):>14} "
            f"{mode.verified_in_load / mode.load_seconds:>11.2f}"
        )
    print()
    for mode in modes:
        rounds = ", ".join(f"{ratio:.2f}x" for ratio in mode.round_ratios)
        print(f"p95 load/idle per round, {mode.label}: {rounds}")
    pool, others = modes[0], modes[1:]
    ratio = percentile(pool.loaded, 0.95) / percentile(pool.idle, 0.95)
    verdict = "met" if ratio <= 2 else "NOT met"
    print(f"goal: auth/me p95 under load <= 2x its idle p95: {pool.label} {ratio:.2f}x, {verdict}")
    for other in others:
        before, after = percentile(other.loaded, 0.95), percentile(pool.loaded, 0.95)
        print(f"auth/me p95 under load, {other.label} / {pool.label}: {ms(before)} / {ms(after)} ms", end="")
        print(f" = {before / after:.1f}x")
    return ratio <= 2


def child(args: argparse.Namespace) -> int:
    setup_django()
    photos = [(name, (SHARED_FACES / name).read_bytes()) for name in args.photos]
    token = prepare()
    modes = [Mode(f"pool ({args.processes})", args.processes)]
    if not args.pool_only:
        modes.append(Mode("in-process", 0))
    with contextlib.ExitStack() as servers:
        for mode in modes:
            mode.url = servers.enter_context(daphne(mode.processes, token)).url
            warm_up(mode, token, photos)
        # The modes take turns, round by round, so that whatever else the machine is doing weighs on both.
        for number in range(1, args.rounds + 1):
            for mode in modes:
                print(f"round {number}/{args.rounds}: {mode.label}", flush=True)
                measure_round(mode, token, photos, args)
    return 0 if report(modes, args) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase-seconds", type=float, default=4.0, help="length of each idle and each load phase")
    parser.add_argument("--cycles", type=int, default=4, help="idle + load phases per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode, the modes taking turns")
    parser.add_argument("--probes", type=int, default=2, help="clients calling auth/me")
    parser.add_argument("--verifiers", type=int, default=2, help="clients verifying faces in a loop")
    parser.add_argument("--processes", type=int, default=1, help="inference workers of the pool mode")
    parser.add_argument("--photos", nargs=2, default=PHOTOS, help="the two photos verified (of ../shared/data/faces)")
    parser.add_argument("--pool-only", action="store_true", help="skip the in-process comparison")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase_seconds <= 0 or min(args.cycles, args.rounds, args.probes, args.verifiers, args.processes) < 1:
        parser.error("--phase-seconds, --cycles, --rounds, --probes, --verifiers and --processes must be positive")
    if not SHARED_FACES.is_dir():
        parser.error(f"{SHARED_FACES} is absent: the photographs of ../shared/data/faces are needed")
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
