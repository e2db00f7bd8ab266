"""Detection providers (001 ``detection_provider_config``): who turns a camera frame into detections.

Two are real: the built-in engine (deepface in this process, matching against the enrolled embeddings
in pgvector) and an external HTTP provider. The HTTP protocol Argus speaks to it:

    POST <endpoint>   Authorization: Bearer <api key>   Content-Type: application/json
    {"cameraId": "CAM-01", "timestamp": "2025-11-05T10:24:00Z", "image": "<base64 JPEG>"}

    200 {"detections": [{"personId": "EMP-00412" | null, "name": "...", "confidence": 99.2,
                         "boundingBox": {"top": .., "left": .., "width": .., "height": ..},
                         "trackId": "..." (optional)}]}

A health check sends the same request with a small blank probe frame: a well-formed 2xx answer is
healthy. Calls time out after the configured seconds and are retried with backoff behind a circuit breaker
(config.resilience).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from cameras.models import Camera
from config import outbound
from config.api.contracts import now_iso
from config.resilience import CircuitBreaker, OutboundError, PeerRejected, RetryPolicy, call_with_policy
from recognition.choices import ProviderKind, ProviderStatus
from recognition.engine import FaceEngine, get_engine
from recognition.matching import identify, threshold_for
from recognition.models import DetectionProviderConfig, FaceProfile

# Slower than this and the provider answers, but is "degraded" (001: the live view needs < 200 ms reads;
# a detection taking seconds means stale tiles).
DEGRADED_LATENCY_MS = 2000
PROVIDER_RETRY = RetryPolicy(max_attempts=3, initial_delay_ms=500, max_delay_ms=4000)
BREAKER_NAME = "detection-provider"


class ProviderError(Exception):
    """The provider could not give an answer (down, timed out, answered nonsense)."""


@dataclass
class ProvidedFace:
    """One face in a frame, as a provider reports it."""

    box: dict[str, int]  # {top, left, width, height} in frame pixels
    confidence: float  # percent: the match's similarity, or the detector's confidence for unknowns
    profile: FaceProfile | None = None
    person_id: str = ""
    name: str = ""
    distance: float | None = None
    margin: float | None = None  # top-1/top-2 distance gap (built-in engine only)
    track_id: str = ""


@dataclass
class ProviderAnswer:
    faces: list[ProvidedFace]
    latency_ms: int
    payload: dict[str, Any] = field(default_factory=dict)
    source: str = ProviderKind.BUILTIN


@dataclass
class HealthReport:
    status: str
    latency_ms: int
    message: str


class BuiltinProvider:
    """The platform's own engine: detect, embed, and 1:N match over every enrolled embedding."""

    kind = ProviderKind.BUILTIN

    def __init__(self, engine: FaceEngine | None = None) -> None:
        self.engine = engine or get_engine()

    def detect(self, pixels: np.ndarray, *, camera_id: str = "") -> ProviderAnswer:
        started = time.perf_counter()
        threshold = threshold_for(Camera.objects.filter(pk=camera_id).first() if camera_id else None, self.engine)
        faces = []
        for face in self.engine.detect(pixels):
            embedding = self.engine.embed(pixels, face)
            # The runner-up too: the top-1/top-2 margin is the decision's evidence (shown with a rejection).
            nearest = identify(embedding, limit=2, engine=self.engine)
            best = nearest[0] if nearest else None
            margin = round(nearest[1].distance - nearest[0].distance, 4) if len(nearest) > 1 else None
            box = face.box.as_api()
            if best is not None and best.distance <= threshold:
                faces.append(
                    ProvidedFace(
                        box=box,
                        confidence=round(best.similarity * 100, 2),
                        profile=best.profile,
                        person_id=best.profile.employee_id,
                        name=best.profile.name,
                        distance=round(best.distance, 4),
                        margin=margin,
                    )
                )
            else:
                faces.append(
                    ProvidedFace(
                        box=box,
                        confidence=round(face.confidence * 100, 2),
                        distance=round(best.distance, 4) if best is not None else None,
                        margin=margin,
                    )
                )
        latency = round((time.perf_counter() - started) * 1000)
        payload = {
            "provider": "builtin",
            "model": self.engine.model_name,
            "threshold": threshold,
            "faces": [
                {
                    "personId": f.person_id or None,
                    "confidence": f.confidence,
                    "boundingBox": f.box,
                    "distance": f.distance,
                    "margin": f.margin,
                }
                for f in faces
            ],
        }
        return ProviderAnswer(faces=faces, latency_ms=latency, payload=payload)

    def health(self) -> HealthReport:
        started = time.perf_counter()
        try:
            self.engine.load()
            self.engine.detect(_probe_frame())
        except Exception as exc:
            return HealthReport(ProviderStatus.OFFLINE, 0, f"Engine unavailable: {exc}")
        latency = round((time.perf_counter() - started) * 1000)
        status = ProviderStatus.DEGRADED if latency > DEGRADED_LATENCY_MS else ProviderStatus.CONNECTED
        return HealthReport(
            status, latency, f"{self.engine.model_name} engine {'slow' if status != 'connected' else 'healthy'}"
        )


