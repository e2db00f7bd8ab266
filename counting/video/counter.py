"""Counting tracks that cross a line or enter and leave a zone, frame by frame, with hysteresis.

A track's side of the line (or inside/outside the zone) changes only when its observed centroid has been
more than ``band`` pixels on the new side for ``confirm_frames`` observations in a row; positions inside
the band are ignored. A crossing counts when that change happens and the move from the last position on
the old side to the position that confirmed the new one passes through the segment itself (not beside
its ends). Each track counts at most once per direction, so a person swaying on the line is not counted
again and again; someone who crosses in and turns back out counts one in and one out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from counting.video.config import CountingConfig
from counting.video.detection import DetectorParams, MotionDetector
from counting.video.geometry import Line, Point, Polygon
from counting.video.tracking import CentroidTracker, Track

IN, OUT = "in", "out"


@dataclass(frozen=True)
class CounterParams:
    """Tuning of the tracker and of the crossing rule; distances are fractions of the processed width."""

    # Frames wider than this are scaled down before anything else. 320 counts the real footage and the
    # generated scenes exactly as 640 did (with the detector's smaller blobs, below) at a third of the CPU:
    # a person seen from above is still some 30 px across, and MOG2 and the stabilizer's optical flow cost
    # grows with the pixels and corners they look at, at 25 frames a second per camera (issue 15).
    process_width: int = 320
    band_fraction: float = 0.0125  # dead band around the line or zone outline (4 px at 320)
    confirm_frames: int = 3  # observations on the new side needed before a crossing counts
    gate_fraction: float = 0.06  # how far a track may move between frames at 25 fps (19 px at 320)
    max_gap_seconds: float = 1.0  # how long a track may go unseen and keep its id
    reference_fps: float = 25.0
    detector: DetectorParams = field(default_factory=DetectorParams)
    # A live camera shows an empty, still scene most of the day, at 25 frames a second: such frames are
    # skipped (``skip_still``) when no track is alive and a grey copy this wide differs from the last frame
    # looked at by no more than ``still_level`` grey levels anywhere. A person a few pixels wide at 80 is
    # tens of levels off their background. One frame in ``still_every`` (a second at 25 fps) is looked at all the
    # same, so the background keeps following slow changes of light.
    still_width: int = 80
    still_level: int = 10
    still_every: int = 25


@dataclass(frozen=True)
class CountEvent:
    """One counted crossing (line) or entry/exit (zone, "in" = entry)."""

    track_id: int
    direction: str
    time: float
    frame: int
    x: float
    y: float
    quality: float


@dataclass
class _SideState:
    side: int = 0  # +1 on the "in" side (inside the zone), -1 on the other, 0 not yet known
    anchor: Point = (0.0, 0.0)  # last observed position on the confirmed side
    streak: int = 0
    counted: set[str] = field(default_factory=set)


class CrossingRule:
    """Side-change counting for tracks; subclasses say what "side" means and which changes count."""

    def __init__(self, band: float, confirm_frames: int) -> None:
        self.band = band
        self.confirm_frames = max(1, confirm_frames)
        self.states: dict[int, _SideState] = {}

    def signed_distance(self, point: Point) -> float:
        """Positive on the "in" side, negative on the other."""
        raise NotImplementedError

    def counts(self, start: Point, end: Point) -> bool:
        """Whether a confirmed change of side along ``start -> end`` is a crossing to count."""
        return True

    def update(self, tracks: Iterable[Track], time: float, frame: int) -> list[CountEvent]:
        """Feed this frame's tracks (only observed positions are used); return the crossings it completed."""
        events = []
        for track in tracks:
            if not track.observed:
                continue  # a coasting track's position is a guess: it must not decide a side
            point = (track.x, track.y)
            distance = self.signed_distance(point)
            side = 1 if distance > self.band else -1 if distance < -self.band else 0
            state = self.states.setdefault(track.id, _SideState())
            if side == 0:
                state.streak = 0
            elif state.side == 0:
                state.side, state.anchor = side, point
            elif side == state.side:
                state.anchor, state.streak = point, 0
            else:
                state.streak += 1
                if state.streak >= self.confirm_frames:
                    direction = IN if side > 0 else OUT
                    if direction not in state.counted and self.counts(state.anchor, point):
                        state.counted.add(direction)
                        events.append(
                            CountEvent(track.id, direction, time, frame, point[0], point[1], round(track.quality, 3))
                        )
                    state.side, state.anchor, state.streak = side, point, 0
        return events

    def finish(self, tracks: Iterable[Track], time: float, frame: int) -> list[CountEvent]:
        """The video ends: a track last seen on the other side of the line counts, band and streak or not.

        Band and streak hold a decision back until later frames confirm it; with no frames left, the last
        position is the best evidence there is, so someone last seen just past the line has crossed it.
        """
        events = []
        for track in tracks:
            state = self.states.get(track.id)
            if state is None or state.side == 0:
                continue
            point = track.last_seen
            distance = self.signed_distance(point)
            if distance == 0 or (distance > 0) == (state.side > 0):
                continue
            direction = IN if distance > 0 else OUT
            if direction not in state.counted and self.counts(state.anchor, point):
                state.counted.add(direction)
                events.append(CountEvent(track.id, direction, time, frame, point[0], point[1], round(track.quality, 3)))
        self.states.clear()
        return events

    def forget(self, tracks: Iterable[Track]) -> None:
        """Drop the state of tracks that ended."""
        for track in tracks:
            self.states.pop(track.id, None)


