"""A local RTSP server for the demo camera and for tests, and the clips it serves.

``aio-rtsp-toolkit`` serves the H.264 MP4 files of a folder as ``rtsp://HOST:PORT/NAME.mp4`` (RTP
interleaved over TCP only). ffmpeg alone cannot do this: its RTSP output publishes to a server rather
than answering pulling clients. The server runs as a child process, so a test run or ``manage.py
demo_stream`` owns it and stops it; each client session plays the file once, or forever with
``?play_count=0`` (``url(name, loop=True)``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from cameras.probing import ffmpeg_exe

# Runs in the child: the toolkit's server without its HTTP voice-control port. It writes the ready file
# only once it has bound the port itself, so another process already listening there is not mistaken for it.
_SERVE = """
import asyncio, pathlib, sys
from aio_rtsp_toolkit import server

async def main(directory, host, port, ready):
    rtsp = server.RtspServer(directory, host=host, port=port)
    await rtsp.start()
    pathlib.Path(ready).write_text("ready")
    try:
        await rtsp.serve_forever()
    finally:
        await rtsp.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A test run killed hard must not leave an RTSP server behind holding its port.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class RtspTestServer:
    """The aio-rtsp-toolkit RTSP server on ``host:port`` serving ``directory``, as a context manager.

    ``port=None`` picks a free port. Entering starts the server and waits until it accepts connections;
    leaving stops it. ``log_path`` keeps the server's log (else it is discarded).
    """

    def __init__(
        self,
        directory: Path | str,
        port: int | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 15.0,
        log_path: Path | str | None = None,
    ) -> None:
        self.directory = Path(directory).resolve()
        self.host = host
        self.requested_port = port
        self.port = port or 0
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RtspTestServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, name: str, loop: bool = False) -> str:
        """``rtsp://host:port/name``; with ``loop`` the server replays the file for as long as a client reads."""
        url = f"rtsp://{self.host}:{self.port}/{quote(name)}"
        return f"{url}?play_count=0" if loop else url

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> RtspTestServer:
        """Start the server and return once it has bound its port and accepts connections.

        With a picked port, a port taken in between (another process won the race) is retried on a new one.
        Raises ``RuntimeError`` when the server exits or does not listen within ``startup_timeout``.
        """
        if not self.directory.is_dir():
            raise FileNotFoundError(f"RTSP server folder {self.directory} does not exist")
        attempts = 1 if self.requested_port else 3
        last_error = ""
        for _ in range(attempts):
            self.port = self.requested_port or free_port(self.host)
            last_error = self._launch()
            if not last_error:
                return self
        raise RuntimeError(f"RTSP server did not start on {self.host}:{self.port}: {last_error}")

    def _launch(self) -> str:
        """Start one process; ``""`` once it listens, else why it did not."""
        handle, ready_name = tempfile.mkstemp(prefix="argus-rtsp-", suffix=".ready")
        os.close(handle)
        ready = Path(ready_name)
        ready.unlink()
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-u", "-c", _SERVE, str(self.directory), self.host, str(self.port), str(ready)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C in a terminal reaches the parent, which stops the server in order.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return f"server exited with code {self.process.returncode} (port in use?)"
                if ready.exists():
                    return ""
                time.sleep(0.05)
            self.stop()
            return f"not listening after {self.startup_timeout:g} s"
        finally:
            ready.unlink(missing_ok=True)

    def wait(self) -> int:
        """Block until the server process exits (it runs until stopped); returns its exit code."""
        if self.process is None:
            return 0
        return self.process.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_ffmpeg(args: list[str], what: str, timeout: float = 900.0) -> None:
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{what}: ffmpeg did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{what}: ffmpeg exited with {done.returncode}: {' | '.join(tail)}")


# H.264 as cameras send it: yuv420p, no B-frames (RTP carries no decode timestamps), a keyframe every
# second so a client that joins starts decoding quickly, and the index up front for the server.
_H264_ARGS = [
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-bf", "0",
    "-force_key_frames", "expr:gte(t,n_forced*1)", "-movflags", "+faststart", "-f", "mp4",
]  # fmt: skip


def _replace_atomically(part: Path, dest: Path) -> Path:
    os.replace(part, dest)
    return dest


