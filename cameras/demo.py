"""Demo data of the cameras app: one camera on the demo RTSP stream that `make run` serves."""

from __future__ import annotations

from cameras import services
from cameras.models import Camera
from cameras.rtsp_server import demo_stream_url

DEMO_CAMERA_ID = "CAM-01"


def create_demo_data(command) -> list[str]:
    url = demo_stream_url()
    camera = Camera.objects.filter(pk=DEMO_CAMERA_ID).first()
    if camera is None:
        camera = services.create_camera(
            {
                "id": DEMO_CAMERA_ID,
                "name": "Demo camera (pedestrians)",
                "location": "Demo stream on loopback",
                "stream_type": "RTSP",
                "stream_url": url,
                "enabled": True,
                "tags": ["demo"],
            }
        )
    return [f"camera: {camera.pk} streaming {url}"]
