"""One ffmpeg decoder per stream: frames at the analysis size and rate, newest first, reconnecting when the
stream comes back. Against the real RTSP server streaming real footage."""

from __future__ import annotations

import time

import psutil
import pytest

from cameras.rtsp_server import RtspTestServer
from cameras.vision.decoder import DecoderSettings, DecoderStats, SideOutput, StreamDecoder
from cameras.vision.registry import StreamDemand, VisionStream


def _frames(decoder: StreamDecoder, seconds: float) -> list:
    frames, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = decoder.next_frame(timeout=0.5)
        if frame is not None:
            frames.append(frame)
    return frames


@pytest.fixture
def decoder_for():
    started: list[StreamDecoder] = []

    def start(url: str, **settings) -> StreamDecoder:
        decoder = StreamDecoder(DecoderSettings(url=url, **settings)).start()
        started.append(decoder)
        return decoder

    yield start
    for decoder in started:
        decoder.stop()


def test_frames_are_scaled_down_to_fit_the_detect_resolution(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url, max_width=320, max_height=320, fps=5)

    frame = _frames(decoder, 4)[-1]

    # 640x360 footage fits 320 wide, keeping its aspect ratio
    assert (frame.width, frame.height) == (320, 180)
    assert frame.pixels.shape == (180, 320, 3)


def test_frames_are_never_scaled_up(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url, max_width=1920, max_height=1080, fps=5)

    frame = _frames(decoder, 3)[-1]

    assert (frame.width, frame.height) == (rtsp_server.clip.width, rtsp_server.clip.height)


def test_a_stream_without_parameter_sets_in_its_sdp_is_decoded_at_its_size(in_band_stream, decoder_for):
    decoder = decoder_for(in_band_stream.url, fps=5)

    frames = _frames(decoder, 5)

    assert frames
    assert (frames[-1].width, frames[-1].height) == (in_band_stream.clip.width, in_band_stream.clip.height)
    assert decoder.stats.source["codec"] == "h264"


def test_frames_come_at_the_analysis_rate(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url, fps=4)
    _frames(decoder, 2)  # past the first burst of a new connection

    frames = _frames(decoder, 5)

    assert 14 <= len(frames) <= 26  # 4 per second, not the stream's 25
    assert frames[-1].captured_at > frames[0].captured_at


def test_the_stream_is_described_as_ffmpeg_sees_it(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url)
    _frames(decoder, 2)

    assert decoder.stats.source["codec"] == "h264"
    assert (decoder.stats.source["width"], decoder.stats.source["height"]) == (640, 360)
    assert decoder.stats.connected


def test_a_side_output_gives_smaller_frames_at_its_own_rate_from_the_same_ffmpeg(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url, fps=5, side=SideOutput(max_width=160, max_height=720, fps=25))
    _frames(decoder, 2)  # past the first burst of a new connection

    frames = _frames(decoder, 4)

    main = [frame for frame in frames if frame.output == 0]
    side = [frame for frame in frames if frame.output == 1]
    assert {(frame.width, frame.height) for frame in main} == {(640, 360)}
    assert {(frame.width, frame.height) for frame in side} == {(160, 90)}
    assert 12 <= len(main) <= 28 and len(side) >= 3 * len(main)  # 5 and 25 a second
    assert [frame.index for frame in side] == sorted({frame.index for frame in side})
    process = psutil.Process(decoder.pid)
    assert "[out1]" in " ".join(process.cmdline())  # one ffmpeg writes both outputs
    assert decoder.stats.width == 640


def test_a_stream_decodes_smaller_faster_demands_on_a_side_output():
    camera = StreamDemand(kind="camera", id="C1", url="rtsp://h/s", max_width=1280, max_height=720, fps=5)
    counter = StreamDemand(kind="counting", id="C1", url="rtsp://h/s", max_width=320, max_height=720, fps=25)
    slow = StreamDemand(kind="slow", id="C1", url="rtsp://h/s", max_width=320, max_height=720, fps=2)

    settings = VisionStream("s", (camera, counter, slow)).decoder_settings()
    assert (settings.max_width, settings.max_height, settings.fps) == (1280, 720, 5)
    assert settings.side == SideOutput(max_width=320, max_height=720, fps=25, queue=12)
    stream = VisionStream("s", (camera, counter, slow))
    assert (stream.output_of("counting"), stream.output_of("slow"), stream.output_of(None)) == (1, 0, 0)
    # Full-size frames at the higher rate serve everyone: one output.
    full = StreamDemand(kind="counting", id="C1", url="rtsp://h/s", max_width=1280, max_height=720, fps=25)
    settings = VisionStream("s", (camera, full)).decoder_settings()
    assert (settings.fps, settings.side) == (25, None)


def test_a_slow_reader_gets_the_newest_frame_and_drops_are_counted(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url, fps=10)
    _frames(decoder, 2)

    time.sleep(2)
    frame = decoder.next_frame(timeout=1)

    assert decoder.stats.frames_dropped >= 10
    assert time.time() - frame.captured_at < 0.5


def test_a_closed_port_is_reported_and_retried(closed_port_url, decoder_for):
    decoder = decoder_for(closed_port_url)

    assert _frames(decoder, 3.5) == []
    assert not decoder.stats.connected
    assert "refused" in decoder.stats.last_error.lower()
    assert decoder.stats.connects >= 2


def test_a_stream_that_drops_and_comes_back_is_decoded_again(stream_clip, decoder_for, tmp_path):
    server = RtspTestServer(stream_clip.path.parent).start()
    port = server.port
    try:
        decoder = decoder_for(server.url(stream_clip.path.name, loop=True), fps=5)
        assert _frames(decoder, 3)
        server.stop()
        _frames(decoder, 2)
        assert not decoder.stats.connected

        server = RtspTestServer(stream_clip.path.parent, port=port).start()
        frames = _frames(decoder, 12)
    finally:
        server.stop()

    assert frames, "no frame after the stream came back"
    assert decoder.stats.connects >= 2


def test_a_local_file_plays_in_real_time_and_loops(stream_clip, decoder_for, settings):
    settings.CAMERA_FILES_ROOT = stream_clip.path.parent
    decoder = decoder_for(str(stream_clip.path), stream_type="Local File", fps=5)

    frames = _frames(decoder, 4)

    assert 12 <= len(frames) <= 25


def test_stop_ends_ffmpeg(rtsp_server, decoder_for):
    decoder = decoder_for(rtsp_server.url)
    _frames(decoder, 2)
    pid = decoder.pid
    assert pid is not None

    decoder.stop()

    assert decoder.pid is None and not decoder.running


def test_the_analysed_rate_is_read_while_the_reader_thread_adds_frames():
    import sys
    import threading

    now = time.time()
    stats = DecoderStats(connected=True, connected_at=now - 60)
    stats.recent.extend(now - 5 + i / 100 for i in range(300))
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            stats.recent.append(time.time())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns as often as they can
    appender = threading.Thread(target=reader)
    appender.start()
    try:
        rates = [stats.analysed_fps(now) for _ in range(2000)]
    finally:
        stop.set()
        appender.join(10)
        sys.setswitchinterval(previous)

    assert all(rate > 0 for rate in rates)
