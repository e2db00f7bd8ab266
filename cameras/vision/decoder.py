"""One ffmpeg decoder per stream: frames at the analysis size and rate, for as long as the stream lives.

ffmpeg (imageio-ffmpeg's binary) opens the stream the way its type says (RTSP over TCP, HTTP/MJPEG, a local
file played in real time and looped, a USB device), drops to the analysis rate with its ``fps`` filter,
scales down to the detect resolution (never up), and writes raw BGR frames to a pipe. A reader thread keeps
only the newest frame: an analysis that falls behind skips frames (counted as dropped) instead of falling
further behind the live picture. When the stream ends or fails, the decoder reconnects with backoff until it
is stopped. Nothing here needs Django.
"""

from __future__ import annotations

import contextlib
import logging
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
_OUTPUT_SIZE = re.compile(r"Stream #\d+:\d+.*?: Video: rawvideo.*?, (\d{2,5})x(\d{2,5})")
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
IO_TIMEOUT_SECONDS = 10.0
# A stream that gives no frame for this long is treated as dead and reopened.
STALL_SECONDS = 15.0
STDERR_LINES_KEPT = 30
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class DecoderSettings:
    """What to decode and how: the stream, the largest frame analysed, and the analysis rate."""

    url: str
    stream_type: str = "RTSP"
    max_width: int = 1280
    max_height: int = 720
    fps: float = 5.0


@dataclass
class Frame:
    """One decoded frame: BGR pixels at the analysis size, when it was captured (epoch seconds), its number,
    and which of the decoder's connections it came from (a reconnected stream may restart its content)."""

    pixels: np.ndarray
    captured_at: float
    index: int
    connection: int = 0

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass
class DecoderStats:
    """What the decoder has seen; read by the worker for the camera's health."""

    connected: bool = False
    frames_decoded: int = 0
    frames_dropped: int = 0
    connects: int = 0
    last_frame_at: float | None = None
    last_error: str = ""
    connected_at: float | None = None
    width: int | None = None  # of the analysed frames
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
        return round(sum(1 for t in self.recent if t > start) / (now - start), 2)


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


def output_args(settings: DecoderSettings) -> list[str]:
    """Raw BGR frames at the analysis rate, scaled down (never up) to fit the detect resolution."""
    scale = (
        f"scale=w='min({settings.max_width},iw)':h='min({settings.max_height},ih)'"
        ":force_original_aspect_ratio=decrease:force_divisible_by=2"
    )
    return [
        "-an",
        "-sn",
        "-dn",
        "-vf",
        f"fps={settings.fps:g},{scale}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]


class StreamDecoder:
    """Decodes one stream in the background until :meth:`stop`; :meth:`next_frame` hands out the newest frame."""

    def __init__(self, settings: DecoderSettings, name: str = "") -> None:
        self.settings = settings
        self.name = name or settings.url.split("@")[-1]
        self.stats = DecoderStats()
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self._latest: Frame | None = None
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

    def next_frame(self, timeout: float = 1.0) -> Frame | None:
        """The newest frame not handed out yet, waiting up to ``timeout``; None when there is none (or stopped)."""
        with self._ready:
            if self._latest is None:
                self._ready.wait(timeout)
            frame, self._latest = self._latest, None
            return frame

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
        command = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-loglevel",
            "info",
            *input_args(url, self.settings.stream_type),
            *output_args(self.settings),
        ]
        self._stderr.clear()
        size_known = threading.Event()
        size: list[int] = []
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        self.stats.connects += 1
        errors = threading.Thread(
            target=self._read_stderr, args=(self._process, size, size_known), name=f"ffmpeg log {self.name}"
        )
        errors.daemon = True
        errors.start()
        watchdog = threading.Thread(target=self._watch_stall, args=(self._process,), daemon=True)
        watchdog.start()
        try:
            if not size_known.wait(IO_TIMEOUT_SECONDS + 5) or not size:
                self.stats.last_error = self._error_text() or "no video stream found"
                return
            width, height = size
            self.stats.width, self.stats.height = width, height
            self.stats.source = parse_video_stream("\n".join(self._stderr))
            self._read_frames(self._process, width, height)
        finally:
            self._kill()
            errors.join(2)
            if not self.stats.last_error:
                self.stats.last_error = self._error_text() or "stream ended"

    def _read_frames(self, process: subprocess.Popen[bytes], width: int, height: int) -> None:
        frame_bytes = width * height * 3
        stdout = process.stdout
        assert stdout is not None
        while not self._stop.is_set():
            buffer = bytearray(frame_bytes)
            view = memoryview(buffer)
            filled = 0
            while filled < frame_bytes:
                read = stdout.readinto(view[filled:])
                if not read:
                    return
                filled += read
            now = time.time()
            pixels = np.frombuffer(buffer, dtype=np.uint8).reshape(height, width, 3)
            self.stats.frames_decoded += 1
            self.stats.last_frame_at = now
            self.stats.recent.append(now)
            if not self.stats.connected:
                self.stats.connected, self.stats.connected_at, self.stats.last_error = True, now, ""
            with self._ready:
                if self._latest is not None:
                    self.stats.frames_dropped += 1
                self._latest = Frame(
                    pixels=pixels, captured_at=now, index=self.stats.frames_decoded, connection=self.stats.connects
                )
                self._ready.notify_all()

    def _read_stderr(self, process: subprocess.Popen[bytes], size: list[int], size_known: threading.Event) -> None:
        assert process.stderr is not None
        in_output = False
        for raw in iter(process.stderr.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            if line.startswith("Output #"):
                in_output = True
            elif in_output and not size:
                match = _OUTPUT_SIZE.search(line)
                if match:
                    size.extend((int(match.group(1)), int(match.group(2))))
                    size_known.set()
        size_known.set()

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
        for line in reversed(self._stderr):
            text = line.strip()
            if text and not text.startswith(("Input #", "Output #", "Stream #", "Metadata", "Duration", "  ")):
                return text[:300]
        return ""
