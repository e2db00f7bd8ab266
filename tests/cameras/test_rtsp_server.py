"""The local RTSP server (aio-rtsp-toolkit in a child process), the clips it serves, and ``manage.py demo_stream``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from django.conf import settings

from cameras.probing import probe_stream
from cameras.rtsp_server import RtspTestServer, ensure_h264_mp4, free_port, make_test_clip, prepare_demo_clip
from tests.cameras.conftest import Clip, LiveStream

BASE_DIR = Path(__file__).resolve().parents[2]


def video_facts(path: Path) -> tuple[int, int, float, int]:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        return (
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            capture.get(cv2.CAP_PROP_FPS),
            int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
        )
    finally:
        capture.release()


def test_make_test_clip_writes_an_h264_clip_of_the_asked_size_and_length(tmp_path: Path):
    clip = make_test_clip(tmp_path / "pattern.mp4", seconds=2, size=(320, 240), fps=10)
    assert video_facts(clip) == (320, 240, 10.0, 20)
    assert probe_stream(str(clip)).codec == "h264"


def test_ensure_h264_mp4_trims_and_scales_any_video(tmp_path: Path, stream_clip: Clip):
    source = tmp_path / "source.avi"
    subprocess.run([sys.executable, "-c", "import shutil,sys; shutil.copy(sys.argv[1], sys.argv[2])",
                    str(stream_clip.path), str(source)], check=True)  # fmt: skip
    dest = ensure_h264_mp4(source, tmp_path / "out" / "small.mp4", seconds=2, width=320)
    width, height, fps, frames = video_facts(dest)
    assert (width, height) == (320, round(320 * stream_clip.height / stream_clip.width / 2) * 2)
    assert frames == pytest.approx(2 * fps, abs=1)


def test_ensure_h264_mp4_keeps_a_clip_that_is_newer_than_its_source(tmp_path: Path, stream_clip: Clip):
    dest = tmp_path / "kept.mp4"
    dest.write_bytes(b"already made")
    assert ensure_h264_mp4(stream_clip.path, dest).read_bytes() == b"already made"


def test_ensure_h264_mp4_of_a_missing_source_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        ensure_h264_mp4(tmp_path / "missing.avi", tmp_path / "out.mp4")


def test_ensure_h264_mp4_of_a_non_video_raises_and_leaves_no_file(tmp_path: Path):
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video" * 50)
    with pytest.raises(RuntimeError, match="ffmpeg exited"):
        ensure_h264_mp4(junk, tmp_path / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.avi"]


def test_server_url_names_the_file_and_loops_on_request(rtsp_server: LiveStream):
    port = rtsp_server.server.port
    assert rtsp_server.server.url("a b.mp4") == f"rtsp://127.0.0.1:{port}/a%20b.mp4"
    assert rtsp_server.server.url("a.mp4", loop=True) == f"rtsp://127.0.0.1:{port}/a.mp4?play_count=0"


def test_server_stops_and_frees_its_port(stream_clip: Clip):
    with RtspTestServer(stream_clip.path.parent) as server:
        assert probe_stream(server.url(stream_clip.path.name), timeout=10).ok
    assert not server.running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass


def test_server_on_a_missing_folder_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        RtspTestServer(tmp_path / "missing").start()


def test_server_on_a_port_in_use_raises(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(RuntimeError, match="did not start"):
            RtspTestServer(tmp_path, port=taken.getsockname()[1], startup_timeout=5).start()


def test_prepare_demo_clip_without_footage_generates_a_test_pattern(tmp_path: Path):
    clip = prepare_demo_clip(tmp_path, source=tmp_path / "absent.avi")
    assert clip == tmp_path / "demo.mp4"
    assert video_facts(clip)[:2] == (1280, 720)


def test_prepare_demo_clip_transcodes_the_footage_it_is_given(tmp_path: Path, stream_clip: Clip):
    clip = prepare_demo_clip(tmp_path, source=stream_clip.path)
    assert video_facts(clip)[:2] == (stream_clip.width, stream_clip.height)


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_demo_stream_command_serves_a_looping_stream_until_terminated(tmp_path: Path, stream_clip: Clip):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL,
           "ARGUS_VAR_DIR": str(tmp_path), "ARGUS_DEMO_RTSP_PORT": str(port), "PYTHONUNBUFFERED": "1"}  # fmt: skip
    command = [sys.executable, "manage.py", "demo_stream", "--source", str(stream_clip.path)]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        expected = f"rtsp://127.0.0.1:{port}/demo.mp4?play_count=0"
        deadline, output = time.monotonic() + 60, b""
        while expected.encode() not in output and time.monotonic() < deadline and process.poll() is None:
            output += process.stdout.readline()
        assert expected.encode() in output, output.decode()
        result = probe_stream(expected, timeout=10)
        assert (result.ok, result.width) == (True, stream_clip.width)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=15)
        assert process.returncode == 0
        assert b"Stopped." in rest
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not probe_stream(expected, timeout=5).ok
