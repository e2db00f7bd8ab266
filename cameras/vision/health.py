"""Camera health from the vision workers, and the supervisor that notices a camera nobody analyses.

A worker decoding a camera knows its health better than any probe: it reports, about once a second, a small
state in Redis (connected, analysed frames per second, dropped frames, the last frame's time, motion), and
writes the camera's status through ``cameras.monitoring`` when it changes (and now and then while it does not),
so the online/offline transitions, their announcements and the outage alert work as they do for probes. The
Beat probe leaves such cameras alone.

The supervisor (Beat, ``cameras.supervise_vision``) checks that every enabled camera with recognition or
counting on is held by a worker that gets frames, and raises one alert per camera when it has not been for a
while, resolved once frames flow again.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.db.models import Q

from cameras import alerting, monitoring, probing
from cameras.choices import AlertLevel
from cameras.models import Camera
from cameras.vision.camera_streams import cameras_of
from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, VisionStream
from config.redis import get_redis

logger = logging.getLogger("argus.vision")

STATE_SECONDS = 30  # a state not refreshed for this long means no worker watches the camera
FRAME_FRESH_SECONDS = 10.0  # frames older than this: the stream is down
# Give a new connection this long before calling the camera offline (ffmpeg's first frame takes a second or two).
CONNECT_GRACE_SECONDS = 15.0
RECORD_ONLINE_SECONDS = 60.0
RECORD_OFFLINE_SECONDS = 30.0


def state_key(camera_id: str) -> str:
    return f"{settings.REDIS_PREFIX}:vision:camera:{camera_id}"


def watch_states(camera_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The fresh worker reports of these cameras (cameras no worker watches are left out)."""
    if not camera_ids:
        return {}
    values = get_redis().mget([state_key(camera_id) for camera_id in camera_ids])
    return {camera_id: json.loads(value) for camera_id, value in zip(camera_ids, values, strict=True) if value}


def watched(camera_ids: list[str]) -> set[str]:
    """Cameras a worker is decoding right now, with frames coming."""
    now = time.time()
    return {
        camera_id
        for camera_id, state in watch_states(camera_ids).items()
        if state.get("last_frame_at") and now - state["last_frame_at"] <= FRAME_FRESH_SECONDS
    }


class CameraHealthReporter:
    """The cameras analyzer that reports a stream's health for every camera that watches it."""

    def __init__(self, stream: VisionStream) -> None:
        self.stream = stream
        self.camera_ids = [demand.id for demand in cameras_of(stream)]
        self.started = time.time()
        self.online: bool | None = None
        self.recorded_at = 0.0
        self.last_motion_at: float | None = None
        self.motion = False

    def on_frame(self, frame: AnalysedFrame) -> None:
        self.motion = frame.motion.active
        if frame.motion.active:
            self.last_motion_at = frame.captured_at

    def tick(self, now: float, stats: DecoderStats) -> None:
        online = bool(stats.last_frame_at and now - stats.last_frame_at <= FRAME_FRESH_SECONDS)
        state = {
            "stream": self.stream.key,
            "online": online,
            "fps": stats.analysed_fps(now),
            "frames": stats.frames_decoded,
            "dropped": stats.frames_dropped,
            "connects": stats.connects,
            "last_frame_at": stats.last_frame_at,
            "width": stats.width,
            "height": stats.height,
            "motion": self.motion and online,
            "last_motion_at": self.last_motion_at,
            "error": "" if online else stats.last_error,
            "reported_at": now,
        }
        pipe = get_redis().pipeline()
        for camera_id in self.camera_ids:
            pipe.set(state_key(camera_id), json.dumps(state), ex=STATE_SECONDS)
        pipe.execute()
        if not online and self.online is None and now - self.started < CONNECT_GRACE_SECONDS:
            return  # still connecting: no verdict yet
        every = RECORD_ONLINE_SECONDS if online else RECORD_OFFLINE_SECONDS
        if online != self.online or now - self.recorded_at >= every:
            self._record(online, stats, state)
            self.online, self.recorded_at = online, now

    def _record(self, online: bool, stats: DecoderStats, state: dict[str, Any]) -> None:
        source = stats.source or {}
        result = probing.ProbeResult(
            ok=online,
            fps=source.get("fps") or state["fps"],
            width=source.get("width") or stats.width,
            height=source.get("height") or stats.height,
            codec=source.get("codec", ""),
            error="" if online else (stats.last_error or "no frames"),
        )
        for camera in Camera.objects.filter(pk__in=self.camera_ids):
            monitoring.apply_probe(camera, result)

    def close(self) -> None:
        # The next holder reports afresh; until then the state lapses by itself.
        get_redis().delete(*[state_key(camera_id) for camera_id in self.camera_ids])


