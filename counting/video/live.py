"""Counting from cameras' live streams: one bounded run per camera, and the dispatcher that starts them.

Beat calls the dispatcher every minute (``counting.run_counting``); it starts a run of
``COUNTING_VIDEO_RUN_SECONDS`` (default 300) for every enabled camera whose ``metadata["counting"]`` is
enabled and valid, unless that camera is being counted already (its lock is held). A run
(``counting.count_camera_stream``) opens the stream, counts, stores each interval as it closes, and ends at
its deadline; a dropped connection is reopened while time remains. Nothing loops without a bound: the next
run comes from the next dispatch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from celery import signature
from django.conf import settings
from django.db import close_old_connections, connection

from cameras.models import Camera
from cameras.services import stream_url_for_platform
from config.api.contracts import ApiError
from counting.video import locks, storage
from counting.video.config import ConfigError, CountingConfig, camera_config
from counting.video.runner import IntervalCount, count_frames
from counting.video.sources import Frame, LiveStream, SourceError

logger = logging.getLogger("argus.counting")

MAX_RUN_SECONDS = 3600
# The Celery task (counting.tasks) that runs one camera, sent by name: it runs this module, so this module
# never imports it.
RUN_TASK = "counting.count_camera_stream"
LOCK_GRACE_SECONDS = 120  # a queued run may wait this long for a worker before its lock lapses
RECONNECT_PAUSE_SECONDS = 3.0


def run_seconds() -> float:
    """Length of each dispatched run (``COUNTING_VIDEO_RUN_SECONDS``, default 300)."""
    return float(getattr(settings, "COUNTING_VIDEO_RUN_SECONDS", 300))


def run_queue() -> str | None:
    """The Celery queue runs go to: ``COUNTING_VIDEO_QUEUE``, else the default queue.

    Each run holds a worker for its whole length; a deployment counting many cameras gives them a queue and
    workers of their own, so they cannot starve the platform's short tasks.
    """
    return getattr(settings, "COUNTING_VIDEO_QUEUE", None) or None


def enabled_cameras() -> list[Camera]:
    """Cameras marked for counting: enabled, with ``metadata["counting"]["enabled"]`` true."""
    return list(Camera.objects.filter(enabled=True, metadata__counting__enabled=True).order_by("id"))


def _frame_size(camera: Camera) -> tuple[int, int] | None:
    return (camera.width, camera.height) if camera.width and camera.height else None


def dispatch(seconds: float | None = None) -> dict[str, Any]:
    """Start a bounded run for every camera marked for counting that is not being counted already.

    Returns ``{"started": [ids], "skipped": {id: reason}}``.
    """
    seconds = min(float(seconds or run_seconds()), MAX_RUN_SECONDS)
    started: list[str] = []
    skipped: dict[str, str] = {}
    for camera in enabled_cameras():
        try:
            camera_config(camera.metadata, _frame_size(camera))
        except ConfigError as exc:
            skipped[camera.pk] = f"invalid set-up: {exc}"
            continue
        if not camera.stream_url:
            skipped[camera.pk] = "no stream URL"
            continue
        token = locks.acquire(camera.pk, seconds + LOCK_GRACE_SECONDS)
        if token is None:
            skipped[camera.pk] = "already being counted"
            continue
        try:
            options = {"queue": queue} if (queue := run_queue()) else {}
            signature(RUN_TASK, args=(camera.pk, seconds), kwargs={"lock_token": token}).apply_async(**options)
        except Exception:
            locks.release(camera.pk, token)
            raise
        started.append(camera.pk)
    if skipped:
        logger.info("counting runs not started: %s", skipped)
    return {"started": started, "skipped": skipped}


def counter_states(camera_ids: list[str]) -> list[dict[str, Any]]:
    """What each camera's video counter is doing, in the order of ``camera_ids``.

    Per camera: ``counting`` (its lock is held: a run is queued or under way), ``running``, the in/out split
    of its ``last_interval``, this run's ``run_totals`` (the count records carry in + out only), when the
    summary was ``updated`` and why the last run ``stopped`` (with its ``error``, if any).
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


def _guarded(stream: LiveStream, problems: list[str]) -> Iterator[Frame]:
    # A stream that stalls mid-run ends this connection's frames; the run decides whether to reconnect.
    try:
        yield from stream
    except SourceError as exc:
        problems.append(str(exc))


