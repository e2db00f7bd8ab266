"""Helpers of the detection tests: cameras, enrolled people, stored detections, and a local HTTP detection
provider that speaks the protocol of recognition/providers.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils import timezone

from cameras.models import Camera
from recognition.models import Detection, FaceProfile


def make_camera(camera_id: str = "CAM-01", name: str = "Main entrance", **fields) -> Camera:
    fields.setdefault("stream_url", "rtsp://127.0.0.1:9/none.mp4")
    return Camera.objects.create(id=camera_id, name=name, **fields)


def make_profile(employee_id: str = "EMP-00412", name: str = "Sophia Martinez", **fields) -> FaceProfile:
    fields.setdefault("status", "active")
    return FaceProfile.objects.create(employee_id=employee_id, name=name, **fields)


def make_detection(
    camera: Camera, at: datetime | None = None, profile: FaceProfile | None = None, **fields
) -> Detection:
    return Detection.objects.create(
        camera=camera,
        profile=profile,
        person_id=profile.employee_id if profile else "",
        name=profile.name if profile else "",
        confidence=fields.pop("confidence", 97.5),
        timestamp=at or timezone.now(),
        bounding_box=fields.pop("bounding_box", {"top": 10, "left": 20, "width": 80, "height": 100}),
        status=fields.pop("status", "authorized" if profile else "unknown"),
        **fields,
    )


class ProviderPeer:
    """An external detection provider on 127.0.0.1: answers ``detections`` to every frame, after failing the
    first ``fail_first`` requests with ``failure_status``; records what it received."""

    def __init__(
        self, detections: list[dict[str, Any]] | None = None, *, fail_first: int = 0, failure_status: int = 503
    ):
        self.detections = detections or []
        self.fail_first = fail_first
        self.failure_status = failure_status
        self.requests: list[dict[str, Any]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                peer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if len(peer.requests) <= peer.fail_first:
                    self._answer(peer.failure_status, {"error": "warming up"})
                else:
                    self._answer(200, {"detections": peer.detections})

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/detect"

    @contextmanager
    def running(self) -> Iterator[ProviderPeer]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
