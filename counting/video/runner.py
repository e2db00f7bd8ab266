"""Running the counter over a source: priming, frame loop, per-interval tallies, and a bounded stop.

:func:`count_frames` is what the management command and the Celery task share. It takes any iterable of
:class:`~counting.video.sources.Frame` (a file, a live stream), counts, and hands each finished interval to
``on_interval`` as it closes, so a long stream run stores its counts as it goes rather than at the end.
Intervals are aligned to multiples of ``interval`` seconds from ``origin`` (the video's start for files,
the Unix epoch for streams, so a 60 s interval runs from one wall-clock minute to the next).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import cv2

from counting.video.config import CountingConfig
from counting.video.counter import IN, OUT, CounterParams, CountEvent, VideoCounter, processing_size
from counting.video.sources import Frame

# The stretch of video the empty scene is learnt from before counting starts. Shorter medians keep people
# who walk slowly in them (then seen as "ghosts" that walk away); 3 s was the shortest without ghosts on
# real overhead footage.
PRIME_SECONDS = 3.0
PRIME_MAX_FRAMES = 25


@dataclass
class IntervalCount:
    """Counts of one interval: ``start``/``end`` in the frames' clock (the part of it the video covered)."""

    start: float
    end: float
    entered: int = 0  # "in": crossings to the "in" side, or entries into the zone
    exited: int = 0  # "out"
    frames: int = 0
    qualities: list[float] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Crossings in both directions (what is stored as the interval's count)."""
        return self.entered + self.exited

    @property
    def confidence(self) -> float:
        """Mean track quality of the counted crossings (share of frames each was seen in); 1.0 with none.

        An interval without crossings is as certain as the frames it saw; one whose people were often lost
        behind others is less so.
        """
        return round(sum(self.qualities) / len(self.qualities), 3) if self.qualities else 1.0

    def as_dict(self) -> dict[str, float | int]:
        """Plain figures, for logs, task results and the dashboard."""
        return {
            "start": self.start,
            "end": self.end,
            "in": self.entered,
            "out": self.exited,
            "total": self.total,
            "frames": self.frames,
            "confidence": self.confidence,
        }


@dataclass
class RunResult:
    """What a run counted: totals, every interval, and why it stopped."""

    totals: dict[str, int]
    intervals: list[IntervalCount]
    frames: int
    tracks: int
    started: float | None
    ended: float | None
    processing_size: tuple[int, int]
    stopped: str

    def as_dict(self) -> dict:
        """Plain figures (JSON-ready)."""
        return {
            "in": self.totals[IN],
            "out": self.totals[OUT],
            "frames": self.frames,
            "tracks": self.tracks,
            "started": self.started,
            "ended": self.ended,
            "stopped": self.stopped,
            "intervals": [interval.as_dict() for interval in self.intervals],
        }


class IntervalTally:
    """Sorts frames and count events into aligned intervals and reports each one as it closes."""

    def __init__(self, interval: float, origin: float, on_close: Callable[[IntervalCount], None] | None) -> None:
        self.interval = float(interval)
        self.origin = origin
        self.on_close = on_close
        self.current: IntervalCount | None = None
        self.closed: list[IntervalCount] = []

    def _bounds(self, moment: float) -> tuple[float, float]:
        index = math.floor((moment - self.origin) / self.interval)
        start = self.origin + index * self.interval
        return start, start + self.interval

    def frame(self, moment: float) -> None:
        """A frame at ``moment``: close the interval it has left behind (empty ones in a gap are skipped)."""
        if self.current is not None and moment >= self._bounds(self.current.start)[1]:
            self._close(self._bounds(self.current.start)[1])
        if self.current is None:
            start, _end = self._bounds(moment)
            self.current = IntervalCount(start=max(start, moment) if not self.closed else start, end=moment)
        self.current.frames += 1
        self.current.end = moment

    def events(self, events: Iterable[CountEvent]) -> None:
        """Add the crossings of the latest frame to the open interval."""
        assert self.current is not None
        for event in events:
            if event.direction == IN:
                self.current.entered += 1
            else:
                self.current.exited += 1
            self.current.qualities.append(event.quality)

    def _close(self, end: float) -> None:
        assert self.current is not None
        self.current.end = end
        self.closed.append(self.current)
        if self.on_close is not None:
            self.on_close(self.current)
        self.current = None

    def finish(self, end: float) -> None:
        """The run is over: close the open interval at ``end`` (it may be a partial one)."""
        if self.current is not None:
            self._close(max(self.current.end, min(end, self._bounds(self.current.start)[1])))


def _priming(frames: Iterator[Frame], size: tuple[int, int]) -> list[Frame]:
    """The first couple of seconds of ``frames``, scaled to ``size`` (full-size copies would be hundreds of MB)."""
    buffered: list[Frame] = []
    for frame in frames:
        image = frame.image
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        buffered.append(Frame(image=image, time=frame.time, index=frame.index))
        if frame.time - buffered[0].time >= PRIME_SECONDS:
            break
    return buffered


def measured_fps(frames: list[Frame]) -> float:
    """Frames per second over ``frames`` (0 when they span no time)."""
    span = frames[-1].time - frames[0].time if len(frames) > 1 else 0.0
    return (len(frames) - 1) / span if span > 0 else 0.0


def count_frames(
    frames: Iterable[Frame],
    config: CountingConfig,
    *,
    source_size: tuple[int, int],
    fps: float | None = None,
    interval: float | None = None,
    origin: float = 0.0,
    params: CounterParams | None = None,
    on_interval: Callable[[IntervalCount], None] | None = None,
    on_frame: Callable[[Frame, list[CountEvent]], None] | None = None,
    should_stop: Callable[[Frame], str | None] | None = None,
) -> RunResult:
    """Count people in ``frames`` with ``config``; return totals and per-interval counts.

    ``interval`` defaults to the set-up's. ``should_stop`` is asked after every frame and ends the run
    when it answers a reason (a time limit). Crossings under way at the last frame are counted
    (see :meth:`VideoCounter.finish`). Frames of any size are scaled to the counter's processing size.

    The background is learnt from the first :data:`PRIME_SECONDS` of frames, which are then counted too.
    ``fps`` None measures the rate over those frames (container headers and stream descriptions can be wrong).
    """
    iterator = iter(frames)
    params = params or CounterParams()
    primer = _priming(iterator, processing_size(*source_size, params.process_width))
    counter = VideoCounter(config, source_size, fps=fps or measured_fps(primer), params=params)
    if primer:
        counter.prime([frame.image for frame in primer[:: max(1, len(primer) // PRIME_MAX_FRAMES)]])
    tally = IntervalTally(interval or config.interval, origin, on_interval)
    stopped = "end of video"
    first = last = None
    step = 1.0 / counter.fps
    for frame in itertools.chain(primer, iterator):
        first = frame.time if first is None else first
        last = frame.time
        tally.frame(frame.time)
        events = counter.process(frame.image, frame.time)
        tally.events(events)
        if on_frame is not None:
            on_frame(frame, events)
        if should_stop is not None and (reason := should_stop(frame)):
            stopped = reason
            break
    if last is not None:
        tally.events(counter.finish(last))
        tally.finish(last + step)
    return RunResult(
        totals=dict(counter.totals),
        intervals=tally.closed,
        frames=counter.frames,
        tracks=counter.tracks_started,
        started=first,
        ended=None if last is None else last + step,
        processing_size=counter.size,
        stopped=stopped,
    )