def run_camera(camera_id: str, seconds: float, lock_token: str | None = None) -> dict[str, Any]:
    """Count ``camera_id``'s stream for ``seconds`` (at most an hour), storing each interval as it closes.

    With ``lock_token`` (from the dispatcher) the run adopts that lock; without, it takes the camera's lock
    itself. Returns the run's figures: ``status`` (``done``, ``skipped`` or ``failed``), ``in``, ``out``,
    ``intervals`` stored, ``frames`` counted and ``dropped`` (the counter fell behind the stream), and
    ``stopped``/``error`` saying why it ended.
    """
    seconds = max(1.0, min(float(seconds), MAX_RUN_SECONDS))
    answer: dict[str, Any] = {"camera_id": camera_id, "in": 0, "out": 0, "intervals": 0, "frames": 0, "dropped": 0}
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        return {**answer, "status": "skipped", "stopped": "no such camera"}
    try:
        config = camera_config(camera.metadata, _frame_size(camera))
    except ConfigError as exc:
        return {**answer, "status": "skipped", "stopped": f"invalid set-up: {exc}"}
    if config is None:
        return {**answer, "status": "skipped", "stopped": "no counting set-up"}
    url = stream_url_for_platform(camera)
    if not url:
        return {**answer, "status": "skipped", "stopped": "no stream URL"}
    if lock_token is None:
        lock_token = locks.acquire(camera_id, seconds + LOCK_GRACE_SECONDS)
        if lock_token is None:
            return {**answer, "status": "skipped", "stopped": "already being counted"}
    elif not locks.extend(camera_id, lock_token, seconds + LOCK_GRACE_SECONDS):
        return {**answer, "status": "skipped", "stopped": "lock lost before the run started"}
    try:
        return _run(camera, config, url, seconds, lock_token, answer)
    except BaseException as exc:  # a bug, or the task's time limit: the tiles must not say "counting now"
        storage.update_status(camera_id, running=False, stopped="error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        locks.release(camera_id, lock_token)


def _run(
    camera: Camera, config: CountingConfig, url: str, seconds: float, token: str, answer: dict[str, Any]
) -> dict[str, Any]:
    deadline = time.time() + seconds
    problems: list[str] = []
    stopped = "time limit"
    storage.update_status(camera.pk, running=True, mode=config.mode, run_started=time.time(), error="")

    def on_interval(interval: IntervalCount) -> None:
        answer["in"] += interval.entered
        answer["out"] += interval.exited
        if not connection.in_atomic_block:  # (inside one, e.g. a test, closing would end the transaction)
            close_old_connections()  # a run outlives the database's idle timeouts and restarts
        try:
            answer["intervals"] += storage.store_intervals(camera, [interval], storage.epoch_moment, config.mode)
        except ApiError as exc:
            logger.warning("counts of %s not stored: %s", camera.pk, exc)
        storage.update_status(
            camera.pk, running=True, interval=interval, totals={"in": answer["in"], "out": answer["out"]}
        )
        locks.extend(camera.pk, token, max(0.0, deadline - time.time()) + LOCK_GRACE_SECONDS)

    def should_stop(frame: Frame) -> str | None:
        return "time limit" if frame.time >= deadline else None

    while time.time() < deadline:
        stream = LiveStream(url, open_timeout=min(15.0, max(1.0, deadline - time.time())))
        try:
            stream.open()
        except SourceError as exc:
            problems.append(str(exc))
        else:
            try:
                result = count_frames(
                    _guarded(stream, problems),
                    config,
                    source_size=(stream.width, stream.height),
                    origin=0.0,
                    on_interval=on_interval,
                    should_stop=should_stop,
                )
            finally:
                stream.close()
            answer["frames"] += result.frames
            answer["dropped"] += stream.dropped
            stopped = result.stopped
            if stream.ended_cleanly:
                stopped = "end of stream"  # a file served once, not a camera: reconnecting would replay it
                break
            if result.stopped == "time limit":
                break
        if time.time() + RECONNECT_PAUSE_SECONDS >= deadline:
            break
        time.sleep(RECONNECT_PAUSE_SECONDS)
    if problems and not answer["frames"]:
        status, stopped = "failed", "stream unavailable"
    else:
        status = "done"
    error = problems[-1] if problems else ""
    storage.update_status(
        camera.pk, running=False, stopped=stopped, error=error, totals={"in": answer["in"], "out": answer["out"]}
    )
    return {**answer, "status": status, "stopped": stopped, "error": error}
