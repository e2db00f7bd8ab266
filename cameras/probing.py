"""Stream probing and frame grabs with the ffmpeg binary of imageio-ffmpeg.

imageio-ffmpeg ships ``ffmpeg`` only (no ``ffprobe``), so a probe reads what ffmpeg logs while it decodes a
short window of the stream: the input banner on stderr names the codec (``Stream #0:0: Video: h264 ...``),
``showinfo`` logs each decoded frame (its size and timestamp: the first one times the latency, their
timestamps give the frame rate), and the final report of a stream-copy output gives the compressed bytes,
hence the bitrate. Every run is a subprocess with a hard deadline, killed when it passes, so no caller ever
hangs on a dead camera. Django is needed only for the outbound policy's settings (network URLs are checked
and an RTSP host pinned to the checked address before ffmpeg opens them).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import imageio_ffmpeg

from config import outbound


class StreamUnavailable(Exception):
    """The stream could not be opened or gave no frame in time; ``str(exc)`` is a human message."""


@dataclass
class ProbeResult:
    """What a probe found: ``ok`` when a frame was decoded, else ``error`` says why."""

    ok: bool
    latency_ms: float = 0.0
    fps: float = 0.0
    width: int | None = None
    height: int | None = None
    codec: str = ""
    bitrate_mbps: float = 0.0
    error: str = ""

    @property
    def stream_info(self) -> dict[str, Any]:
        """``{codec, width, height, fps}`` as the 003 ``/config/cameras/{id}/test`` answer shows it."""
        return {"codec": self.codec, "width": self.width, "height": self.height, "fps": self.fps}

    def as_dict(self) -> dict[str, Any]:
        """All fields as a plain dict."""
        return asdict(self)


@dataclass
class _Run:
    returncode: int | None
    stdout: bytes
    stderr: str
    first_output_s: float | None
    timed_out: bool


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary (imageio-ffmpeg's, or ``IMAGEIO_FFMPEG_EXE`` when set).

    Raises ``RuntimeError`` when none is found; the next call looks again. imageio-ffmpeg keeps the outcome of
    its search (it runs ``ffmpeg -version``) for the life of the process, a failure too: one such run refused
    under load would stop every decoder of a long-running vision worker for good. A binary found stays kept
    (by imageio-ffmpeg); a failed search is forgotten.
    """
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        search = getattr(getattr(imageio_ffmpeg, "_utils", None), "_get_ffmpeg_exe", None)
        if hasattr(search, "cache_clear"):
            search.cache_clear()
        raise


def input_args(url: str, timeout: float, fast: bool = True) -> list[str]:
    """ffmpeg input options for ``url`` (RTSP over TCP, socket timeouts, USB devices, files), ending in ``-i``.

    ``timeout`` bounds each network read or connect, so ffmpeg itself gives up on a silent server and says
    why ("Connection timed out") before the hard deadline kills it. ``fast`` skips the stream analysis of
    RTSP (the SDP names the codec); without it ffmpeg analyses the stream as usual.
    """
    url = url.strip()
    io_timeout_us = str(int(max(0.5, timeout) * 1_000_000))
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("rtsp", "rtsps"):
        # The SDP names the codec, so skip ffmpeg's stream analysis (about 1 s of video) before decoding.
        skip_analysis = ["-probesize", "32", "-analyzeduration", "0"] if fast else []
        return [
            *skip_analysis,
            "-rtsp_transport",
            "tcp",
            "-timeout",
            io_timeout_us,
            "-i",
            url,
        ]
    if scheme in ("http", "https", "tcp", "udp", "rtmp", "rtmps", "srt"):
        return ["-rw_timeout", io_timeout_us, "-i", url]
    if scheme == "file":
        return ["-i", unquote(urlsplit(url).path)]
    if url.isdigit():
        return ["-f", "v4l2", "-i", f"/dev/video{url}"]
    if re.fullmatch(r"/dev/video\d+", url):
        return ["-f", "v4l2", "-i", url]
    if not scheme and re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+:\d+", url) and not Path(url).exists():
        return ["-rw_timeout", io_timeout_us, "-i", f"tcp://{url}"]
    return ["-i", url]


