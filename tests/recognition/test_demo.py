"""Demo data: the astronaut scikit-image ships is enrolled, once."""

from __future__ import annotations

from recognition.demo import DEMO_EMPLOYEE_ID, create_demo_data
from recognition.models import FaceEmbedding, FaceProfile
from tests.factories import CameraFactory, DetectionEventLogFactory


def test_demo_enrols_the_skimage_astronaut(db, engine):
    lines = create_demo_data(None)

    profile = FaceProfile.objects.get(employee_id=DEMO_EMPLOYEE_ID)
    assert profile.status == "active" and profile.images.count() == 1
    assert FaceEmbedding.objects.filter(profile=profile).count() == 1
    assert "DEMO-001" in lines[0]


def test_demo_is_idempotent(db, engine):
    create_demo_data(None)
    create_demo_data(None)

    assert FaceProfile.objects.filter(employee_id=DEMO_EMPLOYEE_ID).count() == 1


def test_the_demo_face_camera_sees_the_enrolled_astronaut(db, engine, tmp_path):
    from cameras.rtsp_server import DEMO_FACES_CLIP_NAME, RtspTestServer, prepare_demo_faces_clip
    from recognition import detections

    create_demo_data(None)
    prepare_demo_faces_clip(tmp_path)
    with RtspTestServer(tmp_path) as server:
        camera = CameraFactory(id="CAM-02", name="Reception", stream_url=server.url(DEMO_FACES_CLIP_NAME))
        event = DetectionEventLogFactory(camera=camera, timestamp=camera.created_at, status="processing")
        result = detections.process_frame(event)  # the clip opens on the astronaut

    [detection] = result.detections
    assert detection.person_id == DEMO_EMPLOYEE_ID and detection.status == "authorized"
