"""Fixtures of the camera tests: a real RTSP server streaming real footage, and dead endpoints beside it.

The stream is ``../shared/data/video/pedestrians.avi`` cut to 15 s and scaled to 640 wide, as H.264 MP4,
served by aio-rtsp-toolkit; where ``../shared`` is absent (a user's own clone) a generated test pattern of
the same size stands in, so these tests still run.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest

from cameras.rtsp_server import RtspTestServer, ensure_h264_mp4, free_port, make_in_band_clip, make_test_clip

PEDESTRIANS = Path(__file__).resolve().parents[3] / "shared" / "data" / "video" / "pedestrians.avi"
CLIP_NAME = "pedestrians.mp4"
IN_BAND_CLIP_NAME = "pedestrians-in-band.mp4"


@dataclass(frozen=True)
class Clip:
    """An H.264 MP4 and its facts as OpenCV reads them from the file (independent of our ffmpeg parsing)."""

    path: Path
    width: int
    height: int
    fps: float


@dataclass(frozen=True)
class LiveStream:
    """The running server, the URL of its (endlessly replayed) clip, and the clip."""

    server: RtspTestServer
    url: str
    clip: Clip


def _clip_facts(path: Path) -> Clip:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()
    assert width and height and fps, f"OpenCV could not read {path}"
    return Clip(path=path, width=width, height=height, fps=fps)


@pytest.fixture(scope="session")
def stream_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """A short H.264 MP4 of real footage (or a test pattern when ../shared is absent)."""
    directory = tmp_path_factory.mktemp("rtsp")
    dest = directory / CLIP_NAME
    if PEDESTRIANS.is_file():
        ensure_h264_mp4(PEDESTRIANS, dest, seconds=15, width=640)
    else:
        make_test_clip(dest, seconds=15, size=(640, 360), fps=25)
    return _clip_facts(dest)


@pytest.fixture(scope="session")
def rtsp_server(stream_clip: Clip) -> Iterator[LiveStream]:
    """The aio-rtsp-toolkit server on a free local port, serving ``stream_clip`` for the whole run."""
    with RtspTestServer(stream_clip.path.parent, log_path=stream_clip.path.parent / "server.log") as server:
        yield LiveStream(server=server, url=server.url(CLIP_NAME, loop=True), clip=stream_clip)


@pytest.fixture(scope="session")
def in_band_stream(rtsp_server: LiveStream) -> LiveStream:
    """The same footage with its parameter sets (SPS/PPS) in-band only, as many cameras send it: the SDP the
    server answers carries no ``sprop-parameter-sets`` and the first second has none either (a client that
    joins mid-GOP), so a client learns the picture size only at the second keyframe."""
    clip = rtsp_server.clip
    make_in_band_clip(clip.path, clip.path.with_name(IN_BAND_CLIP_NAME))
    return LiveStream(server=rtsp_server.server, url=rtsp_server.server.url(IN_BAND_CLIP_NAME, loop=True), clip=clip)


@pytest.fixture
def closed_port_url() -> str:
    """An RTSP URL on a local port nothing listens on."""
    return f"rtsp://127.0.0.1:{free_port()}/live.mp4"


@contextmanager
def _fake_server(trickle: bool) -> Iterator[str]:
    """A local TCP server that accepts and then never answers, or answers one junk byte every 0.3 s."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                accepted.append(listener.accept()[0])
            for connection in accepted if trickle else []:
                with contextlib.suppress(OSError):
                    connection.send(b"X")
            if trickle:
                stop.wait(0.3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"rtsp://127.0.0.1:{listener.getsockname()[1]}/live"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in accepted:
            connection.close()
        listener.close()


@pytest.fixture
def silent_server_url() -> Iterator[str]:
    """An RTSP URL whose server accepts the connection and never answers (a hung camera)."""
    with _fake_server(trickle=False) as url:
        yield url


@pytest.fixture
def trickling_server_url() -> Iterator[str]:
    """An RTSP URL whose server keeps sending a junk byte now and then: no read ever times out on its own."""
    with _fake_server(trickle=True) as url:
        yield url
