"""Probing streams and grabbing frames with the ffmpeg binary, against a real RTSP server and real dead ends."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cameras import probing
from cameras.probing import ProbeResult, StreamUnavailable, ffmpeg_exe, grab_frame, probe_stream
from tests.cameras.conftest import LiveStream


@pytest.fixture(scope="module")
def live_probe(rtsp_server: LiveStream) -> ProbeResult:
    return probe_stream(rtsp_server.url, timeout=10)


def test_probe_of_a_live_rtsp_stream_is_ok(live_probe: ProbeResult):
    assert live_probe.ok, live_probe.error
    assert live_probe.error == ""


def test_probe_reports_the_stream_size(live_probe: ProbeResult, rtsp_server: LiveStream):
    assert (live_probe.width, live_probe.height) == (rtsp_server.clip.width, rtsp_server.clip.height)


def test_probe_reports_the_stream_frame_rate(live_probe: ProbeResult, rtsp_server: LiveStream):
    assert live_probe.fps == pytest.approx(rtsp_server.clip.fps, rel=0.05)


def test_probe_reports_the_codec(live_probe: ProbeResult):
    assert live_probe.codec == "h264"


def test_probe_measures_a_bitrate(live_probe: ProbeResult):
    assert 0 < live_probe.bitrate_mbps < 50


def test_probe_measures_the_latency_to_the_first_frame(live_probe: ProbeResult):
    assert 0 < live_probe.latency_ms < 10_000


def test_probe_stream_info_has_the_003_test_shape(live_probe: ProbeResult):
    assert set(live_probe.stream_info) == {"codec", "width", "height", "fps"}


def _announced_sdp(url: str) -> list[str]:
    """The ``a=`` lines of the SDP the server answers to DESCRIBE, as ffmpeg's debug log prints them."""
    log = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-v",
            "debug",
            "-rtsp_transport",
            "tcp",
            "-i",
            url,
            "-t",
            "0.1",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    ).stderr
    return [line for line in log.splitlines() if line.startswith("a=")]


def test_the_in_band_stream_announces_no_parameter_sets(in_band_stream: LiveStream, rtsp_server: LiveStream):
    announced = _announced_sdp(in_band_stream.url)
    assert "a=rtpmap:96 H264/90000" in announced
    assert not any("sprop-parameter-sets" in line for line in announced)
    # ...while the usual clip does announce them: the test above reads the SDP the right way
    assert any("sprop-parameter-sets" in line for line in _announced_sdp(rtsp_server.url))


def test_probe_of_a_stream_without_parameter_sets_in_its_sdp_reports_its_size(in_band_stream: LiveStream):
    result = probe_stream(in_band_stream.url, timeout=10)
    assert (result.ok, result.error) == (True, "")
    assert (result.width, result.height, result.codec) == (
        in_band_stream.clip.width,
        in_band_stream.clip.height,
        "h264",
    )
    assert result.fps == pytest.approx(in_band_stream.clip.fps, rel=0.05)


def test_the_latency_of_a_probe_that_fell_back_counts_both_attempts(in_band_stream: LiveStream, monkeypatch):
    attempts: list[tuple[float, float | None]] = []  # (seconds the attempt took, its first frame after start)
    real_probe_once = probing._probe_once

    def timed_probe_once(*args, **kwargs):
        began = time.monotonic()
        result, run = real_probe_once(*args, **kwargs)
        attempts.append((time.monotonic() - began, run.first_output_s))
        return result, run

    monkeypatch.setattr(probing, "_probe_once", timed_probe_once)

    result = probe_stream(in_band_stream.url, timeout=10)

    assert result.ok and len(attempts) == 2  # the fast attempt sized nothing; the normal one did
    (first_took, _), (_, second_first_frame) = attempts
    assert second_first_frame is not None
    # From the start of the probe to the first frame: all of the first attempt, then the second's wait.
    assert result.latency_ms == pytest.approx((first_took + second_first_frame) * 1000, abs=5)


def test_grab_frame_of_a_stream_without_parameter_sets_in_its_sdp(in_band_stream: LiveStream):
    data = grab_frame(in_band_stream.url, timeout=10)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (in_band_stream.clip.height, in_band_stream.clip.width)


def test_probe_of_a_closed_port_fails_with_connection_refused(closed_port_url: str):
    result = probe_stream(closed_port_url, timeout=5)
    assert (result.ok, result.error) == (False, "Connection refused")


def test_probe_of_a_server_that_never_answers_returns_a_timeout(silent_server_url: str):
    result = probe_stream(silent_server_url, timeout=2)
    assert not result.ok
    assert "timeout" in result.error.lower()


def test_probe_of_a_server_that_trickles_junk_is_stopped_at_the_deadline(trickling_server_url: str):
    result = probe_stream(trickling_server_url, timeout=2)
    assert (result.ok, result.error) == (False, "Connection timeout (no frame within 2 s)")


