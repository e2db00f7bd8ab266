"""Demo data: the astronaut scikit-image ships is enrolled, once."""

from __future__ import annotations

from recognition.demo import DEMO_EMPLOYEE_ID, create_demo_data
from recognition.models import FaceEmbedding, FaceProfile


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
