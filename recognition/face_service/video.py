"""Videos and streams for the face service: where a ``videoUrl`` points, what an upload is, frames sampled
at a fixed period, and the frame timing of a live stream (for ``cameras/test-connection``).

Video files are read with OpenCV (its FFmpeg backend); streams with the ffmpeg binary under a hard deadline
(cameras.probing), so a dead camera never hangs a request.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cv2
import httpx
import numpy as np
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage

from cameras.probing import ffmpeg_exe, input_args
from config import outbound
from recognition.face_service import conf

ALLOWED_FORMATS = ("MP4", "MOV", "AVI")
# ISO base media (MP4, MOV) files start with a box whose type sits at bytes 4-8; QuickTime files may
# start with a free/wide/mdat/moov box rather than ftyp.
_ISO_BOXES = {b"ftyp": "MP4", b"moov": "MOV", b"mdat": "MOV", b"wide": "MOV", b"free": "MOV", b"skip": "MOV"}


class VideoNotFound(Exception):
    """The video a ``videoUrl`` names does not exist (or is not reachable as a file)."""


class VideoUnreadable(Exception):
    """The video exists but cannot be decoded; ``str(exc)`` says why, for a person."""


def sniff_format(head: bytes) -> str | None:
    """MP4, MOV or AVI from a file's first bytes, else None. The bytes decide, not the name."""
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    kind = _ISO_BOXES.get(head[4:8]) if len(head) >= 8 else None
    if kind == "MP4" and head[8:10] == b"qt":  # ftyp with the QuickTime brand
        return "MOV"
    return kind


# --- Where a videoUrl points -------------------------------------------------------------------------


def _is_remote(video_url: str) -> bool:
    return urlsplit(video_url).scheme.lower() in ("http", "https")


def _download(video_url: str, target: Path) -> None:
    limit = conf.max_video_bytes()
    try:
        # Connected to the address checked (DNS rebinding); no redirects: the policy checked this address,
        # not wherever a redirect would lead.
        client = outbound.pinned_client(video_url, "videoUrl", timeout=conf.callback_timeout())
    except outbound.BlockedTarget as exc:
        raise VideoUnreadable(str(exc)) from None
    # One deadline for the whole download: a per-read timeout alone lets a server trickle bytes for ever.
    deadline = time.monotonic() + conf.callback_timeout()
    try:
        with (
            client,
            client.stream("GET", video_url) as response,
            target.open("wb") as handle,
        ):
            if 300 <= response.status_code < 400:
                raise VideoUnreadable(f"Video download failed (HTTP {response.status_code} redirect not followed)")
            if response.status_code == 404:
                raise VideoNotFound(video_url)
            if response.status_code >= 400:
                raise VideoUnreadable(f"Video download failed (HTTP {response.status_code})")
            size = 0
            for chunk in response.iter_bytes(65536):
                size += len(chunk)
                if size > limit:
                    raise VideoUnreadable(f"Video exceeds the maximum size of {limit // (1024 * 1024)}MB")
                if time.monotonic() > deadline:
                    raise VideoUnreadable("Video download took longer than the time allowed")
                handle.write(chunk)
    except httpx.HTTPError as exc:
        raise VideoUnreadable(f"Video download failed ({type(exc).__name__})") from None


def _local_path(video_url: str) -> Path | None:
    """The file a path-like ``videoUrl`` names inside FACE_SERVICE_VIDEO_ROOT, else None."""
    root = Path(conf.video_root()).resolve()
    candidate = (root / video_url.lstrip("/")).resolve()
    # A path that climbs out of the root (../) names no file the service may read.
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


@contextlib.contextmanager
def open_video(video_url: str) -> Iterator[Path]:
    """A local file holding the video ``video_url`` names, for the duration of the block.

    ``video_url`` is an http(s) URL (downloaded, up to FACE_SERVICE_MAX_VIDEO_BYTES), a ``file://`` URL or a
    path. A path is looked up in FACE_SERVICE_VIDEO_ROOT when that is set, else in the file storage (the
    path without its leading ``/`` is the storage name). Raises :class:`VideoNotFound` or
    :class:`VideoUnreadable`.
    """
    if _is_remote(video_url):
        with tempfile.TemporaryDirectory(prefix="argus-video-") as folder:
            target = Path(folder) / "video"
            _download(video_url, target)
            yield target
        return
    path = unquote(urlsplit(video_url).path) if video_url.lower().startswith("file://") else video_url
    if conf.video_root():
        local = _local_path(path)
        if local is None:
            raise VideoNotFound(video_url)
        yield local
        return
    name = path.lstrip("/")
    try:
        exists = bool(name) and default_storage.exists(name)
    except (SuspiciousFileOperation, ValueError):
        exists = False
    if not exists:
        raise VideoNotFound(video_url)
    try:
        yield Path(default_storage.path(name))
        return
    except NotImplementedError:
        pass  # remote storage (S3): copy the object to a temporary file
    with tempfile.TemporaryDirectory(prefix="argus-video-") as folder:
        target = Path(folder) / "video"
        with default_storage.open(name, "rb") as source, target.open("wb") as handle:
            shutil.copyfileobj(source, handle)
        yield target


