"""Counting a camera's live stream on the vision pipeline: the counting analyzer fed frame by frame, its stream
demands, and real ``manage.py run_vision`` workers counting the generated walkway and the real pedestrians
footage served over real RTSP on loopback, on the camera's one decoder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from django.db.models import Sum

from cameras import services
from cameras.models import Camera
from cameras.rtsp_server import RtspTestServer, ensure_h264_mp4
from cameras.vision import health, registry
from cameras.vision import live as live_image
from cameras.vision.decoder import Frame as DecodedFrame
from cameras.vision.decoder import SideOutput
from cameras.vision.registry import AnalysedFrame, Motion, VisionStream, stream_key
from counting.models import CountRecord
from counting.video import live, locks, storage
from counting.video.config import CountingConfig
from counting.video.geometry import Line
from counting.video.runner import FrameCounting
from counting.video.sources import VideoFile
from counting.video.synthetic import short_scene

CLIP = "walkway.mp4"
PEDESTRIANS_CLIP = "pedestrians.mp4"
SET_UP = {
    "enabled": True,
    "mode": "line",
    "line": {"x1": 40, "y1": 180, "x2": 600, "y2": 180},
    "in_side": "right",
    "frame": {"width": 640, "height": 360},
    "interval": 10,
}
# ../shared's pedestrians: "in" is walking down the picture across y = 500 (see test_video_pedestrians).
PEDESTRIANS_SET_UP = {
    "enabled": True,
    "mode": "line",
    "line": {"x1": 0, "y1": 500, "x2": 1280, "y2": 500},
    "in_side": "right",
    "frame": {"width": 1280, "height": 720},
    "interval": 60,
}


@dataclass(frozen=True)
class Served:
    server: RtspTestServer
    directory: Path

    def url(self, name: str = CLIP, loop: bool = False) -> str:
        return self.server.url(name, loop=loop)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The short scene (2 in, 1 out) after 4 s of empty walkway, as H.264, on an RTSP server on a free port."""
    directory = tmp_path_factory.mktemp("counting-rtsp")
    short_scene(lead_in=4.0).render(directory / CLIP)
    with RtspTestServer(directory, log_path=Path(directory) / "server.log") as server:
        yield Served(server, directory)


def counting_camera(camera_id: str, url: str, **set_up) -> Camera:
    return services.create_camera(
        {
            "id": camera_id,
            "name": f"Walkway {camera_id}",
            "stream_url": url,
            "metadata": {"counting": {**SET_UP, **set_up}},
        }
    )


def stored_total(camera_id: str) -> int:
    return CountRecord.objects.filter(camera_id=camera_id).aggregate(total=Sum("count"))["total"] or 0


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answer := condition():
            return answer
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def last_run(camera_id: str) -> dict | None:
    return storage.read_status([camera_id]).get(camera_id, {}).get("last_run")


# --- The analyzer, fed by hand ---------------------------------------------------------------------------


def scene_frames(path: Path, start: float, connection: int = 1, first_index: int = 1) -> list[DecodedFrame]:
    """The file's frames as a decoder hands them out: capture times from ``start`` at the file's rate."""
    video = VideoFile(path)
    try:
        return [
            DecodedFrame(pixels=f.image, captured_at=start + f.time, index=first_index + f.index, connection=connection)
            for f in video
        ]
    finally:
        video.close()


@pytest.fixture(scope="module")
def walkway(served: Served) -> Path:
    return served.directory / CLIP


def analyzer_for(camera: Camera) -> tuple[VisionStream, live.StreamCounting]:
    (demand,) = [d for d in live.counting_demands() if d.id == camera.pk]
    stream = VisionStream(stream_key(demand.url), (demand,))
    analyzer = live.count_stream(stream)
    assert analyzer is not None
    return stream, analyzer


def feed(analyzer, stream: VisionStream, frames: list[DecodedFrame], times: int = 1) -> None:
    for frame in frames:
        for _ in range(times):
            analyzer.on_frame(AnalysedFrame(frame=frame, motion=Motion(active=True, score=0.1), stream=stream))


@pytest.mark.django_db
def test_the_analyzer_counts_the_frames_it_is_fed_and_stores_them_as_count_records(walkway):
    camera = counting_camera("CAM-41", "rtsp://127.0.0.1:9/walkway.mp4")
    stream, analyzer = analyzer_for(camera)

    feed(analyzer, stream, scene_frames(walkway, start=1_700_000_000.0))
    analyzer.close()

    assert last_run("CAM-41") | {"started": None, "ended": None} == {
        "in": 2, "out": 1, "frames": 274, "stopped": "stopped", "started": None, "ended": None,
    }  # fmt: skip
    records = CountRecord.objects.filter(camera_id="CAM-41")
    assert stored_total("CAM-41") == 3
    assert {r.source for r in records} == {"video"} and {r.zone_id for r in records} == {"line"}
    # intervals of the set-up's 10 s, aligned to the wall clock (the run's first one starts with the run)
    starts = sorted(r.timestamp.timestamp() for r in records)
    assert starts[0] == pytest.approx(1_700_000_003.04) and {s % 10 for s in starts[1:]} == {0}


