"""What a watched camera costs, and how many one vision worker sustains.

    .venv/bin/python bench/cameras.py                      # 45 s windows, ramp people- and idle cameras up to 16
    .venv/bin/python bench/cameras.py --seconds 30 --max-cameras 10 --no-recognition --no-counting
    .venv/bin/python bench/cameras.py --hold 6      # 6 people-cameras on a worker until Ctrl-C, for a profiler

1. Two clips, 1280x720 at 25 fps, H.264: *idle* (one still frame of ../shared/data/video/pedestrians.avi, so
   the encoder sends almost nothing but the picture does not change) and *people* (the footage itself, people
   walking). RTSP test servers serve each under many names (hard links), so every camera is a stream of its
   own, looped for as long as it is read; one server process per 4 cameras (a single server fell behind at 8
   idle streams: 18.8 fps each while the worker used 55 % of a core; the cameras' simulation must not be what
   runs out). The servers' CPU share is printed beside the worker's: they take the same 2 cores.
2. Baseline, in the same run: a bare ``ffmpeg -i <stream> -f null -`` decoding one stream and nothing else,
   the floor any analysis of a 720p 25 fps camera stands on.
3. Argus: a real ``manage.py run_vision`` process on a scratch database with N cameras at their default
   analysis settings (720p, 5 fps), each with face recognition on (unless ``--no-recognition``) and counting
   on a line across the middle of the picture (unless ``--no-counting``; counting asks the same ffmpeg for a
   second output of 320-pixel frames at ``COUNTING_VIDEO_FPS``, 25, counted on a thread of their own, while
   the 720p frames stay at 5 fps for the faces). After a warm-up, the CPU time of the
   worker and of its ffmpeg children is read over the window (psutil), and each camera's analysed and dropped
   frames from the state the worker reports; the machine's load average (others' work too) is printed beside.
4. Printed: CPU per camera-minute (% of one core) for one idle and one people camera, the part of it in
   ffmpeg, and the ratio to the bare decode; then people-cameras are added (2, 4, 6, ...) until more than 1 % of
   their analysis frames are dropped, and the largest count under 1 % is printed; then the same with idle
   cameras (a site's cameras see nobody most of the day). Goals (issue 15): idle camera ≤ 10 % of one core,
   ≥ 8 cameras on this 2-core machine.

The machine is shared and noisy: read the ratios, and run it more than once.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from scratch import BASE_DIR, run_in_scratch_database, setup_django

# A development tool on loopback servers: development settings (the embedded services, the dev secret).
os.environ.setdefault("DJANGO_DEBUG", "true")

SCRATCH_DB = "argus_bench_cameras"
FOOTAGE = BASE_DIR.parent / "shared" / "data" / "video" / "pedestrians.avi"
WARMUP_SECONDS = 10.0
STREAMS_PER_SERVER = 4


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of a process and each of its descendants, by pid."""
    found: dict[int, float] = {}
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                found[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        pass
    return found


def cpu_share(pid: int, seconds: float) -> float:
    """Share of one core the process tree used over ``seconds`` (pids alive at both ends)."""
    return cpu_shares(pid, seconds)[0]


def cpu_shares(pid: int, seconds: float, others: tuple[int, ...] = ()) -> tuple[float, float, float]:
    """Share of one core the process tree used over ``seconds`` (pids alive at both ends), the part of it its
    children used (the worker's ffmpeg decoders), and the share the ``others`` used meanwhile (the servers)."""
    before = tree_cpu_seconds(pid)
    before_others = {other: sum(tree_cpu_seconds(other).values()) for other in others}
    time.sleep(seconds)
    after = tree_cpu_seconds(pid)
    after_others = {other: sum(tree_cpu_seconds(other).values()) for other in others}
    used = {p: after[p] - before[p] for p in after if p in before}
    elsewhere = sum(after_others[other] - before_others[other] for other in others)
    return (
        sum(used.values()) / seconds,
        sum(v for p, v in used.items() if p != pid) / seconds,
        elsewhere / seconds,
    )


def make_clips(folder: Path) -> dict[str, Path]:
    from cameras.probing import ffmpeg_exe

    people = folder / "people.mp4"
    idle = folder / "idle.mp4"
    common = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50", "-an"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(FOOTAGE), "-t", "20", "-r", "25", "-s", "1280x720", *common,
         str(people)],
        check=True,
    )  # fmt: skip
    still = folder / "still.png"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(FOOTAGE), "-frames:v", "1", str(still)], check=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-loop", "1", "-i", str(still), "-t", "20", "-r", "25",
         "-s", "1280x720", *common, str(idle)],
        check=True,
    )  # fmt: skip
    return {"idle": idle, "people": people}


