"""Counting from cameras' live streams, on the vision workers' frames: no decoder and no Celery run of its own.

Counting asks the pipeline (:mod:`cameras.vision.registry`) for the stream of every enabled camera whose
``metadata["counting"]`` is enabled and valid (:func:`counting_demands`), at the counting rate
(``COUNTING_VIDEO_FPS``: the counter's tracker and crossing rule are tuned for 25 fps, and on real footage
5 fps loses a third of the crossings) and at the counter's processing width (320 pixels). It shares the
camera's decoder: the pipeline decodes each URL once, and the camera's ffmpeg writes counting's small frames
as a second output beside the analysis frames (720p at 5 fps), counted on a thread of their own. Its
analyzer (:func:`count_stream`) feeds each new frame to the existing counter
(:class:`~counting.video.runner.FrameCounting`) and stores each interval as it closes, exactly as the bounded
Celery runs did (count records with their rollups, the realtime cache, the live
summary of :mod:`counting.video.storage`).

A *run* is one connection's stretch of frames: when the stream reconnects, stalls or the worker lets the
camera go, the run is finished (crossings under way are counted, the open interval is stored) and the next
frame starts a new one, which learns the scene again. While a worker counts a camera it holds the camera's
counting lock (:mod:`counting.video.locks`), so the counters API can tell which cameras are counted now.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from cameras.models import Camera
from cameras.services import stream_url_for_platform
from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, StreamDemand, VisionStream
from config.api.contracts import ApiError
from counting.video import locks, storage
from counting.video.config import ConfigError, CountingConfig, camera_config, parse_config
from counting.video.counter import CounterParams
from counting.video.runner import FrameCounting, IntervalCount
from counting.video.sources import Frame

logger = logging.getLogger("argus.counting")

COUNTING = "counting"  # the kind of counting's stream demands
DEFAULT_FPS = 25.0
# A run whose stream gave no frame for this long is finished, so its last interval is stored.
STALL_SECONDS = 5.0
LOCK_SECONDS = 30.0  # renewed every few seconds while counting; a killed worker's lock lapses by itself
LOCK_RENEW_SECONDS = 5.0


def counting_fps() -> float:
    """The rate counted cameras are analysed at (``COUNTING_VIDEO_FPS``), at least their own analysis rate."""
    return float(getattr(settings, "COUNTING_VIDEO_FPS", DEFAULT_FPS))


def _frame_size(camera: Camera) -> tuple[int, int] | None:
    return (camera.width, camera.height) if camera.width and camera.height else None


def counted_cameras() -> Iterator[tuple[Camera, CountingConfig]]:
    """Enabled cameras with a stream whose counting set-up is enabled and valid, with their set-up."""
    cameras = Camera.objects.filter(enabled=True, metadata__counting__enabled=True).exclude(stream_url="")
    for camera in cameras.order_by("pk"):
        try:
            config = camera_config(camera.metadata, _frame_size(camera))
        except ConfigError as exc:
            logger.info("%s is not counted: invalid set-up (%s)", camera.pk, exc)
            continue
        if config is not None:
            yield camera, config


def counting_width(camera: Camera, config: CountingConfig) -> int:
    """How wide the frames counting asks for are: the counter's processing width (it scales anything wider down
    itself, so the decoder may as well hand it frames of that width: a side output of the camera's decoder,
    converted and piped at the counting rate instead of the full-size frames). A set-up drawn on a frame of
    unknown size is in the pixels of the frames it is given: it gets the camera's detect-size frames."""
    if config.frame is None:
        return camera.detect_width
    return min(camera.detect_width, CounterParams().process_width)


def counting_demands() -> Iterator[StreamDemand]:
    """Demand provider: the stream of every counted camera, at the counting rate and the counter's width."""
    for camera, config in counted_cameras():
        yield StreamDemand(
            kind=COUNTING,
            id=camera.pk,
            url=stream_url_for_platform(camera),
            stream_type=camera.stream_type,
            max_width=counting_width(camera, config),
            max_height=camera.detect_height,
            fps=max(float(camera.analysis_fps), counting_fps()),
            # Only what the counter reads: a change of it restarts the analysis (the frame size the camera's
            # health learns from the stream must not).
            settings={"counting": config.to_metadata()},
        )


