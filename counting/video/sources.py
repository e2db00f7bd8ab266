"""Where frames come from: a video file (OpenCV) or a live stream (the ffmpeg binary, raw frames on a pipe).

Files are read with OpenCV's FFmpeg backend; a frame's time is its position in the video. Streams are
read by an ffmpeg child process that decodes and scales and writes raw BGR frames to a pipe: it can be
killed whatever state the network leaves it in, it speaks every protocol ``cameras.probing`` does (RTSP
over TCP, HTTP, files, devices), and its read timeouts are ffmpeg's own. A stream frame's time is the wall
clock when it arrived.
"""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cameras.probing import ffmpeg_exe, input_args


class SourceError(Exception):
    """The video could not be opened or stopped delivering frames; ``str(exc)`` says why."""


@dataclass
class Frame:
    """One decoded frame: the image (BGR), its time in seconds and its index in the source."""

    image: np.ndarray
    time: float
    index: int


class VideoFile:
    """The frames of a video file, in order, with their times in the video (seconds from its start)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"{self.path} does not exist")
        self.capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise SourceError(f"{self.path} is not a video OpenCV can read")
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = max(0, int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        # Container headers can disagree with the stream (an AVI may declare 50 fps and 682 frames for
        # 341 frames at 25 fps); the duration they imply is the reliable figure.
        self.duration = self.frame_count / self.fps if self.fps else 0.0
        if not (self.width and self.height):
            self.close()
            raise SourceError(f"{self.path} has no video stream")

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        last = -1.0
        while True:
            ok, image = self.capture.read()
            if not ok or image is None:
                break
            position = self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            # Positions are the frame's end on some backends and repeat on broken files: keep them rising.
            moment = position if position > last else last + (1.0 / self.fps if self.fps else 0.04)
            last = moment
            yield Frame(image=image, time=moment, index=index)
            index += 1

    def measured_fps(self, first: Frame, second: Frame) -> float:
        """The frame rate the stream really has, from two consecutive frames' times (0 if unknown)."""
        step = second.time - first.time
        return round(1.0 / step, 3) if step > 0 else 0.0

    def close(self) -> None:
        """Release the file."""
        self.capture.release()


_OUTPUT_VIDEO = re.compile(r"Stream #\d+:\d+.*?: Video: rawvideo.*?(\d{2,5})x(\d{2,5})")


class LiveStream:
    """Frames of a stream URL, decoded by ffmpeg and scaled to at most ``max_width`` pixels wide.

    The frame rate is not taken from the stream's description (RTSP often declares twice the real one);
    the counter measures it from the frames' arrival.

    ``open_timeout`` bounds the wait for the first frame, ``read_timeout`` the wait for each next one.
    Frames are read by a thread into a queue of ``queue_size`` (4 s at 25 fps: the counter's warm-up makes it
    fall a few seconds behind, then catch up); when the consumer falls further behind, the oldest waiting
    frames are dropped (a live count must keep up with the present, not fall minutes behind).
    """

    def __init__(
        self,
        url: str,
        *,
        max_width: int = 640,
        open_timeout: float = 15.0,
        read_timeout: float = 10.0,
        queue_size: int = 100,
    ) -> None:
        self.url = url
        self.max_width = max_width
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.frames: queue.Queue[Frame | None] = queue.Queue(maxsize=queue_size)
        self.process: subprocess.Popen[bytes] | None = None
        self.width = self.height = 0
        self.dropped = 0
        self.ended_cleanly = False
        self._stderr: list[str] = []
        self._size_known = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def open(self) -> LiveStream:
        """Start ffmpeg and wait until it has announced its output size; raise ``SourceError`` if it does not."""
        scale = f"scale='min({self.max_width},iw)':-2"
        command = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            *input_args(self.url, self.read_timeout),
            "-map", "0:v:0", "-an", "-vf", scale, "-fps_mode", "passthrough",  # each decoded frame once
            "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        # The threads get the process itself: close() clears the attribute while they may still be reading.
        self._threads = [
            threading.Thread(target=self._read_log, args=(self.process,), name="ffmpeg-log", daemon=True),
            threading.Thread(target=self._read_frames, args=(self.process,), name="ffmpeg-frames", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._size_known.wait(self.open_timeout) or not self.width:
            reason = self.error() or f"no video within {self.open_timeout:g} s"
            self.close()
            raise SourceError(reason)
        return self

    def _read_log(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        output_section = False
        for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self._stderr.append(line)
            del self._stderr[:-200]  # keep the tail: a long run logs warnings now and then
            if line.startswith("Output #"):
                output_section = True
            elif output_section and (match := _OUTPUT_VIDEO.search(line)) and not self.width:
                self.width, self.height = int(match.group(1)), int(match.group(2))
                self._size_known.set()
        self._size_known.set()  # ffmpeg ended: nobody waits any longer

    def _read_frames(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._size_known.wait()
        index = 0
        if self.width:
            size = self.width * self.height * 3
            while not self._stopping.is_set():
                data = self._read_exactly(process.stdout, size)
                if data is None:
                    break
                image = np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width, 3)
                self._put(Frame(image=image, time=time.time(), index=index))
                index += 1
        with contextlib.suppress(Exception):
            self.ended_cleanly = process.wait(timeout=5) == 0 and not self._stopping.is_set()
        self._put(None)

    @staticmethod
    def _read_exactly(pipe, size: int) -> bytes | None:
        chunks, remaining = [], size
        while remaining:
            chunk = pipe.read(remaining)
            if not chunk:
                return None
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _put(self, item: Frame | None) -> None:
        while True:
            try:
                self.frames.put_nowait(item)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.frames.get_nowait()
                    self.dropped += 1

    def __iter__(self) -> Iterator[Frame]:
        """Frames until the stream ends (``ended_cleanly``) or ``close()``; ``SourceError`` when it stalls."""
        while True:
            try:
                frame = self.frames.get(timeout=self.read_timeout)
            except queue.Empty:
                raise SourceError(f"no frame for {self.read_timeout:g} s") from None
            if frame is None:
                if not self.ended_cleanly and not self._stopping.is_set():
                    raise SourceError(self.error() or "the stream ended")
                return
            yield frame

    def error(self) -> str:
        """ffmpeg's last words, as a human reason (empty when it said nothing useful)."""
        lines = [line for line in self._stderr if line and not line.startswith((" ", "Input #", "Output #"))]
        return lines[-1].strip() if lines else ""

    def close(self) -> None:
        """Stop ffmpeg (SIGTERM, then SIGKILL) and the reader threads."""
        self._stopping.set()
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> LiveStream:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
