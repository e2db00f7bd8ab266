"""Generated test footage with a known answer: person-like blobs walking known paths over a textured floor.

Each walker follows a piecewise-linear path of ``(seconds, x, y)`` waypoints (optionally with jitter on
top); the expected counts come from the paths themselves (which legs cross the line segment, which frames
are inside the zone), independently of the counter. :func:`standard_scene` crosses a horizontal line in
both directions, with people passing beside the segment, walking parallel to it, overlapping briefly,
turning back, walking slow and fast; :func:`jitter_scene` has people standing and swaying on the line.
"""

from __future__ import annotations

import itertools
import math
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from counting.video.geometry import Line, Polygon

Waypoint = tuple[float, float, float]  # (seconds, x, y)


@dataclass(frozen=True)
class Walker:
    """A person seen from above: a coloured body ellipse with a dark head, moving along ``waypoints``."""

    waypoints: tuple[Waypoint, ...]
    colour: tuple[int, int, int]
    size: tuple[int, int] = (18, 30)  # body width across and length along the direction of walking
    jitter: float = 0.0  # +- pixels of random sway added to each frame's position

    def base_position(self, t: float) -> tuple[float, float] | None:
        """Where the path puts the walker at ``t`` seconds (None before it starts or after it ends)."""
        points = self.waypoints
        if t < points[0][0] or t > points[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(points):
            if t0 <= t <= t1:
                share = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                return x0 + share * (x1 - x0), y0 + share * (y1 - y0)
        return points[-1][1], points[-1][2]

    def heading(self, t: float) -> float:
        """Direction of walking at ``t`` in degrees (of the leg it is on; standing keeps the previous one)."""
        angle = 90.0
        for (_t0, x0, y0), (t1, x1, y1) in itertools.pairwise(self.waypoints):
            if (x1, y1) != (x0, y0):
                angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
            if t <= t1:
                break
        return angle


@dataclass
class Scene:
    """A video to render: frame size, rate, length, a seed for the noise, and its walkers."""

    walkers: list[Walker]
    width: int = 640
    height: int = 360
    fps: int = 25
    seconds: float = 24.0
    seed: int = 7
    line: Line | None = None  # the line the scene was designed around (right-hand side is "in")
    zone: Polygon | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        """Number of frames in the video."""
        return round(self.seconds * self.fps)

    def position(self, index: int, walker_index: int, t: float) -> tuple[float, float] | None:
        """The walker's rendered position in frame ``index``: its path plus its (seeded) jitter."""
        walker = self.walkers[walker_index]
        base = walker.base_position(t)
        if base is None or not walker.jitter:
            return base
        rng = np.random.default_rng((self.seed, walker_index, index))
        dx, dy = rng.uniform(-walker.jitter, walker.jitter, size=2)
        return base[0] + dx, base[1] + dy

    def background(self) -> np.ndarray:
        """The static floor: light grey tiles with grout lines, mottled texture and a few dark drains."""
        rng = np.random.default_rng(self.seed)
        noise = rng.normal(0, 18, (self.height // 8 + 1, self.width // 8 + 1)).astype(np.float32)
        mottle = cv2.resize(noise, (self.width, self.height), interpolation=cv2.INTER_CUBIC)
        fine = rng.normal(0, 4, (self.height, self.width)).astype(np.float32)
        floor = np.clip(172 + mottle + fine, 0, 255).astype(np.uint8)
        image = cv2.merge([floor, floor, np.clip(floor.astype(np.int16) + 6, 0, 255).astype(np.uint8)])
        for x in range(0, self.width, 48):
            cv2.line(image, (x, 0), (x, self.height), (150, 150, 155), 1)
        for y in range(0, self.height, 48):
            cv2.line(image, (0, y), (self.width, y), (150, 150, 155), 1)
        for _ in range(6):
            centre = (int(rng.integers(20, self.width - 20)), int(rng.integers(20, self.height - 20)))
            cv2.circle(image, centre, 5, (110, 110, 110), 1)
        return image

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame, rendered in order (BGR)."""
        floor = self.background()
        for index in range(self.frame_count):
            t = index / self.fps
            image = floor.copy()
            for walker_index, walker in enumerate(self.walkers):
                point = self.position(index, walker_index, t)
                if point is None:
                    continue
                gait = 1.0 + 0.12 * math.sin(2 * math.pi * 1.8 * t + walker_index)
                across, along = walker.size
                axes = (max(2, round(along / 2)), max(2, round(across / 2 * gait)))
                centre = (round(point[0]), round(point[1]))
                cv2.ellipse(image, centre, axes, walker.heading(t), 0, 360, walker.colour, -1, cv2.LINE_AA)
                cv2.circle(image, centre, max(2, round(across * 0.33)), (30, 30, 35), -1, cv2.LINE_AA)
            # Sensor noise: the background is never pixel-exact, as in real footage.
            rng = np.random.default_rng((self.seed, 1_000_000 + index))
            noisy = image.astype(np.int16) + rng.normal(0, 2.0, image.shape).astype(np.int16)
            yield np.clip(noisy, 0, 255).astype(np.uint8)

    def render(self, dest: Path | str) -> Path:
        """Write the video to ``dest`` with the ffmpeg binary: ``.mp4`` as streamable H.264, else MJPEG AVI."""
        from cameras.probing import ffmpeg_exe

        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.suffix.lower() == ".mp4":
            # As cameras send it (and as the RTSP test server needs it): no B-frames, a keyframe each second.
            codec = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-bf", "0",
                     "-g", str(self.fps), "-movflags", "+faststart"]  # fmt: skip
        else:
            codec = ["-c:v", "mjpeg", "-q:v", "3"]
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{self.width}x{self.height}", "-r", str(self.fps), "-i", "-",
            *codec, str(dest),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdin is not None
        try:
            for frame in self.frames():
                process.stdin.write(frame.tobytes())
        finally:
            process.stdin.close()
            error = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
            process.wait(timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"ffmpeg could not write {dest}: {error.strip()[-300:]}")
        return dest

    def _samples(self, walker: Walker) -> Iterator[tuple[float, float]]:
        # Four samples a frame along the path (jitter is sway, not walking, and is left out).
        for index in range(self.frame_count * 4):
            point = walker.base_position(index / (self.fps * 4))
            if point is not None:
                yield point

    def expected_line_counts(self, line: Line | None = None, per_walker: bool = False) -> dict[str, int]:
        """``{"in", "out"}`` from the walkers' paths: changes of side through the segment, by direction.

        "in" is towards the right-hand side of the directed line; a path that stops on the line and then
        goes on counts once, on the side it goes on to. ``per_walker`` adds a list of each walker's counts.
        """
        line = line or self.line
        assert line is not None
        totals: dict = {"in": 0, "out": 0}
        walkers = []
        for walker in self.walkers:
            mine = {"in": 0, "out": 0}
            side, anchor = 0, None
            for point in self._samples(walker):
                distance = line.signed_distance(point)
                now = (distance > 0) - (distance < 0)
                if now == 0:
                    continue
                if side and now != side and anchor is not None:
                    position = line.crossing_parameter(anchor, point)
                    if position is not None and 0.0 <= position <= 1.0:
                        mine["in" if now > 0 else "out"] += 1
                side, anchor = now, point
            for key in mine:
                totals[key] += mine[key]
            walkers.append(mine)
        if per_walker:
            totals["walkers"] = walkers
        return totals

    def expected_zone_counts(self, polygon: Polygon | None = None, per_walker: bool = False) -> dict[str, int]:
        """``{"in", "out"}``: entries into and exits from the polygon along the paths."""
        polygon = polygon or self.zone
        assert polygon is not None
        totals: dict = {"in": 0, "out": 0}
        walkers = []
        for walker in self.walkers:
            mine = {"in": 0, "out": 0}
            inside = None
            for point in self._samples(walker):
                now = polygon.contains(point)
                if inside is not None and now != inside:
                    mine["in" if now else "out"] += 1
                inside = now
            for key in mine:
                totals[key] += mine[key]
            walkers.append(mine)
        if per_walker:
            totals["walkers"] = walkers
        return totals


_PALETTE = [
    (40, 40, 160), (150, 60, 30), (30, 110, 40), (90, 30, 100), (20, 20, 20), (30, 120, 200),
    (120, 90, 20), (60, 60, 60), (160, 40, 140), (20, 70, 120), (100, 20, 20), (40, 90, 90),
]  # fmt: skip


def _walkers(paths: Sequence[Sequence[Waypoint]], jitter: float = 0.0) -> list[Walker]:
    return [Walker(tuple(path), _PALETTE[index % len(_PALETTE)], jitter=jitter) for index, path in enumerate(paths)]


STANDARD_LINE = Line(40, 180, 600, 180)
STANDARD_ZONE = Polygon(((150, 120), (480, 110), (500, 260), (170, 270)))


def standard_scene(seed: int = 7) -> Scene:
    """24 s at 640x360: 6 crossings "in" (downwards) and 7 "out" over :data:`STANDARD_LINE`.

    Also: two walkers parallel to the line, one passing beside its right end, one standing near it, a pair
    that overlaps briefly above it (one going in, one out), a pair side by side, a pair passing each other
    on it, a U-turn (in, then out), a slow walker and a fast one.
    """
    paths = [
        [(0.0, 100, -30), (7.0, 120, 390)],  # in
        [(1.0, 300, 390), (8.0, 280, -30)],  # out
        [(2.0, -20, 40), (10.0, 500, 390)],  # in, diagonally
        [(0.5, -20, 80), (9.0, 660, 90)],  # parallel above: none
        [(3.0, 660, 310), (12.0, -20, 300)],  # parallel below: none
        [(6.0, 420, -30), (13.0, 430, 390)],  # in; overlaps the next one above the line
        [(3.67, 445, 390), (10.67, 435, -30)],  # out
        [(9.0, 200, -30), (13.0, 200, 250), (17.0, 210, -30)],  # U-turn: in, then out
        [(11.0, 625, -30), (18.0, 625, 390)],  # beside the segment's right end: none
        [(12.0, 80, 390), (19.0, 90, -30)],  # out, side by side with the next
        [(12.0, 140, 390), (19.0, 150, -30)],  # out
        [(14.0, 322, -30), (21.0, 322, 390)],  # in; passes the next one on the line
        [(14.0, 358, 390), (21.0, 358, -30)],  # out
        [(10.0, 520, 390), (22.0, 540, -20)],  # out, slowly (~1.2 px a frame)
        [(15.0, 250, -30), (18.0, 260, 390)],  # in, fast (~5.6 px a frame)
        [(1.0, 660, 140), (3.0, 560, 140), (7.0, 560, 140), (9.0, 660, 140)],  # stands near the line: none
    ]
    return Scene(walkers=_walkers(paths), seconds=24.0, seed=seed, line=STANDARD_LINE, zone=STANDARD_ZONE)


def jitter_scene(seed: int = 11) -> Scene:
    """10 s at 640x360: one walker stops on :data:`STANDARD_LINE` swaying for 3 s, then goes on down (one "in");
    another comes up to just short of it, sways there and walks back (nothing)."""
    paths = [
        [(0.0, 200, -30), (3.0, 200, 180), (6.0, 200, 180), (9.0, 205, 390)],
        [(0.5, 450, -30), (3.5, 450, 176), (6.5, 450, 176), (9.5, 445, -30)],
    ]
    return Scene(walkers=_walkers(paths, jitter=6.0), seconds=10.0, seed=seed, line=STANDARD_LINE, zone=STANDARD_ZONE)


def short_scene(seed: int = 3, lead_in: float = 0.0) -> Scene:
    """10 s at 640x360 over :data:`STANDARD_LINE`: 2 "in", 1 "out", one walker parallel to the line.

    Short enough to stream over RTSP in a test; nobody crosses in the first 3 s (the counter's warm-up).
    ``lead_in`` seconds of the empty scene come first: a live counter learns the scene for 3 s from the
    moment it joins the stream and counts nothing meanwhile, and joining takes a moment of its own.
    """
    paths = [
        [(0.5, 110, -30), (7.5, 120, 390)],  # in at ~4 s
        [(1.0, 450, 390), (8.0, 440, -30)],  # out at ~4.5 s
        [(2.5, 300, -30), (8.5, 310, 390)],  # in at ~5.5 s
        [(0.0, -20, 280), (9.5, 660, 290)],  # parallel below: none
    ]
    paths = [[(t + lead_in, x, y) for t, x, y in path] for path in paths]
    return Scene(walkers=_walkers(paths), seconds=10.0 + lead_in, seed=seed, line=STANDARD_LINE, zone=STANDARD_ZONE)