class HttpProvider:
    """An external detection service reached over HTTP (see the module docstring for its protocol)."""

    kind = ProviderKind.HTTP

    def __init__(
        self, config: DetectionProviderConfig, *, policy: RetryPolicy = PROVIDER_RETRY, sleep=time.sleep
    ) -> None:
        self.config = config
        self.policy = policy
        self.sleep = sleep

    def _post(self, pixels: np.ndarray, camera_id: str, *, health_check: bool = False) -> tuple[dict[str, Any], int]:
        ok, jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise ProviderError("Could not encode the frame as JPEG")
        body = {
            "cameraId": camera_id,
            "timestamp": now_iso(),
            "image": base64.b64encode(jpeg.tobytes()).decode("ascii"),
        }
        headers = {"Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"

        try:
            # Every frame goes to the address just checked, not to a second resolution of the name.
            client = outbound.pinned_client(
                self.config.endpoint, "The provider's endpoint", timeout=self.config.timeout_seconds
            )
        except outbound.BlockedTarget as exc:
            raise ProviderError(str(exc)) from None

        def send() -> tuple[dict[str, Any], int]:
            started = time.perf_counter()
            response = client.post(self.config.endpoint, json=body, headers=headers)
            response.raise_for_status()
            latency = round((time.perf_counter() - started) * 1000)
            try:
                answer = response.json()
            except ValueError:
                raise PeerRejected("The provider's answer is not JSON", http_status=response.status_code) from None
            return answer, latency

        # A health check is how an open circuit learns the provider is back: it goes around the breaker,
        # once, and closes the circuit when it succeeds.
        breaker = CircuitBreaker(BREAKER_NAME)
        try:
            with client:
                if health_check:
                    result = call_with_policy(send, policy=RetryPolicy(enabled=False), sleep=self.sleep)
                    breaker.reset()
                    return result
                return call_with_policy(send, breaker=breaker, policy=self.policy, sleep=self.sleep)
        except OutboundError as exc:
            raise ProviderError(str(exc)) from exc

    def detect(self, pixels: np.ndarray, *, camera_id: str = "") -> ProviderAnswer:
        answer, latency = self._post(pixels, camera_id)
        items = answer.get("detections") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise ProviderError("The provider's answer has no detections list")
        people = {
            p.employee_id: p
            for p in FaceProfile.objects.filter(
                employee_id__in=[
                    str(item.get("personId")) for item in items if isinstance(item, dict) and item.get("personId")
                ]
            )
        }
        faces = [_provided_face(item, people) for item in items]
        return ProviderAnswer(faces=faces, latency_ms=latency, payload=answer, source=ProviderKind.HTTP)

    def health(self) -> HealthReport:
        try:
            _, latency = self._post(_probe_frame(), "health-check", health_check=True)
        except ProviderError as exc:
            return HealthReport(ProviderStatus.OFFLINE, 0, str(exc))
        if latency > DEGRADED_LATENCY_MS:
            return HealthReport(ProviderStatus.DEGRADED, latency, f"Provider slow ({latency} ms)")
        return HealthReport(ProviderStatus.CONNECTED, latency, "Provider healthy")


def _provided_face(item: Any, people: dict[str, FaceProfile]) -> ProvidedFace:
    if not isinstance(item, dict):
        raise ProviderError("A detection in the provider's answer is not an object")
    raw_box = item.get("boundingBox") or {}
    try:
        box = {key: round(float(raw_box.get(key, 0))) for key in ("top", "left", "width", "height")}
        confidence = float(item.get("confidence", 0))
    except (TypeError, ValueError, AttributeError):
        raise ProviderError("A detection's boundingBox or confidence is not numeric") from None
    person_id = str(item.get("personId") or "")
    profile = people.get(person_id)
    return ProvidedFace(
        box=box,
        confidence=round(max(0.0, min(confidence, 100.0)), 2),
        profile=profile,
        person_id=person_id,
        name=profile.name if profile else str(item.get("name") or ""),
        track_id=str(item.get("trackId") or "")[:100],
    )


def _probe_frame() -> np.ndarray:
    return np.full((64, 64, 3), 127, dtype=np.uint8)


def provider_for(config: DetectionProviderConfig | None = None) -> BuiltinProvider | HttpProvider:
    """The configured provider (the built-in engine unless an HTTP provider is configured)."""
    config = config or DetectionProviderConfig.load()
    if config.kind == ProviderKind.HTTP:
        return HttpProvider(config)
    return BuiltinProvider()
