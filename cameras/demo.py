"""Demo data of the cameras app: one camera on the demo RTSP stream that `make run` serves."""

from __future__ import annotations

from cameras import services
from cameras.models import Camera
from cameras.rtsp_server import DEMO_FACES_CLIP_NAME, demo_stream_url

DEMO_CAMERA_ID = "CAM-01"
DEMO_FACE_CAMERA_ID = "CAM-02"


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
    faces_url = demo_stream_url(clip=DEMO_FACES_CLIP_NAME)
    face_camera = Camera.objects.filter(pk=DEMO_FACE_CAMERA_ID).first()
    if face_camera is None:
        face_camera = services.create_camera(
            {
                "id": DEMO_FACE_CAMERA_ID,
                "name": "Demo camera (reception)",
                "location": "Demo face stream on loopback",
                "stream_type": "RTSP",
                "stream_url": faces_url,
                "enabled": True,
                "tags": ["demo", "faces"],
            }
        )
        # Watched by the vision workers' face analyzer: the enrolled demo face shows up in the live view and attendance.
        Camera.objects.filter(pk=face_camera.pk).update(recognition_enabled=True)
    return [f"camera: {camera.pk} streaming {url}", f"camera: {face_camera.pk} streaming {faces_url} (recognition)"]
