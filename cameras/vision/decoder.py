"""One ffmpeg decoder per stream: frames at the analysis size and rate, for as long as the stream lives.

ffmpeg (imageio-ffmpeg's binary) opens the stream the way its type says (RTSP over TCP, HTTP/MJPEG, a local
file played in real time and looped, a USB device), drops to the analysis rate with its ``fps`` filter,
scales down to the detect resolution (never up), and writes raw BGR frames to a pipe. A reader thread keeps
only the newest frame: an analysis that falls behind skips frames (counted as dropped) instead of falling
further behind the live picture. When the stream ends or fails, the decoder reconnects with backoff until it
is stopped. Nothing here needs Django.

The same ffmpeg process can write a second, *side* output to a second pipe: smaller frames at a higher rate
(the counter's 320-pixel frames at 25 fps beside the faces' 720p at 5), so the full-size frames are converted,
piped and looked at only at the rate that needs them. Each frame says which output it belongs to.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np

from cameras.probing import ffmpeg_exe, parse_video_stream
from cameras.streams import url_to_open

logger = logging.getLogger("argus.vision")

# An output stream's line in ffmpeg's log: "Stream #0:0: Video: rawvideo (BGR[24] ...), bgr24(...), 640x360 ..."
_OUTPUT_HEADER = re.compile(r"^Output #(\d+)")
_OUTPUT_SIZE = re.compile(r"Stream #\d+:\d+.*?: Video: rawvideo.*?, (\d{2,5})x(\d{2,5})")
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
IO_TIMEOUT_SECONDS = 10.0
# A stream that gives no frame for this long is treated as dead and reopened.
STALL_SECONDS = 15.0
STDERR_LINES_KEPT = 30
SETTLE_SECONDS = 2.0
# A 720p BGR frame is 2.7 MB: through Linux's default 64 kB pipe, ffmpeg and the reader take turns some forty
# times a frame. With 1 MB (the unprivileged maximum by default) they take three, at half the reader's CPU.
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


@dataclass(frozen=True)
class SideOutput:
    """A second output of the same decoder: frames fitted into ``max_width`` x ``max_height`` at ``fps``."""

    max_width: int
    max_height: int
    fps: float
    # Frames kept for a reader that is busy for a moment (the counter's frames while the same camera's face
    # search runs): every frame counts there, a little late is fine. The main output keeps the newest only.
    queue: int = 1


@dataclass(frozen=True)
class DecoderSettings:
    """What to decode and how: the stream, the largest frame analysed, and the analysis rate; optionally a
    side output of smaller frames at a higher rate (output 1)."""

    url: str
    stream_type: str = "RTSP"
    max_width: int = 1280
    max_height: int = 720
    fps: float = 5.0
    side: SideOutput | None = None

    @property
    def outputs(self) -> list[tuple[int, int, float]]:
        """(max_width, max_height, fps) of each output, the main one first."""
        main = [(self.max_width, self.max_height, self.fps)]
        return main + ([(self.side.max_width, self.side.max_height, self.side.fps)] if self.side else [])


@dataclass
class Frame:
    """One decoded frame: BGR pixels at the analysis size, when it was captured (epoch seconds), its number
    (in its output), which of the decoder's connections it came from (a reconnected stream may restart its
    content), and which output (0 the main one, 1 the side one)."""

    pixels: np.ndarray
    captured_at: float
    index: int
    connection: int = 0
    output: int = 0

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass
class DecoderStats:
    """What the decoder has seen; read by the worker for the camera's health. Frames and drops are those of
    every output; the rate (``recent``) is that of the fastest output."""

    connected: bool = False
    frames_decoded: int = 0
    frames_dropped: int = 0
    connects: int = 0
    last_frame_at: float | None = None
    last_error: str = ""
    connected_at: float | None = None
    width: int | None = None  # of the analysed frames (the main output)
    height: int | None = None
    source: dict = field(default_factory=dict)  # the stream as ffmpeg describes it: codec, width, height, fps
    recent: deque = field(default_factory=lambda: deque(maxlen=300))  # capture times of recent frames

    def analysed_fps(self, now: float | None = None, window: float = 10.0) -> float:
        """Frames per second analysed over the last ``window`` seconds (or since the connection, if later)."""
        now = now or time.time()
        if not self.connected or self.connected_at is None:
            return 0.0
        # A new connection first delivers a burst of buffered frames: leave its first seconds out.
        start = max(self.connected_at + SETTLE_SECONDS, now - window)
        if now - start < 1.0:
            return 0.0
        # A copy first (made in one step under the GIL): the reader thread appends meanwhile, and iterating the
        # deque itself while it grows raises.
        recent = tuple(self.recent)
        return round(sum(1 for t in recent if t > start) / (now - start), 2)


def input_args(url: str, stream_type: str) -> list[str]:
    """ffmpeg input options for a stream that is read continuously, ending in ``-i URL``.

    Unlike a probe, nothing is skipped at start: a normal stream analysis sizes streams whose SDP carries no
    parameter sets. Local files play at their own rate and loop, so a file acts as a live camera.
    """
    url = url.strip()
    io_timeout_us = str(int(IO_TIMEOUT_SECONDS * 1_000_000))
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("rtsp", "rtsps"):
        return ["-rtsp_transport", "tcp", "-timeout", io_timeout_us, "-i", url]
    if scheme in ("http", "https", "tcp", "udp", "rtmp", "rtmps", "srt"):
        return ["-rw_timeout", io_timeout_us, "-i", url]
    if url.isdigit():
        return ["-f", "v4l2", "-i", f"/dev/video{url}"]
    if re.fullmatch(r"/dev/video\d+", url):
        return ["-f", "v4l2", "-i", url]
    path = unquote(urlsplit(url).path) if scheme == "file" else url
    if stream_type == "Local File" or scheme == "file" or Path(path).is_file():
        return ["-re", "-stream_loop", "-1", "-i", path]
    return ["-i", url]


def _scale(max_width: int, max_height: int, flags: str = "") -> str:
    return (
        f"scale=w='min({max_width},iw)':h='min({max_height},ih)'"
        f":force_original_aspect_ratio=decrease:force_divisible_by=2{flags}"
    )


_RAW = ["-f", "rawvideo", "-pix_fmt", "bgr24"]


def output_args(settings: DecoderSettings, side_fd: int | None = None) -> list[str]:
    """Raw BGR frames at the analysis rate, scaled down (never up) to fit the detect resolution; with a side
    output, a second stream of frames (pixel-area averaging, as ``cv2.INTER_AREA``) written to ``side_fd``."""
    main = f"fps={settings.fps:g},{_scale(settings.max_width, settings.max_height)}"
    if settings.side is None or side_fd is None:
        return ["-an", "-sn", "-dn", "-vf", main, *_RAW, "pipe:1"]
    side = settings.side
    graph = (
        f"[0:v]split=2[main][side];[main]{main}[out0];"
        f"[side]fps={side.fps:g},{_scale(side.max_width, side.max_height, ':flags=area')}[out1]"
    )
    return ["-filter_complex", graph, "-map", "[out0]", *_RAW, "pipe:1", "-map", "[out1]", *_RAW, f"pipe:{side_fd}"]


class StreamDecoder:
    """Decodes one stream in the background until :meth:`stop`; :meth:`next_frame` hands out the newest frame."""

    def __init__(self, settings: DecoderSettings, name: str = "") -> None:
        self.settings = settings
        self.name = name or settings.url.split("@")[-1]
        self.stats = DecoderStats()
        self._stop = threading.Event()
        self._ready = threading.Condition()
        # The frames of each output not handed out yet: the newest only, or a few for a side output with a queue.
        self._pending: dict[int, deque[Frame]] = {0: deque(maxlen=1)}
        if settings.side is not None:
            self._pending[1] = deque(maxlen=max(1, settings.side.queue))
        self._counts: dict[int, int] = {}  # frames read from each output, over every connection
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self._thread = threading.Thread(target=self._run, name=f"decoder {self.name}", daemon=True)

    # --- Control ---------------------------------------------------------------------------------------

    def start(self) -> StreamDecoder:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop decoding: ffmpeg is killed and the reader thread ends."""
        self._stop.set()
        self._kill()
        with self._ready:
            self._ready.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def next_frame(self, timeout: float = 1.0, output: int | None = None) -> Frame | None:
        """The newest frame not handed out yet (of ``output``, or of any: the earliest captured first), waiting
        up to ``timeout``; None when there is none (or stopped). A side output with a queue hands out its
        frames oldest first."""
        outputs = list(self._pending) if output is None else [output]
        with self._ready:
            self._ready.wait_for(lambda: self._stop.is_set() or any(self._pending[k] for k in outputs), timeout)
            waiting = [k for k in outputs if self._pending[k]]
            if not waiting:
                return None
            first = min(waiting, key=lambda k: self._pending[k][0].captured_at)
            return self._pending[first].popleft()

    # --- The reader thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_START_SECONDS
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self._decode_once()
            except Exception as exc:  # a decoder must outlive any one failure; the next connect may work
                self.stats.last_error = f"decoder failed: {exc}"
                logger.exception("decoder of %s failed", self.name)
            self.stats.connected = False
            if self._stop.is_set():
                break
            # A connection that delivered for a while starts the backoff afresh.
            if time.monotonic() - started > 2 * BACKOFF_MAX_SECONDS:
                backoff = BACKOFF_START_SECONDS
            logger.info("stream %s ended (%s); reconnecting in %.0f s", self.name, self.stats.last_error, backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_SECONDS)

    def _decode_once(self) -> None:
        try:
            # Checked again at every connect: a local file's symlink may have been swapped since it was
            # saved, a name may resolve elsewhere now (an RTSP host is pinned to the address checked).
            url = url_to_open(self.settings.url, self.settings.stream_type)
        except ValueError as exc:
            self.stats.last_error = str(exc)
            return
        # The side output goes to a pipe of its own, inherited by ffmpeg under the same descriptor number.
        side_read, side_write = os.pipe() if self.settings.side is not None else (None, None)
        command = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-loglevel",
            "info",
            *input_args(url, self.settings.stream_type),
            *output_args(self.settings, side_write),
        ]
        self._stderr.clear()
        outputs = len(self.settings.outputs)
        size_known = threading.Event()
        sizes: dict[int, tuple[int, int]] = {}
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(side_write,) if side_write is not None else (),
            )
        except BaseException:
            if side_read is not None:
                os.close(side_read)
            raise
        finally:
            if side_write is not None:
                os.close(side_write)  # ffmpeg holds its own copy: the reader sees the end when ffmpeg exits
        side = os.fdopen(side_read, "rb") if side_read is not None else None
        for pipe in (self._process.stdout, side):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a smaller limit set by the host: the default size works
                    fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)
        self.stats.connects += 1
        errors = threading.Thread(
            target=self._read_stderr, args=(self._process, sizes, outputs, size_known), name=f"ffmpeg log {self.name}"
        )
        errors.daemon = True
        errors.start()
        watchdog = threading.Thread(target=self._watch_stall, args=(self._process,), daemon=True)
        watchdog.start()
        side_reader = None
        try:
            if not size_known.wait(IO_TIMEOUT_SECONDS + 5) or len(sizes) < outputs:
                self.stats.last_error = self._error_text() or "no video stream found"
                return
            width, height = sizes[0]
            self.stats.width, self.stats.height = width, height
            self.stats.source = parse_video_stream("\n".join(self._stderr))
            if side is not None:
                side_reader = threading.Thread(
                    target=self._read_frames, args=(side, *sizes[1], 1, True), name=f"decoder side {self.name}"
                )
                side_reader.daemon = True
                side_reader.start()
            assert self._process.stdout is not None
            self._read_frames(self._process.stdout, width, height, 0, side is None)
        finally:
            self._kill()
            errors.join(2)
            if side_reader is not None:
                side_reader.join(2)
            if side is not None:
                side.close()
            if not self.stats.last_error:
                self.stats.last_error = self._error_text() or "stream ended"

    def _read_frames(self, stdout, width: int, height: int, output: int = 0, rated: bool = True) -> None:
        """Read one output's frames until it ends; ``rated``: its frames make the analysed rate (the fastest)."""
        frame_bytes = width * height * 3
        while not self._stop.is_set():
            pixels = np.empty((height, width, 3), dtype=np.uint8)  # filled by the read: not zeroed first
            view = memoryview(pixels).cast("B")
            filled = 0
            while filled < frame_bytes:
                read = stdout.readinto(view[filled:])
                if not read:
                    return
                filled += read
            now = time.time()
            with self._ready:
                # Numbers keep growing across connections: an analyzer never takes a new frame for one it had.
                index = self._counts[output] = self._counts.get(output, 0) + 1
                self.stats.frames_decoded += 1
                self.stats.last_frame_at = now
                if rated:
                    self.stats.recent.append(now)
                if not self.stats.connected:
                    self.stats.connected, self.stats.connected_at, self.stats.last_error = True, now, ""
                pending = self._pending[output]
                if len(pending) == pending.maxlen:
                    self.stats.frames_dropped += 1  # the oldest waiting frame goes
                pending.append(
                    Frame(pixels=pixels, captured_at=now, index=index, connection=self.stats.connects, output=output)
                )
                self._ready.notify_all()

    def _read_stderr(
        self, process: subprocess.Popen[bytes], sizes: dict[int, tuple[int, int]], outputs: int, known: threading.Event
    ) -> None:
        assert process.stderr is not None
        output: int | None = None
        for raw in iter(process.stderr.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            header = _OUTPUT_HEADER.match(line)
            if header:
                output = int(header.group(1))
            elif output is not None and output not in sizes:
                match = _OUTPUT_SIZE.search(line)
                if match:
                    sizes[output] = (int(match.group(1)), int(match.group(2)))
                    if len(sizes) >= outputs:
                        known.set()
        known.set()

    def _watch_stall(self, process: subprocess.Popen[bytes]) -> None:
        """Kill an ffmpeg that stopped delivering (a frozen stream can hold a TCP connection open forever)."""
        started = time.time()
        while process.poll() is None and not self._stop.wait(1.0):
            last = self.stats.last_frame_at if self.stats.connected else started
            if time.time() - max(last or started, started) > STALL_SECONDS:
                self.stats.last_error = f"no frame for {STALL_SECONDS:.0f} s"
                self._kill(process)
                return

    def _kill(self, process: subprocess.Popen[bytes] | None = None) -> None:
        process = process or self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(3)

    def _error_text(self) -> str:
        """The most telling line of ffmpeg's log: the last one that is not a banner or stream description."""
        for line in reversed(tuple(self._stderr)):  # a copy: the log thread may still be adding lines
            text = line.strip()
            if text and not text.startswith(("Input #", "Output #", "Stream #", "Metadata", "Duration", "  ")):
                return text[:300]
        return ""