def test_grab_frame_of_a_server_that_trickles_junk_is_stopped_at_the_deadline(trickling_server_url: str):
    with pytest.raises(StreamUnavailable, match="Connection timeout"):
        grab_frame(trickling_server_url, timeout=2)


def test_probe_of_an_unknown_stream_path_says_not_found(rtsp_server: LiveStream):
    result = probe_stream(rtsp_server.server.url("no-such-clip.mp4"), timeout=5)
    assert (result.ok, result.error) == (False, "Stream not found (404 Not Found)")


@pytest.mark.parametrize("url", ["not a url at all", "foo://bar/baz", "rtsp://", ""])
def test_probe_of_a_garbage_url_fails_cleanly(url: str):
    result = probe_stream(url, timeout=5)
    assert not result.ok
    assert result.error


def test_probe_of_a_non_rtsp_server_fails_cleanly(rtsp_server: LiveStream):
    result = probe_stream(f"http://127.0.0.1:{rtsp_server.server.port}/pedestrians.mp4", timeout=5)
    assert not result.ok
    assert result.error


def test_probe_of_a_local_file_is_ok_with_its_size(stream_clip):
    result = probe_stream(str(stream_clip.path), timeout=10)
    assert (result.ok, result.width, result.height, result.codec) == (
        True,
        stream_clip.width,
        stream_clip.height,
        "h264",
    )


def test_probe_of_a_file_that_is_not_a_video_fails(tmp_path: Path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    result = probe_stream(str(junk), timeout=5)
    assert (result.ok, result.error) == (False, "Not a video stream (invalid data)")


def test_probe_of_audio_without_video_says_no_video_stream(tmp_path: Path):
    tone = tmp_path / "tone.wav"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(tone)], check=True, timeout=30
    )
    result = probe_stream(str(tone), timeout=5)
    assert (result.ok, result.error) == (False, "No video stream")


def test_grab_frame_returns_a_jpeg_of_the_stream_size(rtsp_server: LiveStream):
    data = grab_frame(rtsp_server.url, timeout=10)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert data[:2] == b"\xff\xd8"
    assert image.shape[:2] == (rtsp_server.clip.height, rtsp_server.clip.width)


def test_grab_frame_of_a_closed_port_raises_stream_unavailable(closed_port_url: str):
    with pytest.raises(StreamUnavailable, match="Connection refused"):
        grab_frame(closed_port_url, timeout=5)


def test_grab_frame_of_a_server_that_never_answers_raises_stream_unavailable(silent_server_url: str):
    with pytest.raises(StreamUnavailable, match="Connection timeout"):
        grab_frame(silent_server_url, timeout=2)


def test_opencv_reads_frames_from_the_rtsp_server(rtsp_server: LiveStream, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
    capture = cv2.VideoCapture(rtsp_server.url, cv2.CAP_FFMPEG)
    try:
        frames = [capture.read() for _ in range(5)]
    finally:
        capture.release()
    assert all(ok for ok, _ in frames)
    assert frames[-1][1].shape[:2] == (rtsp_server.clip.height, rtsp_server.clip.width)


def test_the_ffmpeg_binary_has_libx264():
    encoders = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, timeout=30).stdout
    assert b"libx264" in encoders


@pytest.fixture
def fresh_ffmpeg_search(monkeypatch):
    """ffmpeg looked up anew (imageio-ffmpeg's remembered search forgotten), and again after the test."""
    import imageio_ffmpeg._utils

    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    imageio_ffmpeg._utils._get_ffmpeg_exe.cache_clear()
    yield imageio_ffmpeg._utils
    imageio_ffmpeg._utils._get_ffmpeg_exe.cache_clear()


def test_a_failed_ffmpeg_search_is_tried_again(fresh_ffmpeg_search, monkeypatch):
    # `ffmpeg -version` refused once (a fork under load): the next call finds the binary.
    with monkeypatch.context() as refused:
        refused.setattr(fresh_ffmpeg_search, "_is_valid_exe", lambda exe: False)
        with pytest.raises(RuntimeError):
            ffmpeg_exe()
    found = ffmpeg_exe()
    assert Path(found).is_file()
    assert subprocess.run([found, "-version"], capture_output=True, timeout=30).returncode == 0


def test_the_ffmpeg_found_is_kept(fresh_ffmpeg_search, monkeypatch):
    found = ffmpeg_exe()
    monkeypatch.setattr(fresh_ffmpeg_search, "_is_valid_exe", lambda exe: False)  # not searched again
    assert ffmpeg_exe() == found


def test_imageio_ffmpeg_exe_setting_is_taken_as_given(fresh_ffmpeg_search, monkeypatch):
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "/opt/ffmpeg/bin/ffmpeg")
    assert ffmpeg_exe() == "/opt/ffmpeg/bin/ffmpeg"