def linked(clip: Path, count: int) -> list[str]:
    """``count`` names for the same file: each is a stream of its own to the server and to the workers."""
    names = []
    for number in range(count):
        name = f"{clip.stem}-{number:02d}.mp4"
        target = clip.parent / name
        if not target.exists():
            os.link(clip, target)
        names.append(name)
    return names


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "ARGUS_LOG_LEVEL": "WARNING"}  # otherwise as deployed (a beat every 2 s)
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_vision", "--worker-id", "bench"], cwd=BASE_DIR, env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


# A line across the middle of the 1280x720 picture: the footage's people cross it.
COUNTING_LINE = {
    "enabled": True,
    "mode": "line",
    "line": {"x1": 0, "y1": 360, "x2": 1280, "y2": 360},
    "in_side": "right",
    "frame": {"width": 1280, "height": 720},
    "interval": 60,
}


def bench_cameras(urls: list[str], recognition: bool, counting: bool) -> list[str]:
    """The scratch database's cameras replaced by one per URL, at their default analysis settings; their ids."""
    from cameras.models import Camera

    Camera.objects.all().delete()
    return [
        Camera.objects.create(
            id=f"BENCH-{number:02d}",
            name=f"Bench {number}",
            stream_url=url,
            recognition_enabled=recognition,
            metadata={"counting": COUNTING_LINE} if counting else {},
        ).pk
        for number, url in enumerate(urls)
    ]


def measure_worker(
    urls: list[str], seconds: float, recognition: bool, counting: bool, servers: tuple[int, ...] = ()
) -> dict[str, float]:
    """CPU share of a worker watching ``urls`` and the share of analysis frames it dropped; the CPU share of the
    RTSP servers (pids ``servers``) meanwhile."""
    from cameras.vision import health

    ids = bench_cameras(urls, recognition, counting)
    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while len(health.watched(ids)) < len(ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(health.watched(ids))} of {len(ids)} cameras got frames")
            time.sleep(0.5)
        time.sleep(WARMUP_SECONDS)
        start = health.watch_states(ids)
        load = os.getloadavg()[0]
        share, decoders, served = cpu_shares(worker.pid, seconds, servers)
        load = (load + os.getloadavg()[0]) / 2
        end = health.watch_states(ids)
    finally:
        worker.terminate()
        worker.wait(20)
    decoded = sum(end[i]["frames"] - start[i]["frames"] for i in ids if i in start and i in end)
    dropped = sum(end[i]["dropped"] - start[i]["dropped"] for i in ids if i in start and i in end)
    fps = sum(end[i]["fps"] for i in ids if i in end) / max(1, len(ids))
    return {
        "cpu": share,
        "decoders": decoders,
        "servers": served,
        "dropped": dropped / decoded if decoded else 1.0,
        "fps": fps,
        "frames": decoded,
        "load": load,
    }


