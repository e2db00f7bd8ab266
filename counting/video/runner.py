"""Running the counter over a source: priming, frame loop, per-interval tallies, and a bounded stop.

:func:`count_frames` is what the management command and the Celery task share. It takes any iterable of
:class:`~counting.video.sources.Frame` (a file, a live stream), counts, and hands each finished interval to
``on_interval`` as it closes, so a long stream run stores its counts as it goes rather than at the end.
Intervals are aligned to multiples of ``interval`` seconds from ``origin`` (the video's start for files,
the Unix epoch for streams, so a 60 s interval runs from one wall-clock minute to the next).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
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
LIVE_PRIME_FRAMES = 10


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


def measured_fps(frames: list[Frame]) -> float:
    """Frames per second over ``frames`` (0 when they span no time)."""
    span = frames[-1].time - frames[0].time if len(frames) > 1 else 0.0
    return (len(frames) - 1) / span if span > 0 else 0.0


class FrameCounting:
    """The counter fed push-style, one frame at a time, as a live stream delivers them (files are fed the same).

    The background is learnt from the first :data:`PRIME_SECONDS` of frames, which are held back (scaled to
    the processing size: full-size copies would be hundreds of MB) and then counted too. ``fps`` None
    measures the rate over those frames (container headers and stream descriptions can be wrong).
    Each finished interval goes to ``on_interval`` as it closes; :meth:`finish` ends the run.

    ``live``: the frames come from a stream in real time, and the counter must keep up with it. The scene is
    learnt from fewer frames (:data:`LIVE_PRIME_FRAMES`) and the held-back frames are not counted afterwards:
    counting a few seconds of frames at once would stall the analysis for as long, the stream's frames
    meanwhile dropped, and tracks of people crossing just then lost. A live run counts from the end of its
    first :data:`PRIME_SECONDS`.
    """

    def __init__(
        self,
        config: CountingConfig,
        *,
        source_size: tuple[int, int],
        fps: float | None = None,
        interval: float | None = None,
        origin: float = 0.0,
        params: CounterParams | None = None,
        on_interval: Callable[[IntervalCount], None] | None = None,
        on_frame: Callable[[Frame, list[CountEvent]], None] | None = None,
        live: bool = False,
    ) -> None:
        self.config = config
        self.live = live
        self.source_size = source_size
        self.fps = fps
        self.params = params or CounterParams()
        self.size = processing_size(*source_size, self.params.process_width)
        self.tally = IntervalTally(interval or config.interval, origin, on_interval)
        self.on_frame = on_frame
        self.counter: VideoCounter | None = None
        self.primer: list[Frame] = []
        self.first: float | None = None
        self.last: float | None = None
        self.finished: RunResult | None = None

    @property
    def totals(self) -> dict[str, int]:
        return dict(self.counter.totals) if self.counter is not None else {IN: 0, OUT: 0}

    def feed(self, frame: Frame) -> list[CountEvent]:
        """Count in the next frame; returns the crossings completed (none while the scene is being learnt)."""
        if self.counter is None:
            image = frame.image
            if (image.shape[1], image.shape[0]) != self.size:
                image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
            self.primer.append(Frame(image=image, time=frame.time, index=frame.index))
            if frame.time - self.primer[0].time < PRIME_SECONDS:
                return []
            return self._start()
        return self._count(frame)

    def _start(self) -> list[CountEvent]:
        primer, self.primer = self.primer, []
        self.counter = VideoCounter(
            self.config,
            self.source_size,
            fps=self.fps or measured_fps(primer),
            params=self.params,
            skip_still=self.live,  # a live camera's empty hours; a file is counted frame by frame
        )
        most = LIVE_PRIME_FRAMES if self.live else PRIME_MAX_FRAMES
        if primer:
            self.counter.prime([frame.image for frame in primer[:: max(1, len(primer) // most)]])
        events: list[CountEvent] = []
        for frame in [] if self.live else primer:
            events.extend(self._count(frame))
        return events

    def _count(self, frame: Frame) -> list[CountEvent]:
        assert self.counter is not None
        self.first = frame.time if self.first is None else self.first
        self.last = frame.time
        self.tally.frame(frame.time)
        events = self.counter.process(frame.image, frame.time)
        self.tally.events(events)
        if self.on_frame is not None:
            self.on_frame(frame, events)
        return events

    def finish(self, stopped: str = "end of video") -> RunResult:
        """No more frames: count the crossings under way at the last frame, close the open interval."""
        if self.finished is not None:
            return self.finished
        if self.counter is None and self.primer:
            self._start()  # a source shorter than the priming: its frames are counted all the same
        if self.counter is not None and self.last is not None:
            step = 1.0 / self.counter.fps
            self.tally.events(self.counter.finish(self.last))
            self.tally.finish(self.last + step)
        counter = self.counter
        self.finished = RunResult(
            totals=self.totals,
            intervals=self.tally.closed,
            frames=counter.frames if counter is not None else 0,
            tracks=counter.tracks_started if counter is not None else 0,
            started=self.first,
            ended=None if self.last is None or counter is None else self.last + 1.0 / counter.fps,
            processing_size=self.size,
            stopped=stopped,
        )
        return self.finished


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
    See :class:`FrameCounting`, which this feeds, for the priming and ``fps``.
    """
    run = FrameCounting(
        config,
        source_size=source_size,
        fps=fps,
        interval=interval,
        origin=origin,
        params=params,
        on_interval=on_interval,
        on_frame=on_frame,
    )
    for frame in frames:
        run.feed(frame)
        if should_stop is not None and (reason := should_stop(frame)):
            return run.finish(reason)
    return run.finish()