class CameraCounting:
    """The counter of one camera on its stream's frames, run after run (one per connection)."""

    def __init__(self, camera_id: str, config: CountingConfig) -> None:
        self.camera_id = camera_id
        self.config = config
        self.run: FrameCounting | None = None
        self.connection: int | None = None
        self.last_time = 0.0
        self.last_index = -1
        self.totals = {"in": 0, "out": 0}
        self.token = locks.take(camera_id, LOCK_SECONDS)
        self.lock_renewed = time.monotonic()
        storage.update_status(camera_id, running=True, mode=config.mode, stopped="", error="")

    # --- Analyzer protocol -----------------------------------------------------------------------------

    def on_frame(self, analysed: AnalysedFrame) -> None:
        frame = analysed.frame
        # A frame handed out again, or one older than what was counted, is never counted (twice).
        if frame.index <= self.last_index or frame.captured_at <= self.last_time:
            return
        if self.run is not None and frame.connection != self.connection:
            self._finish("stream reconnected")  # its content may start over: a new run learns the scene again
        if self.run is None:
            self._start(frame.width, frame.height, frame.connection)
        assert self.run is not None
        self.last_index, self.last_time = frame.index, frame.captured_at
        self.run.feed(Frame(image=frame.pixels, time=frame.captured_at, index=frame.index))

    def tick(self, now: float, stats: DecoderStats) -> None:
        if self.run is not None and now - self.last_time > STALL_SECONDS:
            self._finish("stream stalled")
        if time.monotonic() - self.lock_renewed >= LOCK_RENEW_SECONDS:
            self.lock_renewed = time.monotonic()
            if not locks.extend(self.camera_id, self.token, LOCK_SECONDS):
                self.token = locks.take(self.camera_id, LOCK_SECONDS)

    def close(self) -> None:
        try:
            self._finish("stopped")
            storage.update_status(self.camera_id, running=False)
        finally:
            locks.release(self.camera_id, self.token)

    # --- Runs ------------------------------------------------------------------------------------------

    def _start(self, width: int, height: int, connection: int) -> None:
        self.connection = connection
        self.totals = {"in": 0, "out": 0}
        self.run = FrameCounting(
            self.config, source_size=(width, height), origin=0.0, on_interval=self._store_interval, live=True
        )
        storage.update_status(
            self.camera_id, running=True, run_started=time.time(), totals=self.totals, stopped="", error=""
        )

    def _store_interval(self, interval: IntervalCount) -> None:
        self.totals["in"] += interval.entered
        self.totals["out"] += interval.exited
        error = ""
        try:
            storage.store_intervals(Camera(pk=self.camera_id), [interval], storage.epoch_moment, self.config.mode)
        except ApiError as exc:
            error = f"counts not stored: {exc}"
            logger.warning("counts of %s not stored: %s", self.camera_id, exc)
        except Exception as exc:  # the database away for a moment: this interval is lost, counting goes on
            error = f"counts not stored: {type(exc).__name__}"
            logger.exception("counts of %s not stored", self.camera_id)
        storage.update_status(self.camera_id, running=True, interval=interval, totals=self.totals, error=error)

    def _finish(self, reason: str) -> None:
        """End the current run: crossings under way count, the open interval is stored."""
        run, self.run = self.run, None
        if run is None:
            return
        result = run.finish(reason)
        summary = {
            "in": result.totals["in"],
            "out": result.totals["out"],
            "frames": result.frames,
            "started": result.started,
            "ended": result.ended,
            "stopped": reason,
        }
        storage.update_status(self.camera_id, running=True, stopped=reason, last_run=summary)
        logger.info("counting run of %s ended (%s): %s", self.camera_id, reason, summary)


class StreamCounting:
    """Counting's analyzer of one stream: the counter of every counted camera that watches it, on the frames
    decoded for counting's demands (``kind``)."""

    kind = COUNTING

    def __init__(self, cameras: list[CameraCounting]) -> None:
        self.cameras = cameras

    def on_frame(self, frame: AnalysedFrame) -> None:
        for camera in self.cameras:
            camera.on_frame(frame)

    def tick(self, now: float, stats: DecoderStats) -> None:
        for camera in self.cameras:
            camera.tick(now, stats)

    def close(self) -> None:
        for camera in self.cameras:
            camera.close()


def count_stream(stream: VisionStream) -> StreamCounting | None:
    """Analyzer factory: a counter per counted camera on ``stream``; None when no camera counts on it."""
    cameras = []
    for demand in stream.demands_of(COUNTING):
        try:
            config = parse_config(demand.settings["counting"])
        except ConfigError as exc:  # validated by the provider a moment ago: only a race gets here
            logger.warning("%s is not counted: invalid set-up (%s)", demand.id, exc)
            continue
        cameras.append(CameraCounting(demand.id, config))
    return StreamCounting(cameras) if cameras else None


def counter_states(camera_ids: list[str]) -> list[dict[str, Any]]:
    """What each camera's video counter is doing, in the order of ``camera_ids``.

    Per camera: ``counting`` (a vision worker counts it now: its lock is held), ``running``, the in/out
    split of its ``last_interval``, this run's ``run_totals`` (the count records carry in + out only), when
    the summary was ``updated`` and why the last run ``stopped`` (with its ``error``, if any).
    """
    summaries = storage.read_status(camera_ids)
    counting = locks.held(camera_ids)
    states = []
    for camera_id in camera_ids:
        summary = summaries.get(camera_id, {})
        states.append(
            {
                "camera_id": camera_id,
                "counting": camera_id in counting,
                "running": bool(summary.get("running")),
                "last_interval": summary.get("last_interval"),
                "run_totals": summary.get("run_totals"),
                "updated": summary.get("updated"),
                "stopped": summary.get("stopped", ""),
                "error": summary.get("error", ""),
            }
        )
    return states