@pytest.mark.django_db
def test_a_frame_handed_out_twice_is_counted_once(walkway):
    camera = counting_camera("CAM-42", "rtsp://127.0.0.1:9/walkway.mp4")
    stream, analyzer = analyzer_for(camera)

    feed(analyzer, stream, scene_frames(walkway, start=1_700_000_000.0), times=2)
    analyzer.close()

    assert (last_run("CAM-42")["frames"], stored_total("CAM-42")) == (274, 3)


@pytest.mark.django_db
def test_a_reconnected_stream_ends_the_run_and_starts_a_new_one(walkway):
    camera = counting_camera("CAM-43", "rtsp://127.0.0.1:9/walkway.mp4")
    stream, analyzer = analyzer_for(camera)

    first = scene_frames(walkway, start=1_700_000_000.0, connection=1)
    second = scene_frames(walkway, start=1_700_000_015.0, connection=2, first_index=len(first) + 1)
    feed(analyzer, stream, first)
    assert last_run("CAM-43") is None

    feed(analyzer, stream, second[:1])
    assert last_run("CAM-43")["stopped"] == "stream reconnected"
    assert stored_total("CAM-43") == 3  # the first connection's counts, crossings under way included
    feed(analyzer, stream, second[1:])
    analyzer.close()
    assert last_run("CAM-43")["in"] == 2  # the second run learnt the scene afresh and counted it again
    assert stored_total("CAM-43") == 6


@pytest.mark.django_db
def test_a_stalled_stream_ends_the_run_so_its_last_interval_is_stored(walkway):
    camera = counting_camera("CAM-44", "rtsp://127.0.0.1:9/walkway.mp4")
    stream, analyzer = analyzer_for(camera)
    frames = scene_frames(walkway, start=time.time() - 25)
    feed(analyzer, stream, frames)

    analyzer.tick(time.time(), stats=None)

    assert last_run("CAM-44")["stopped"] == "stream stalled"
    assert stored_total("CAM-44") == 3
    analyzer.close()


@pytest.mark.django_db
def test_the_camera_is_counting_while_its_analyzer_lives(walkway):
    camera = counting_camera("CAM-45", "rtsp://127.0.0.1:9/walkway.mp4")
    _stream, analyzer = analyzer_for(camera)

    [state] = live.counter_states(["CAM-45"])
    assert state["counting"] and state["running"]
    analyzer.close()
    [state] = live.counter_states(["CAM-45"])
    assert not state["counting"] and not state["running"]


# --- What counting asks of the pipeline -----------------------------------------------------------------


@pytest.mark.django_db
def test_counted_cameras_are_demanded_at_the_counting_rate(settings):
    settings.COUNTING_VIDEO_FPS = 20
    counting_camera("CAM-51", "rtsp://127.0.0.1:9/a")
    counting_camera("CAM-52", "rtsp://127.0.0.1:9/b", enabled=False)
    services.create_camera({"id": "CAM-53", "name": "Off", "stream_url": "rtsp://127.0.0.1:9/c", "enabled": False,
                            "metadata": {"counting": SET_UP}})  # fmt: skip
    counting_camera("CAM-54", "")
    services.create_camera({"id": "CAM-55", "name": "Broken", "stream_url": "rtsp://127.0.0.1:9/e",
                            "metadata": {"counting": {**SET_UP, "line": {"x1": 1}}}})  # fmt: skip
    services.create_camera({"id": "CAM-56", "name": "Plain", "stream_url": "rtsp://127.0.0.1:9/f"})

    demands = list(live.counting_demands())

    assert [(d.kind, d.id, d.fps) for d in demands] == [("counting", "CAM-51", 20.0)]


@pytest.mark.django_db
def test_counting_shares_the_cameras_stream():
    counting_camera("CAM-57", "rtsp://127.0.0.1:9/a")

    streams = list(registry.wanted_streams().values())

    assert len(streams) == 1
    assert {(d.kind, d.id) for d in streams[0].demands} == {("camera", "CAM-57"), ("counting", "CAM-57")}
    settings = streams[0].decoder_settings()
    # One decoder: the camera's 720p at its 5 fps, and a side output of the counter's 320-pixel frames at the
    # counting rate; the counting analyzer gets the side output's frames.
    assert (settings.max_width, settings.max_height, settings.fps) == (1280, 720, 5.0)
    assert settings.side == SideOutput(max_width=320, max_height=720, fps=25.0, queue=12)
    assert streams[0].output_of("counting") == 1 and streams[0].output_of(None) == 0