def ensure_h264_mp4(source: Path, dest: Path, seconds: float | None = None, width: int | None = None) -> Path:
    """Transcode any video ``source`` (e.g. ``.avi``) to an H.264 MP4 at ``dest`` that the server can stream.

    ``seconds`` keeps only the start, ``width`` scales (height follows, kept even); audio is dropped.
    Nothing is done when ``dest`` already exists and is newer than ``source`` (delete it to re-encode).
    Returns ``dest``; raises ``RuntimeError`` when ffmpeg fails.
    """
    source, dest = Path(source), Path(dest)
    if not source.is_file():
        raise FileNotFoundError(f"video {source} does not exist")
    if dest.is_file() and dest.stat().st_mtime >= source.stat().st_mtime and dest.stat().st_size > 0:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    args = ["-i", str(source), "-map", "0:v:0", "-an"]
    if seconds:
        args += ["-t", f"{seconds:g}"]
    if width:
        args += ["-vf", f"scale={int(width)}:-2"]
    try:
        _run_ffmpeg([*args, *_H264_ARGS, str(part)], f"transcoding {source.name}")
        return _replace_atomically(part, dest)
    finally:
        part.unlink(missing_ok=True)


def make_test_clip(dest: Path, seconds: float = 5, size: tuple[int, int] = (640, 360), fps: int = 25) -> Path:
    """Generate an H.264 MP4 test pattern (ffmpeg's ``testsrc``) at ``dest``, for when no real footage exists.

    Returns ``dest``; raises ``RuntimeError`` when ffmpeg fails.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    source = f"testsrc=size={size[0]}x{size[1]}:rate={fps}:duration={seconds:g}"
    try:
        _run_ffmpeg(["-f", "lavfi", "-i", source, *_H264_ARGS, str(part)], "generating a test clip")
        return _replace_atomically(part, dest)
    finally:
        part.unlink(missing_ok=True)


def make_in_band_clip(source: Path, dest: Path) -> Path:
    """An H.264 MP4 at ``dest`` of ``source`` whose parameter sets (SPS/PPS) travel in-band only, as many cameras
    send them: served over RTSP its SDP carries no ``sprop-parameter-sets``, and its first second comes without
    them too, as a client joining mid-GOP sees it; the picture decodes from the second keyframe (1 s in).

    Returns ``dest``; raises ``RuntimeError`` when ffmpeg fails.
    """
    source, dest = Path(source), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    # dump_extra puts libx264's parameter sets in front of every keyframe; the MP4 still keeps them in its
    # avcC box too, from where a server would announce them, so they are then taken out of there.
    args = ["-i", str(source), "-map", "0:v:0", "-an", "-bsf:v", "dump_extra=freq=keyframe", *_H264_ARGS]
    try:
        _run_ffmpeg([*args, str(part)], f"making an in-band clip of {source.name}")
        data = bytearray(part.read_bytes())
        _withhold_parameter_sets(data)
        part.write_bytes(bytes(data))
        return _replace_atomically(part, dest)
    finally:
        part.unlink(missing_ok=True)


# MP4 boxes holding boxes, and the bytes of their own fields before the first child.
_MP4_CONTAINERS = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"stsd": 8, b"avc1": 78}


def _mp4_box(data: bytearray, path: list[bytes], start: int = 0, end: int | None = None) -> tuple[int, int]:
    """``(start, end)`` of the body of the first box at ``path`` (e.g. ``[b"moov", ..., b"stsz"]``)."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        if size < 8:
            break
        if kind == path[0]:
            body = start + 8
            if len(path) == 1:
                return body, start + size
            return _mp4_box(data, path[1:], body + _MP4_CONTAINERS.get(kind, 0), start + size)
        start += size
    raise ValueError(f"no {b'/'.join(path).decode()} box in the MP4")


def _withhold_parameter_sets(data: bytearray) -> None:
    """Empty the avcC box's parameter sets and blank those in front of the first sample, in place.

    Sizes and offsets stay as they are: the avcC keeps its head and says "no SPS, no PPS", the rest of it
    becomes a ``free`` box; the first sample's SPS and PPS become filler NAL units of the same length.
    """
    stbl = [b"moov", b"trak", b"mdia", b"minf", b"stbl"]
    body, end = _mp4_box(data, [*stbl, b"stsd", b"avc1", b"avcC"])
    # configurationVersion, profile, compatibility, level, NAL length size; then 0 SPS (3 reserved bits set)
    # and 0 PPS.
    kept = body + 7
    data[body + 5 : kept] = b"\xe0\x00"
    if end - kept < 8:
        raise ValueError("avcC box too small to empty")
    data[body - 8 : body - 4] = struct.pack(">I", kept - (body - 8))
    data[kept:end] = struct.pack(">I4s", end - kept, b"free") + bytes(end - kept - 8)
    chunks, _ = _mp4_box(data, [*stbl, b"stco"])
    sizes, _ = _mp4_box(data, [*stbl, b"stsz"])
    first = struct.unpack(">I", data[chunks + 8 : chunks + 12])[0]
    uniform = struct.unpack(">I", data[sizes + 4 : sizes + 8])[0]
    size = uniform or struct.unpack(">I", data[sizes + 12 : sizes + 16])[0]
    offset, length_size = first, (data[body + 4] & 0x03) + 1
    while offset + length_size < first + size:
        nal_size = int.from_bytes(data[offset : offset + length_size], "big")
        nal = offset + length_size
        if data[nal] & 0x1F in (7, 8):  # SPS, PPS
            data[nal : nal + nal_size] = b"\x0c" + b"\xff" * (nal_size - 2) + b"\x80"
        offset = nal + nal_size