def report_health(stream: VisionStream) -> CameraHealthReporter | None:
    """Analyzer factory: every stream that platform cameras watch."""
    return CameraHealthReporter(stream) if cameras_of(stream) else None


# --- The supervisor ----------------------------------------------------------------------------------------

UNWATCHED_ALERT_AFTER_SECONDS = 60.0


def unwatched_source(camera_id: str) -> str:
    return f"vision-unwatched:{camera_id}"


def _unwatched_since_key(camera_id: str) -> str:
    return f"{settings.REDIS_PREFIX}:vision:unwatched-since:{camera_id}"


def cameras_needing_analysis() -> list[Camera]:
    """Enabled cameras with a stream whose recognition or counting is on."""
    return list(
        Camera.objects.filter(enabled=True)
        .exclude(stream_url="")
        .filter(Q(recognition_enabled=True) | Q(metadata__counting__enabled=True))
        .order_by("pk")
    )


def service_health() -> dict[str, Any]:
    """002's ``beCamera``: the cameras that need analysis, and how many a vision worker is analysing now.
    Raises when some need it and none is analysed (no vision worker runs, or none gets frames)."""
    needing = [camera.pk for camera in cameras_needing_analysis()]
    analysed = watched(needing)
    if needing and not analysed:
        raise RuntimeError(f"no vision worker is analysing any of the {len(needing)} cameras that need it")
    return {"cameras_needing_analysis": len(needing), "cameras_analysed": len(analysed)}


def supervise(now: float | None = None) -> dict[str, list[str]]:
    """Raise an alert for each camera that needs analysis and has had no worker with frames for a minute;
    resolve it when frames flow again. Returns the cameras watched and those alerted."""
    now = now or time.time()
    client = get_redis()
    cameras = cameras_needing_analysis()
    watching = watched([camera.pk for camera in cameras])
    states = watch_states([camera.pk for camera in cameras])
    outcome: dict[str, list[str]] = {"watched": [], "unwatched": [], "alerted": []}
    for camera in cameras:
        since_key = _unwatched_since_key(camera.pk)
        if camera.pk in watching:
            outcome["watched"].append(camera.pk)
            client.delete(since_key)
            alerting.resolve(unwatched_source(camera.pk), note=f"{camera.name} is analysed again")
            continue
        outcome["unwatched"].append(camera.pk)
        client.set(since_key, now, nx=True, ex=86400)
        since = float(client.get(since_key) or now)
        if now - since < UNWATCHED_ALERT_AFTER_SECONDS:
            continue
        state = states.get(camera.pk)
        why = (
            f"a vision worker holds it but gets no frames: {state.get('error') or 'no frames'}"
            if state
            else "no vision worker holds it (is `manage.py run_vision` running?)"
        )
        _, created = alerting.raise_once(
            source=unwatched_source(camera.pk),
            title=f"Camera not analysed: {camera.name}",
            description=f"{camera.pk} has recognition or counting on, but for {int(now - since)} s {why}.",
            level=AlertLevel.HIGH,
            camera=camera,
            tags=["camera", "vision"],
        )
        if created:
            outcome["alerted"].append(camera.pk)
    return outcome