@pytest.mark.django_db
def test_a_stream_without_a_counted_camera_gets_no_counting_analyzer():
    services.create_camera({"id": "CAM-58", "name": "Plain", "stream_url": "rtsp://127.0.0.1:9/f"})
    (stream,) = registry.wanted_streams().values()

    assert live.count_stream(stream) is None


@pytest.mark.django_db
def test_beat_no_longer_dispatches_counting_runs():
    from django_celery_beat.models import PeriodicTask

    assert not PeriodicTask.objects.filter(task__startswith="counting.").exists()


def test_a_lock_taken_over_belongs_to_its_new_owner():
    old = locks.acquire("CAM-59", 30)
    new = locks.take("CAM-59", 30)
    assert locks.owner("CAM-59") == new
    assert not locks.release("CAM-59", old)  # the old owner cannot drop it
    assert locks.extend("CAM-59", new, 60)
    assert locks.release("CAM-59", new)
    assert locks.owner("CAM-59") is None


def test_a_lock_expires_on_its_own():
    assert locks.take("CAM-60", 1.0)
    time.sleep(1.2)
    assert locks.acquire("CAM-60", 1.0) is not None


# --- Real vision workers ---------------------------------------------------------------------------------


def ffmpeg_children(worker) -> list[psutil.Process]:
    try:
        return [child for child in psutil.Process(worker.pid).children(recursive=True) if "ffmpeg" in child.name()]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.django_db(transaction=True)
def test_a_vision_worker_counts_a_real_rtsp_stream_exactly(vision_worker_processes, served):
    counting_camera("CAM-61", served.url())  # played once per connection: 2 in, 1 out

    vision_worker_processes("worker-a")

    run = wait_for(lambda: last_run("CAM-61"), 90, "the first pass counted")
    assert (run["in"], run["out"], run["stopped"]) == (2, 1, "stream reconnected")
    assert run["frames"] >= 50  # of the 275 after the warm-up: analysis drops what it cannot keep up with
    records = CountRecord.objects.filter(camera_id="CAM-61")
    assert stored_total("CAM-61") == 3
    assert {r.source for r in records} == {"video"} and {r.zone_id for r in records} == {"line"}


@pytest.mark.django_db(transaction=True)
def test_counting_and_the_live_picture_share_one_decoder(vision_worker_processes, served):
    counting_camera("CAM-62", served.url(loop=True))

    worker = vision_worker_processes("worker-a")

    wait_for(lambda: live_image.latest_jpeg("CAM-62"), 30, "the live picture")
    wait_for(lambda: live.counter_states(["CAM-62"])[0]["counting"], 10, "counting")
    wait_for(lambda: stored_total("CAM-62") >= 3, 60, "the counts of a pass")
    assert len(ffmpeg_children(worker)) == 1
    assert health.watched(["CAM-62"]) == {"CAM-62"}
    (child,) = ffmpeg_children(worker)
    assert "fps=25," in " ".join(child.cmdline())


@pytest.fixture(scope="module")
def pedestrians_served(served: Served) -> Served:
    source = Path(__file__).resolve().parents[3] / "shared" / "data" / "video" / "pedestrians.avi"
    if not source.is_file():
        pytest.skip(f"{source} is absent")
    ensure_h264_mp4(source, served.directory / PEDESTRIANS_CLIP)
    return served


@pytest.mark.django_db(transaction=True)
def test_a_vision_worker_counts_the_real_pedestrians_as_the_counter_does_on_the_file(
    vision_worker_processes, pedestrians_served
):
    video = VideoFile(pedestrians_served.directory / PEDESTRIANS_CLIP)
    try:
        config = CountingConfig(mode="line", line=Line(0, 500, 1280, 500))
        on_file = FrameCounting(config, source_size=(video.width, video.height), live=True)
        for frame in video:
            on_file.feed(frame)
        on_file = on_file.finish().totals  # measured: 9 in, 6 out (the first 3 s are learnt, not counted)
    finally:
        video.close()
    camera = counting_camera("CAM-63", pedestrians_served.url(PEDESTRIANS_CLIP), **PEDESTRIANS_SET_UP)
    # Decoded at the counter's own processing width: the scaling is ffmpeg's, and the worker keeps up.
    Camera.objects.filter(pk=camera.pk).update(detect_width=640, detect_height=360)

    vision_worker_processes("worker-a")

    run = wait_for(lambda: last_run("CAM-63"), 90, "the first pass counted")
    # The same live counter on the stream's frames. Where the machine cannot analyse all 25 frames a second
    # (measured here, busy: 18 a second; 9 in, 4 out against the file's 9 and 7) tracks thin out and some
    # crossings are lost; none is invented or counted twice.
    assert run["in"] <= on_file["in"] + 1 and run["out"] <= on_file["out"] + 1
    assert run["in"] + run["out"] >= (on_file["in"] + on_file["out"]) // 2
    assert stored_total("CAM-63") == run["in"] + run["out"]