def measure_bare_decode(url: str, seconds: float) -> float:
    from cameras.probing import ffmpeg_exe

    process = subprocess.Popen(
        [ffmpeg_exe(), "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-an", "-f", "null", "-"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)
        return cpu_share(process.pid, seconds)
    finally:
        process.kill()
        process.wait()


def ramp(
    label: str, urls: list[str], args: argparse.Namespace, recognition: bool, counting: bool, servers: tuple[int, ...]
) -> int:
    """Cameras of one kind added two at a time until more than 1 % of their analysis frames are dropped; the
    largest count under 1 %."""
    print(f"\n{label}-cameras on one worker:")
    print(
        f"{'cameras':>8} {'% core':>8} {'in ffmpeg':>10} {'per camera':>11} {'fps each':>9} {'dropped':>8} "
        f"{'load avg':>9} {'servers':>8}"
    )
    sustained = 0
    for count in range(2, args.max_cameras + 1, 2):
        result = measure_worker(urls[:count], args.seconds, recognition, counting, servers)
        print(
            f"{count:8d} {result['cpu'] * 100:7.1f}% {result['decoders'] * 100:9.1f}% "
            f"{result['cpu'] * 100 / count:10.1f}% "
            f"{result['fps']:9.2f} {result['dropped'] * 100:7.2f}% {result['load']:9.2f} "
            f"{result['servers'] * 100:7.1f}%",
            flush=True,
        )
        if result["dropped"] >= 0.01:
            break
        sustained = count
    return sustained


def hold(urls: list[str], args: argparse.Namespace, recognition: bool, counting: bool, servers: tuple[int, ...]) -> int:
    """A worker watching ``urls`` until interrupted (for py-spy and the like): its pid, then a line per window."""
    bench_cameras(urls, recognition, counting)
    worker = start_worker()
    print(f"worker pid {worker.pid} holds {len(urls)} {args.hold_clip}-cameras; Ctrl-C ends", flush=True)
    try:
        while worker.poll() is None:
            share, decoders, served = cpu_shares(worker.pid, args.seconds, servers)
            print(
                f"worker {share * 100:.1f}% of a core ({decoders * 100:.1f}% in ffmpeg), servers {served * 100:.1f}%, "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    except KeyboardInterrupt:
        pass
    finally:
        worker.terminate()
        worker.wait(20)
    return 0


def child(args: argparse.Namespace) -> int:
    setup_django()
    from cameras.rtsp_server import RtspTestServer

    if not FOOTAGE.is_file():
        sys.exit(f"{FOOTAGE} is absent")
    recognition, counting = not args.no_recognition, not args.no_counting
    with tempfile.TemporaryDirectory(prefix="argus-bench-cameras-") as folder:
        clips = make_clips(Path(folder))
        streams = max(1, args.max_cameras, args.hold)  # of each clip
        idle_names = linked(clips["idle"], streams)
        people_names = linked(clips["people"], streams)
        with contextlib.ExitStack() as stack:
            # One Python server process (one core at most) serves some 6 such streams at 25 fps: a few serve them,
            # so that the cameras, not their simulation, are what runs out.
            servers = [
                stack.enter_context(RtspTestServer(folder)) for _ in range(math.ceil(streams / STREAMS_PER_SERVER))
            ]
            pids = tuple(server.process.pid for server in servers if server.process is not None)
            idle_urls = [servers[n // STREAMS_PER_SERVER].url(name, loop=True) for n, name in enumerate(idle_names)]
            idle_url = idle_urls[0]
            people_urls = [servers[n // STREAMS_PER_SERVER].url(name, loop=True) for n, name in enumerate(people_names)]
            if args.hold:
                held = idle_urls if args.hold_clip == "idle" else people_urls
                return hold(held[: args.hold], args, recognition, counting, pids)
            on = {True: "on", False: "off"}
            from recognition.yunet import network_setting  # what the worker, started with this environment, runs

            print(
                f"window {args.seconds:g} s after {WARMUP_SECONDS:g} s warm-up; recognition {on[recognition]}, "
                f"counting {on[counting]}; {os.cpu_count()} cores"
                + (f"; face network: {network_setting()} (ARGUS_FACE_NETWORK)" if recognition else "")
            )
            rate = "counted at 25 fps (320 px), faces at 5 fps (720p)" if counting else "analysed at 5 fps"
            print(f"\none camera, 1280x720 at 25 fps, {rate}:")
            print(
                f"{'':10} {'Argus % core':>13} {'in ffmpeg':>10} {'bare decode':>12} {'ratio':>7} {'dropped':>8} "
                f"{'load avg':>9}"
            )
            for label, url in (("idle", idle_url), ("people", people_urls[0])):
                bare = measure_bare_decode(url, args.seconds)
                argus = measure_worker([url], args.seconds, recognition, counting)
                print(
                    f"{label:10} {argus['cpu'] * 100:12.1f}% {argus['decoders'] * 100:9.1f}% {bare * 100:11.1f}% "
                    f"{argus['cpu'] / bare:6.2f}x "
                    f"{argus['dropped'] * 100:7.2f}% {argus['load']:9.2f}",
                    flush=True,
                )
            sustained = {}
            for label, urls in (("people", people_urls), ("idle", idle_urls)):
                sustained[label] = ramp(label, urls, args, recognition, counting, pids)
            print(
                f"\nsustained with under 1 % of analysis frames dropped: {sustained['people']} people-cameras, "
                f"{sustained['idle']} idle cameras (goal ≥ 8; tried up to {args.max_cameras} of each)"
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="measuring window of each step")
    parser.add_argument("--max-cameras", type=int, default=16)
    parser.add_argument("--no-recognition", action="store_true", help="cameras without face recognition")
    parser.add_argument("--no-counting", action="store_true", help="cameras without a counting line")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--hold", type=int, default=0, metavar="N",
        help="only start a worker with N cameras (see --hold-clip), print its pid and CPU every window, until Ctrl-C",
    )  # fmt: skip
    parser.add_argument("--hold-clip", choices=("people", "idle"), default="people", help="what --hold's cameras show")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    return run_in_scratch_database(__file__, SCRATCH_DB, args.keep)


if __name__ == "__main__":
    sys.exit(main())
