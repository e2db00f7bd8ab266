"""Vision workers as they run in production: real ``manage.py run_vision`` processes sharing cameras through
leases in Redis, taking over a killed worker's cameras, and following camera changes without a restart."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import psutil
import pytest

from cameras import services
from cameras.models import Camera
from cameras.rtsp_server import free_port
from cameras.vision import health, live
from cameras.vision.leases import stream_holders
from cameras.vision.registry import stream_key

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> float:
    """Seconds it took ``condition`` to hold; fails after ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def dead_camera(camera_id: str) -> Camera:
    """A camera on a port nothing listens on: a distinct stream that gives no frames."""
    return Camera.objects.create(id=camera_id, name=camera_id, stream_url=f"rtsp://127.0.0.1:{free_port()}/x.mp4")


def holders(*cameras: Camera) -> dict[str, str | None]:
    keys = {stream_key(services.stream_url_for_platform(camera)): camera.pk for camera in cameras}
    return {keys[key]: holder for key, holder in stream_holders(list(keys)).items()}


def ffmpeg_children(worker) -> list[psutil.Process]:
    try:
        return [child for child in psutil.Process(worker.pid).children(recursive=True) if "ffmpeg" in child.name()]
    except psutil.NoSuchProcess:
        return []


def ffmpeg_command_lines(worker) -> list[str]:
    """The command lines of the worker's live decoders (one that was just killed and not yet reaped is skipped:
    it has no command line left)."""
    lines = []
    for child in ffmpeg_children(worker):
        try:
            lines.append(" ".join(child.cmdline()))
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return lines


def test_a_worker_watches_a_streaming_camera(vision_worker_processes, rtsp_server):
    camera = Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)

    vision_worker_processes("worker-a")

    wait_for(lambda: health.watch_states([camera.pk]).get(camera.pk, {}).get("fps"), 20, "frames reported")
    state = health.watch_states([camera.pk])[camera.pk]
    assert state["online"] and 3 <= state["fps"] <= 8 and state["width"] == 640
    wait_for(lambda: Camera.objects.get(pk=camera.pk).status == "online", 10, "camera online")
    assert live.latest_jpeg(camera.pk).startswith(b"\xff\xd8")
    assert holders(camera) == {"CAM-01": "worker-a"}


def test_two_workers_share_the_cameras(vision_worker_processes):
    cameras = [dead_camera(f"CAM-0{i}") for i in range(1, 5)]

    vision_worker_processes("worker-a")
    vision_worker_processes("worker-b")

    def split_evenly():
        held = list(holders(*cameras).values())
        return None not in held and held.count("worker-a") == 2 and held.count("worker-b") == 2

    wait_for(split_evenly, 25, "two cameras each")


def test_a_killed_workers_cameras_are_taken_over_within_20_seconds(vision_worker_processes):
    cameras = [dead_camera("CAM-01"), dead_camera("CAM-02")]
    doomed = vision_worker_processes("worker-a")
    wait_for(lambda: set(holders(*cameras).values()) == {"worker-a"}, 20, "worker-a holds both")
    vision_worker_processes("worker-b")
    wait_for(lambda: sorted(map(str, holders(*cameras).values())) == ["worker-a", "worker-b"], 20, "one each")

    doomed.send_signal(signal.SIGKILL)  # no goodbye: its leases just stop being renewed
    doomed.wait()
    took = wait_for(lambda: set(holders(*cameras).values()) == {"worker-b"}, 25, "worker-b holds both")

    assert took <= 20


def test_a_disabled_camera_is_let_go_within_5_seconds(vision_worker_processes, rtsp_server):
    camera = Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)
    worker = vision_worker_processes("worker-a")
    wait_for(lambda: camera.pk in health.watched([camera.pk]), 20, "watched")
    assert ffmpeg_children(worker)

    services.set_enabled(camera, False)
    took = wait_for(lambda: not ffmpeg_children(worker), 10, "decoder gone")

    assert took <= 5
    # the lease is released just after the decoder has exited
    wait_for(lambda: holders(camera) == {"CAM-01": None}, 5, "lease released")


def test_a_changed_camera_is_decoded_with_its_new_settings(vision_worker_processes, rtsp_server):
    camera = Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url, analysis_fps=5)
    worker = vision_worker_processes("worker-a")
    wait_for(lambda: camera.pk in health.watched([camera.pk]), 20, "watched")

    services.update_camera(Camera.objects.get(pk=camera.pk), {"analysis_fps": 2})

    def decoding_at_two_fps():
        return any("fps=2," in line for line in ffmpeg_command_lines(worker))

    assert wait_for(decoding_at_two_fps, 10, "restarted at 2 fps") <= 5


def test_a_deleted_camera_is_let_go(vision_worker_processes, rtsp_server):
    camera = Camera.objects.create(id="CAM-01", name="Lobby", stream_url=rtsp_server.url)
    worker = vision_worker_processes("worker-a")
    wait_for(lambda: camera.pk in health.watched([camera.pk]), 20, "watched")

    Camera.objects.filter(pk=camera.pk).delete()

    wait_for(lambda: not ffmpeg_children(worker), 10, "decoder gone")


def test_a_stopped_worker_gives_its_cameras_back_at_once(vision_worker_processes):
    camera = dead_camera("CAM-01")
    worker = vision_worker_processes("worker-a")
    wait_for(lambda: holders(camera) == {"CAM-01": "worker-a"}, 20, "held")

    worker.terminate()
    worker.wait(15)

    assert holders(camera) == {"CAM-01": None}