def make_slideshow_clip(
    dest: Path, photos: list[Path], seconds_each: float = 3, size: tuple[int, int] = (640, 480), fps: int = 10
) -> Path:
    """An H.264 MP4 at ``dest`` showing each photo in turn for ``seconds_each`` (scaled into ``size``, padded
    black): a camera looking at these people, for recognition tests and demos."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    inputs: list[str] = []
    chains = []
    width, height = size
    for index, photo in enumerate(photos):
        inputs += ["-loop", "1", "-t", f"{seconds_each:g}", "-framerate", str(fps), "-i", str(photo)]
        chains.append(
            f"[{index}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps},format=yuv420p[v{index}]"
        )
    graph = (
        ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(len(photos))) + f"concat=n={len(photos)}:v=1:a=0[out]"
    )
    try:
        _run_ffmpeg(
            [*inputs, "-filter_complex", graph, "-map", "[out]", *_H264_ARGS, str(part)], "making a slideshow clip"
        )
        return _replace_atomically(part, dest)
    finally:
        part.unlink(missing_ok=True)


# --- The demo camera (``manage.py demo_stream``) ------------------------------------------------------

DEMO_CLIP_NAME = "demo.mp4"
DEMO_FACES_CLIP_NAME = "faces.mp4"
DEMO_RTSP_PORT = 8554
DEMO_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "video" / "pedestrians.avi"


def demo_rtsp_port() -> int:
    """Port of the demo stream: ``ARGUS_DEMO_RTSP_PORT``, else 8554."""
    return int(os.environ.get("ARGUS_DEMO_RTSP_PORT") or DEMO_RTSP_PORT)


def demo_stream_url(host: str = "127.0.0.1", port: int | None = None, clip: str = DEMO_CLIP_NAME) -> str:
    """URL of a looping demo stream, e.g. ``rtsp://127.0.0.1:8554/demo.mp4?play_count=0``."""
    return f"rtsp://{host}:{port or demo_rtsp_port()}/{clip}?play_count=0"


def prepare_demo_faces_clip(directory: Path) -> Path:
    """Put the demo face camera's clip at ``directory/faces.mp4``: scikit-image's astronaut (a real face,
    enrolled by the demo data) for 6 s, then its cameraman (no face to see) for 4 s, replayed without end."""
    import cv2
    from skimage import data

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / DEMO_FACES_CLIP_NAME
    if dest.is_file():
        return dest
    astronaut, cameraman = directory / "astronaut.png", directory / "cameraman.png"
    cv2.imwrite(str(astronaut), data.astronaut()[:, :, ::-1])
    cv2.imwrite(str(cameraman), data.camera())
    return make_slideshow_clip(dest, [astronaut, cameraman], seconds_each=5)


def prepare_demo_clip(directory: Path, source: Path | None = None) -> Path:
    """Put the demo clip at ``directory/demo.mp4`` and return its path.

    ``source`` (default ``../shared/data/video/pedestrians.avi``) is transcoded to H.264 when it exists;
    otherwise a 10 s 1280x720 test pattern is generated. A clip made earlier from the same source is
    reused. The server replays it for as long as a client reads (``?play_count=0``), so its length does not
    limit the stream.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / DEMO_CLIP_NAME
    origin_file = directory / "demo.source"
    source = Path(source) if source else DEMO_SOURCE
    origin = str(source.resolve()) if source.is_file() else "testsrc"
    if dest.is_file() and origin_file.is_file() and origin_file.read_text().strip() != origin:
        dest.unlink()
    if origin == "testsrc":
        if not dest.is_file():
            make_test_clip(dest, seconds=10, size=(1280, 720))
    else:
        ensure_h264_mp4(source, dest)
    origin_file.write_text(origin + "\n")
    return dest