class LineRule(CrossingRule):
    """Crossings of a directed segment whose right-hand side is "in"."""

    def __init__(self, line: Line, band: float, confirm_frames: int) -> None:
        super().__init__(band, confirm_frames)
        self.line = line

    def signed_distance(self, point: Point) -> float:
        return self.line.signed_distance(point)

    def counts(self, start: Point, end: Point) -> bool:
        position = self.line.crossing_parameter(start, end)
        return position is not None and 0.0 <= position <= 1.0


class ZoneRule(CrossingRule):
    """Entries into ("in") and exits from ("out") a polygon."""

    def __init__(self, polygon: Polygon, band: float, confirm_frames: int) -> None:
        super().__init__(band, confirm_frames)
        self.polygon = polygon

    def signed_distance(self, point: Point) -> float:
        return self.polygon.signed_distance(point)


def processing_size(width: int, height: int, process_width: int) -> tuple[int, int]:
    """The size frames are scaled down to (never up), height kept in proportion and even."""
    if width <= process_width:
        return width, height
    scale = process_width / width
    return process_width, max(2, round(height * scale / 2) * 2)


class VideoCounter:
    """Detector, tracker and crossing rule for one video: feed it frames in order, it returns count events.

    ``config`` holds the line or zone in the pixels of ``config.frame`` (or of the source frame when that is
    unset); frames of ``source_size`` are scaled to at most ``params.process_width`` wide and the set-up with
    them. ``fps`` of the source sets how far a track may move between frames and how long it may vanish.
    """

    def __init__(
        self,
        config: CountingConfig,
        source_size: tuple[int, int],
        fps: float = 25.0,
        params: CounterParams | None = None,
        skip_still: bool = False,
    ) -> None:
        self.params = params or CounterParams()
        p = self.params
        self.source_size = source_size
        self.size = processing_size(*source_size, p.process_width)
        if config.frame is None:
            config = replace(config, frame=source_size)
        self.config = config.scaled_to(*self.size)
        width = self.size[0]
        fps = fps if fps and 1.0 <= fps <= 240.0 else p.reference_fps
        self.fps = fps
        self.detector = MotionDetector(*self.size, params=p.detector)
        self.tracker = CentroidTracker(
            max_distance=p.gate_fraction * width * max(1.0, p.reference_fps / fps),
            max_missed=max(1, round(p.max_gap_seconds * fps)),
        )
        band = p.band_fraction * width
        if self.config.mode == "zone":
            assert self.config.zone is not None
            self.rule: CrossingRule = ZoneRule(self.config.zone, band, p.confirm_frames)
        else:
            line = self.config.oriented_line()
            assert line is not None
            self.rule = LineRule(line, band, p.confirm_frames)
        self.frames = 0
        self.totals = {IN: 0, OUT: 0}
        self.skip_still = skip_still
        self.skipped = 0  # still frames not looked at
        self._still_size = (p.still_width, max(2, round(p.still_width * self.size[1] / self.size[0])))
        self._last_looked_at: np.ndarray | None = None
        self._since_looked = 0

    @property
    def tracks_started(self) -> int:
        """How many tracks have been started so far (people seen, plus any fragments)."""
        return self.tracker.started

    def resize(self, image: np.ndarray) -> np.ndarray:
        """``image`` at the processing size."""
        if (image.shape[1], image.shape[0]) == self.size:
            return image
        return cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)

    def prime(self, images: Sequence[np.ndarray]) -> None:
        """Learn the empty scene from a few frames spread over the start of the video (see the detector)."""
        self.detector.prime([self.resize(image) for image in images])

    def _still(self, image: np.ndarray) -> bool:
        """Whether ``image`` can be skipped: nobody is being tracked and it looks as the last frame looked at
        did (see :attr:`CounterParams.still_width`). Costs some tens of microseconds, against milliseconds for
        the stabilizer and the background model."""
        small = cv2.cvtColor(cv2.resize(image, self._still_size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        last, self._last_looked_at = self._last_looked_at, small
        if self.tracker.tracks or last is None or self._since_looked + 1 >= self.params.still_every:
            return False
        if int(cv2.absdiff(small, last).max()) > self.params.still_level:
            return False
        self._last_looked_at = last  # still compared with the frame looked at: a slow change adds up
        return True

    def process(self, image: np.ndarray, time: float) -> list[CountEvent]:
        """Count in one frame taken at ``time`` seconds; returns the crossings completed in it."""
        if self.skip_still and image.ndim == 3 and self._still(image):
            self.frames += 1
            self.skipped += 1
            self._since_looked += 1
            return []
        self._since_looked = 0
        detections = self.detector.detect(self.resize(image))
        tracks = self.tracker.update(detections)
        events = self.rule.update(tracks, time, self.frames)
        self.rule.forget(self.tracker.ended)
        self.frames += 1
        for event in events:
            self.totals[event.direction] += 1
        return events

    def finish(self, time: float) -> list[CountEvent]:
        """The video is over: count crossings under way at its last frame (see :meth:`CrossingRule.finish`)."""
        events = self.rule.finish(self.tracker.finish(), time, max(0, self.frames - 1))
        for event in events:
            self.totals[event.direction] += 1
        return events
