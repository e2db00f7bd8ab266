"""004's embeddings/generate and embeddings/validate analyse their video in an inference worker; when the
workers cannot answer in time, the caller hears a 503 in 004's format and the job log says so."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.face_service.choices import EmbeddingJobKind
from recognition.models import EmbeddingJob

pytestmark = pytest.mark.django_db


def stored(videos) -> str:
    return "/" + default_storage.save(
        "uploads/identity/7/face_video.mp4", ContentFile(videos["enrolment"].read_bytes())
    )


def validate(client, videos):
    video = SimpleUploadedFile("enrolment.mp4", videos["enrolment"].read_bytes(), content_type="video/mp4")
    return client.post("/face-service/api/v1/embeddings/validate", {"video": video}, format="multipart")


def test_generate_runs_its_inference_in_a_worker(post, videos, engine, no_engine_in_this_process):
    response = post("embeddings/generate", {"videoUrl": stored(videos), "submissionId": 7})

    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert len(data["embeddingVector"]) == 512 and data["framesWithFace"] == 6


def test_validate_runs_its_inference_in_a_worker(client, videos, no_engine_in_this_process):
    response = validate(client, videos)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["isAcceptable"] is True


def test_a_generate_timeout_is_a_503_in_the_face_service_format(post, videos, settings):
    settings.ARGUS_INFERENCE_VIDEO_TIMEOUT = 0.001

    response = post("embeddings/generate", {"videoUrl": stored(videos), "submissionId": 8})

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert "did not finish within 0.001 s" in body["message"]
    job = EmbeddingJob.objects.get(kind=EmbeddingJobKind.GENERATE, submission_id=8)
    assert not job.succeeded and job.error_code == "SERVICE_UNAVAILABLE"


def test_a_validate_timeout_is_a_503_in_the_face_service_format(client, videos, settings):
    settings.ARGUS_INFERENCE_VIDEO_TIMEOUT = 0.001

    response = validate(client, videos)

    assert response.status_code == 503
    assert (response.json()["status"], response.json()["code"]) == (503, "SERVICE_UNAVAILABLE")
    job = EmbeddingJob.objects.get(kind=EmbeddingJobKind.VALIDATE)
    assert not job.succeeded and job.error_code == "SERVICE_UNAVAILABLE"