def _run_ffmpeg(args: list[str], timeout: float, stderr_marker: str | None = None) -> _Run:
    """Run ffmpeg with a hard deadline.

    Notes when the first stdout byte arrived, or, with ``stderr_marker``, the first stderr line containing it
    (seconds after start): ffmpeg writes its log unbuffered, while pipe output waits for a full buffer.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out_chunks: list[bytes] = []
    err_lines: list[bytes] = []
    first_output: list[float] = []
    marker = stderr_marker.encode() if stderr_marker else None

    def read_stdout() -> None:
        assert process.stdout is not None
        while chunk := process.stdout.read1(65536):
            if marker is None and not first_output:
                first_output.append(time.monotonic() - started)
            out_chunks.append(chunk)

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if marker is not None and not first_output and marker in line:
                first_output.append(time.monotonic() - started)
            err_lines.append(line)

    readers = [threading.Thread(target=read_stdout, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        process.wait(timeout=max(0.1, timeout))
    except subprocess.TimeoutExpired:
        timed_out = True
        process.kill()
        process.wait()
    for reader in readers:
        reader.join(timeout=2)
    return _Run(
        returncode=None if timed_out else process.returncode,
        stdout=b"".join(out_chunks),
        stderr=b"".join(err_lines).decode("utf-8", "replace"),
        first_output_s=first_output[0] if first_output else None,
        timed_out=timed_out,
    )


# Checked in order: the first that appears in ffmpeg's stderr names the failure.
_ERRORS: list[tuple[str, str]] = [
    (r"connection refused", "Connection refused"),
    (r"401 unauthorized|authorization failed", "Authentication failed (401 Unauthorized)"),
    (r"403 forbidden", "Access denied (403 Forbidden)"),
    (r"404 not found", "Stream not found (404 Not Found)"),
    (r"server returned [45]\d\d[^\n]*", ""),
    (
        r"failed to resolve hostname|name or service not known|temporary failure in name resolution",
        "Host not found (DNS lookup failed)",
    ),
    (r"no route to host", "No route to host"),
    (r"network is unreachable", "Network is unreachable"),
    (r"timed out|timeout", "Connection timeout"),
    (r"no such file or directory", "File or device not found"),
    (r"permission denied", "Permission denied"),
    (r"protocol not found", "Unsupported URL scheme"),
    (r"matches no streams|does not contain any stream|no video stream", "No video stream"),
    (r"end of file|connection reset", "Connection closed by the server"),
    (r"invalid data found when processing input", "Not a video stream (invalid data)"),
]


def _human_error(run: _Run, timeout: float) -> str:
    lowered = run.stderr.lower()
    for pattern, message in _ERRORS:
        if match := re.search(pattern, lowered):
            # An empty message means: quote ffmpeg's own words (e.g. "Server returned 400 Bad Request").
            quoted = run.stderr[match.start() : match.end()].strip()
            return message or quoted[:1].upper() + quoted[1:]
    if run.timed_out:
        return f"Connection timeout (no frame within {timeout:g} s)"
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"ffmpeg exited with code {run.returncode}"


def _input_banner(stderr: str) -> str:
    """The part of stderr describing the input (output stream lines look alike and come after it)."""
    end = len(stderr)
    for marker in ("Stream mapping:", "\nOutput #"):
        index = stderr.find(marker)
        if index >= 0:
            end = min(end, index)
    return stderr[:end]


def parse_video_stream(stderr: str) -> dict[str, Any]:
    line = next((line for line in _input_banner(stderr).splitlines() if "Video:" in line), "")
    info: dict[str, Any] = {}
    if not line:
        return info
    codec = re.search(r"Video: ([A-Za-z0-9_]+)", line)
    info["codec"] = codec.group(1) if codec else ""
    size = re.search(r"[ ,](\d{2,5})x(\d{2,5})[ ,\[]", line + " ")
    if size:
        info["width"], info["height"] = int(size.group(1)), int(size.group(2))
    fps = re.search(r"([\d.]+)(k?) fps", line) or re.search(r"([\d.]+)(k?) tbr", line)
    if fps:
        info["fps"] = round(float(fps.group(1)) * (1000 if fps.group(2) else 1), 3)
    return info


def _copied_video_bytes(stderr: str) -> int:
    """Bytes of video the stream-copy output (``out#1``) received, from ffmpeg's final report."""
    match = re.search(r"\[out#1/[^\]]*\] video:\s*(\d+)\s*(KiB|kB|MiB|MB|B)", stderr)
    if not match:
        return 0
    unit = {"B": 1, "kB": 1024, "KiB": 1024, "MB": 1024 * 1024, "MiB": 1024 * 1024}[match.group(2)]
    return int(match.group(1)) * unit


def _parse_frames(stderr: str) -> tuple[float, int | None, int | None]:
    """``(fps, width, height)`` of the decoded frames ``showinfo`` logged (fps from their timestamps)."""
    times: set[float] = set()
    width = height = None
    for match in _SHOWINFO.finditer(stderr):
        with contextlib.suppress(ValueError):
            times.add(float(match.group(1)))
        width, height = int(match.group(2)), int(match.group(3))
    fps = 0.0
    if len(times) >= 2 and max(times) > min(times):
        # Distinct timestamps over their span: B-frame reordering or a repeated frame does not skew it.
        fps = round((len(times) - 1) / (max(times) - min(times)), 2)
    return fps, width, height


_SHOWINFO = re.compile(r"\bn:\s*\d+\s+pts:\s*\S+\s+pts_time:(\S+).*?\bs:(\d+)x(\d+)")
# ffmpeg's words when its stream analysis ended before it learnt the picture size.
_UNSIZED = re.compile(r"could not find codec parameters for stream[^\n]*unspecified size", re.IGNORECASE)


def probe_stream(url: str, timeout: float = 10.0) -> ProbeResult:
    """Open ``url`` (RTSP, HTTP, socket, USB device or local file) and report what it streams.

    ``latency_ms`` is the time from starting to the first decoded frame; fps and bitrate are measured over a
    short window (up to 2 s of stream time), the bitrate from the compressed video as received. Always
    returns within about ``timeout`` seconds: a dead or wrong URL gives ``ok=False`` and a human ``error``
    ("Connection refused", "Connection timeout", "No video stream", ...).
    """
    if not (url or "").strip():
        return ProbeResult(ok=False, error="No stream URL")
    try:
        url = outbound.pinned_stream_url(url.strip(), "The stream URL")
    except outbound.BlockedTarget as exc:
        return ProbeResult(ok=False, error=str(exc))
    started = time.monotonic()
    result, run = _probe_once(url, timeout, fast=True)
    remaining = timeout - (time.monotonic() - started)
    if not result.ok and _UNSIZED.search(run.stderr) and remaining > 1.0:
        # The fast path sized nothing: an SDP without parameter sets (SPS/PPS only in-band, as many cameras
        # send) leaves the size unknown until a keyframe, and the stream-copy output refuses to start.
        spent = time.monotonic() - started
        result, run = _probe_once(url, remaining, fast=False)
        if result.ok:
            # The caller waited for both attempts: the latency to the first frame counts the first one too.
            result.latency_ms = round(spent * 1000 + result.latency_ms, 1)
    return result


def _probe_once(url: str, timeout: float, fast: bool) -> tuple[ProbeResult, _Run]:
    window = min(2.0, max(0.5, timeout / 4))
    args = [
        *input_args(url, timeout * 0.8, fast=fast),
        # Output 0: decoded frames, logged one line each by showinfo; the first line times the first frame.
        "-map", "0:v:0", "-vf", "showinfo=checksum=0", "-fps_mode", "passthrough", "-t", f"{window:g}",
        "-f", "null", "-",
        # Output 1: the compressed video as received, for the bitrate.
        "-map", "0:v:0", "-c:v", "copy", "-t", f"{window:g}", "-f", "null", "-",
    ]  # fmt: skip
    run = _run_ffmpeg(args, timeout, stderr_marker="pts_time:")
    banner = parse_video_stream(run.stderr)
    fps, width, height = _parse_frames(run.stderr)
    result = ProbeResult(
        ok=False,
        fps=fps or banner.get("fps", 0.0),
        width=width or banner.get("width"),
        height=height or banner.get("height"),
        codec=banner.get("codec", ""),
    )
    if run.first_output_s is None:
        result.error = _human_error(run, timeout)
        if banner and not run.timed_out and result.error.startswith("ffmpeg exited"):
            result.error = "No frame could be decoded"
        return result, run
    copied = _copied_video_bytes(run.stderr)
    result.ok = True
    result.latency_ms = round(run.first_output_s * 1000, 1)
    result.bitrate_mbps = round(copied * 8 / window / 1_000_000, 3) if copied else 0.0
    return result, run


def grab_frame(url: str, timeout: float = 10.0) -> bytes:
    """One JPEG frame from ``url``, read by ffmpeg under a hard ``timeout``.

    Raises ``StreamUnavailable`` with a human message when no frame arrives in time.
    """
    if not (url or "").strip():
        raise StreamUnavailable("No stream URL")
    try:
        url = outbound.pinned_stream_url(url.strip(), "The stream URL")
    except outbound.BlockedTarget as exc:
        raise StreamUnavailable(str(exc)) from None
    args = [
        *input_args(url, timeout * 0.8),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "pipe:1",
    ]
    run = _run_ffmpeg(args, timeout)
    # A complete JPEG starts with SOI and ends with EOI; a killed ffmpeg may leave half a frame behind.
    if run.stdout.startswith(b"\xff\xd8") and run.stdout.rstrip(b"\0").endswith(b"\xff\xd9"):
        return run.stdout
    raise StreamUnavailable(_human_error(run, timeout))