# --- Frames of a video file ----------------------------------------------------------------------


@dataclass(frozen=True)
class SampledFrame:
    index: int
    seconds: float
    pixels: np.ndarray


def sample_frames(path: Path | str, every_seconds: float) -> Iterator[SampledFrame]:
    """One frame every ``every_seconds`` of video time, from the first frame on.

    Frames in between are grabbed without decoding. Raises :class:`VideoUnreadable` when the file cannot
    be opened or yields no frame at all (a corrupted or truncated file).
    """
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise VideoUnreadable("Corrupted video file")
        fps = capture.get(cv2.CAP_PROP_FPS)
        if not fps or not math.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 25.0
        # By video time, not by a frame step: 0.5 s at 25 fps is 12.5 frames, and phone videos vary their rate.
        index = 0
        yielded = 0
        next_at = 0.0
        while capture.grab():
            position = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            seconds = position if position > 0 or index == 0 else index / fps
            if seconds + 1e-6 >= next_at:
                ok, frame = capture.retrieve()
                if ok and frame is not None:
                    yielded += 1
                    yield SampledFrame(index=index, seconds=round(seconds, 3), pixels=frame)
                next_at += every_seconds * max(1, math.floor((seconds - next_at) / every_seconds) + 1)
            index += 1
        if yielded == 0:
            raise VideoUnreadable("Corrupted video file")
    finally:
        capture.release()


# --- Frame timing of a live stream ---------------------------------------------------------------

_SHOWINFO = re.compile(r"\bn:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+).*?\bs:(\d+)x(\d+)")


@dataclass(frozen=True)
class StreamTiming:
    """What ``frames`` decoded frames of a stream showed: their count, rate, size and regularity."""

    frames: int
    frame_rate: float
    width: int | None
    height: int | None
    latency_ms: int | None
    stability: str  # stable, unstable or unknown


def stream_timing(url: str, frames: int = 10, timeout: float = 10.0) -> StreamTiming:
    """Decode the first ``frames`` frames of ``url`` and judge the stream by them.

    The rate comes from the frames' timestamps; the stream is ``stable`` when all ``frames`` arrived
    before the deadline with no gap over twice the usual interval, ``unstable`` when frames went missing
    or came irregularly, ``unknown`` when fewer than three frames gave nothing to judge by.
    """
    try:
        url = outbound.pinned_stream_url(url.strip(), "The stream URL")
    except outbound.BlockedTarget:
        return StreamTiming(frames=0, frame_rate=0.0, width=None, height=None, latency_ms=None, stability="unknown")
    args = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", *input_args(url, timeout * 0.8),
        "-map", "0:v:0", "-vf", "showinfo=checksum=0", "-fps_mode", "passthrough",
        "-frames:v", str(frames), "-f", "null", "-",
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    stamps: list[float] = []
    size: list[tuple[int, int]] = []
    first_frame: list[float] = []

    def read() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            match = _SHOWINFO.search(raw.decode("utf-8", "replace"))
            if match:
                if not first_frame:
                    first_frame.append(time.monotonic() - started)
                with contextlib.suppress(ValueError):
                    stamps.append(float(match.group(1)))
                size.append((int(match.group(2)), int(match.group(3))))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reader.join(timeout=2)

    width, height = size[-1] if size else (None, None)
    intervals = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    rate = round(len(intervals) / (stamps[-1] - stamps[0]), 2) if intervals and stamps[-1] > stamps[0] else 0.0
    if len(stamps) < 3 or not intervals:
        stability = "unknown"
    elif len(stamps) < frames or max(intervals) > 2 * statistics.median(intervals):
        stability = "unstable"
    else:
        stability = "stable"
    latency = round(first_frame[0] * 1000) if first_frame else None
    return StreamTiming(len(stamps), rate, width, height, latency, stability)
