"""Camera health: probe, record, announce status changes, and alert on outages.

A camera that fails its checks is marked offline at once (and announced on ``camera-status``); once
it has been offline for ``OFFLINE_ALERT_AFTER`` an alert is raised with a notification. One outage
raises one alert: the alert's ``source`` is unique among open alerts. When the camera answers again
the alert is resolved and everyone is told.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.db import close_old_connections, connections, transaction

from cameras import alerting, probing, services
from cameras.choices import AlertLevel, CameraStatus
from cameras.models import Camera

logger = logging.getLogger("argus.cameras")

OFFLINE_ALERT_AFTER = timedelta(minutes=5)
PROBE_TIMEOUT = 10.0
PARALLEL_PROBES = 8


def offline_source(camera_id: str) -> str:
    return f"camera-offline:{camera_id}"


@dataclass(frozen=True)
class CheckOutcome:
    camera_id: str
    online: bool
    status_changed: bool
    alert_raised: bool
    alert_resolved: bool


def apply_probe(camera: Camera, result: probing.ProbeResult) -> CheckOutcome:
    """Store a probe's result and act on what changed. Separate from probing so it can be reasoned about alone."""
    with transaction.atomic():
        camera = Camera.objects.select_for_update().get(pk=camera.pk)
        services.record_check(
            camera,
            online=result.ok,
            latency_ms=result.latency_ms,
            fps=result.fps,
            width=result.width,
            height=result.height,
            codec=result.codec,
            bitrate=result.bitrate_mbps,
            error="" if result.ok else (result.error or "unreachable"),
        )
        status_changed = raised = resolved = False
        if camera.status == CameraStatus.MAINTENANCE:
            return CheckOutcome(camera.pk, result.ok, False, False, False)
        now = camera.last_checked
        if result.ok:
            if camera.status != CameraStatus.ONLINE:
                camera.status, camera.offline_since = CameraStatus.ONLINE, None
                camera.save(update_fields=["status", "offline_since"])
                status_changed = True
                services.announce_status(camera)
            resolved = alerting.resolve(offline_source(camera.pk), note=f"{camera.name} is back online")
        else:
            if camera.status != CameraStatus.OFFLINE or camera.offline_since is None:
                camera.status = CameraStatus.OFFLINE
                camera.offline_since = camera.offline_since or now
                camera.save(update_fields=["status", "offline_since"])
                status_changed = True
                services.announce_status(camera)
            if now - camera.offline_since >= OFFLINE_ALERT_AFTER:
                minutes = int((now - camera.offline_since).total_seconds() // 60)
                _, raised = alerting.raise_once(
                    source=offline_source(camera.pk),
                    title=f"Camera offline: {camera.name}",
                    description=f"{camera.pk} has not answered for {minutes} minutes: {camera.last_error}",
                    level=AlertLevel.HIGH,
                    camera=camera,
                    tags=["camera", "offline"],
                )
    return CheckOutcome(camera.pk, result.ok, status_changed, raised, resolved)


def probe(camera: Camera, timeout: float = PROBE_TIMEOUT) -> probing.ProbeResult:
    try:
        url = services.stream_url_to_open(camera)
    except ValueError as exc:
        return probing.ProbeResult(ok=False, error=str(exc))
    if not url:
        return probing.ProbeResult(ok=False, error="no stream URL configured")
    return probing.probe_stream(url, timeout=timeout)


def probe_camera(camera: Camera, timeout: float = PROBE_TIMEOUT) -> probing.ProbeResult:
    """Probe now (a user asked) and record the result like a scheduled check would."""
    result = probe(camera, timeout)
    apply_probe(camera, result)
    return result


def check_camera(camera: Camera, timeout: float = PROBE_TIMEOUT) -> CheckOutcome:
    return apply_probe(camera, probe(camera, timeout))


def _check_in_thread(camera: Camera, timeout: float) -> CheckOutcome | None:
    close_old_connections()
    try:
        return check_camera(camera, timeout)
    except Exception:  # one broken camera must not stop the others' checks
        logger.exception("health check of camera %s failed", camera.pk)
        return None
    finally:
        # The pool's threads end with the pool: close their connections now. close_old_connections()
        # keeps a healthy one for CONN_MAX_AGE, and a finished thread's connection then stays open on
        # the server until garbage collection (up to PARALLEL_PROBES of them on every scheduled run).
        connections.close_all()


def check_all_cameras(
    timeout: float = PROBE_TIMEOUT, *, skip: set[str] | frozenset[str] = frozenset()
) -> list[CheckOutcome]:
    """Probe every enabled camera but those in ``skip``, several at a time, and act on the results."""
    cameras = [camera for camera in Camera.objects.filter(enabled=True) if camera.pk not in skip]
    with ThreadPoolExecutor(max_workers=PARALLEL_PROBES) as pool:
        outcomes = list(pool.map(lambda camera: _check_in_thread(camera, timeout), cameras))
    return [outcome for outcome in outcomes if outcome is not None]
