"""Demo data of the recognition app: one enrolled person, from the photograph scikit-image ships.

``skimage.data.astronaut()`` (astronaut Eileen Collins, NASA, public domain) is bundled inside the
scikit-image wheel, so the demo needs no download and no photograph in the repository.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from config.api.contracts import ApiError
from recognition import enrolment
from recognition.engine import FaceEngineUnavailable
from recognition.images import encode_jpeg
from recognition.models import FaceProfile

DEMO_EMPLOYEE_ID = "DEMO-001"
DEMO_NAME = "Eileen Collins"


def astronaut_jpeg() -> bytes:
    """skimage's astronaut photograph as JPEG bytes (skimage gives RGB; OpenCV encodes BGR)."""
    from skimage import data

    return encode_jpeg(data.astronaut()[:, :, ::-1])


def create_demo_data(command) -> list[str]:
    profile = FaceProfile.objects.filter(employee_id=DEMO_EMPLOYEE_ID).first()
    if profile is None:
        upload = SimpleUploadedFile("astronaut.jpg", astronaut_jpeg(), content_type="image/jpeg")
        try:
            profile = enrolment.create_profile(
                {"employee_id": DEMO_EMPLOYEE_ID, "name": DEMO_NAME, "department": "Demo"}, [upload]
            )
        except (FaceEngineUnavailable, ApiError) as exc:
            return [f"face profile: not enrolled ({exc})"]
    return [f"face profile: {profile.employee_id} {profile.name} ({profile.images.count()} image, skimage astronaut)"]
