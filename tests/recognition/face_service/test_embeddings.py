"""POST embeddings/generate (video path or URL, a frame every 0.5 s, the best face's embedding) and
POST embeddings/validate (multipart video: size, format, metrics and feedback)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.engine import cosine_distance
from recognition.face_service.choices import EmbeddingJobKind
from recognition.face_service.lift import lift
from recognition.models import EmbeddingJob
from tests.recognition.face_service.conftest import read_photo

pytestmark = pytest.mark.django_db

STORED = "uploads/identity/201/1729339200_face_video.mp4"


def store(path: Path, name: str = STORED) -> str:
    saved = default_storage.save(name, ContentFile(path.read_bytes()))
    return "/" + saved


@pytest.fixture
def file_server(videos) -> Iterator[str]:
    """A local HTTP server handing out the test videos (GET), as a video URL would."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(videos["enrolment"].parent))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def refused(response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    if message is not None:
        assert body["message"] == message


# --- generate ----------------------------------------------------------------------------------------


def test_it_generates_the_embedding_of_the_person_in_the_video(post, videos, engine):
    response = post("embeddings/generate", {"videoUrl": store(videos["enrolment"]), "submissionId": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Face embedding generated successfully"
    data = body["data"]
    assert (data["submissionId"], data["faceDetected"]) == (1, True)
    # 3 s of video sampled every 0.5 s; the face is in every frame.
    assert (data["totalFrames"], data["framesWithFace"]) == (6, 6)
    assert len(data["embeddingVector"]) == 512  # 004's size, whatever the model's (lifted)
    assert 0.7 <= data["quality"] <= 1.0
    assert data["processingTime"] > 0
    photo = read_photo("img4.jpg")
    same_person = engine.embed(photo, engine.detect(photo)[0])
    assert cosine_distance(lift(same_person), data["embeddingVector"]) <= engine.threshold


def test_it_reads_a_video_from_a_url(post, videos, file_server):
    response = post("embeddings/generate", {"videoUrl": f"{file_server}/enrolment.mp4", "submissionId": 2})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["framesWithFace"] == 6


def test_a_url_that_answers_404_is_a_missing_video(post, file_server):
    url = f"{file_server}/absent.mp4"
    response = post("embeddings/generate", {"videoUrl": url, "submissionId": 2})
    refused(response, 404, "VIDEO_FILE_NOT_FOUND", f"Video file not found: {url}")


def test_it_requires_the_video_url(post):
    refused(post("embeddings/generate", {"submissionId": 1}), 400, "VIDEO_URL_REQUIRED", "Video URL is required")


def test_it_requires_the_submission_id(post):
    response = post("embeddings/generate", {"videoUrl": "/uploads/x.mp4"})
    refused(response, 400, "SUBMISSION_ID_REQUIRED", "Submission ID is required")


def test_a_missing_file_is_not_found(post):
    url = "/uploads/identity/201/1729339200_face_video.mp4"
    response = post("embeddings/generate", {"videoUrl": url, "submissionId": 1})
    refused(response, 404, "VIDEO_FILE_NOT_FOUND", f"Video file not found: {url}")


def test_a_path_outside_the_storage_is_not_found(post):
    response = post("embeddings/generate", {"videoUrl": "/../../../etc/passwd", "submissionId": 1})
    refused(response, 404, "VIDEO_FILE_NOT_FOUND")


def test_a_path_outside_the_video_root_is_not_found(post, videos, settings):
    settings.FACE_SERVICE_VIDEO_ROOT = str(videos["enrolment"].parent / "rtsp")
    response = post("embeddings/generate", {"videoUrl": "../enrolment.mp4", "submissionId": 1})
    refused(response, 404, "VIDEO_FILE_NOT_FOUND")


def test_a_path_inside_the_video_root_is_read(post, videos, settings):
    settings.FACE_SERVICE_VIDEO_ROOT = str(videos["enrolment"].parent)
    response = post("embeddings/generate", {"videoUrl": "/enrolment.mp4", "submissionId": 1})
    assert response.status_code == 200, response.content


def test_a_video_without_a_face_is_refused(post, videos):
    response = post("embeddings/generate", {"videoUrl": store(videos["no_face"]), "submissionId": 1})
    refused(
        response,
        400,
        "NO_FACE_DETECTED",
        "No face detected in video. Please record video with clear face visibility.",
    )


def test_a_blurred_dark_video_is_low_quality(post, videos):
    response = post("embeddings/generate", {"videoUrl": store(videos["poor"]), "submissionId": 1})
    refused(response, 400, "LOW_QUALITY_FACE")
    assert response.json()["message"].startswith("Face quality too low (score: 0.")


def test_a_corrupted_video_fails_to_process(post):
    path = "/" + default_storage.save("uploads/broken.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500))
    response = post("embeddings/generate", {"videoUrl": path, "submissionId": 1})
    refused(response, 500, "VIDEO_PROCESSING_FAILED", "Failed to process video: Corrupted video file")


def test_every_generation_is_logged_for_the_metrics(post, videos):
    post("embeddings/generate", {"videoUrl": store(videos["enrolment"]), "submissionId": 9})
    post("embeddings/generate", {"videoUrl": "/uploads/none.mp4", "submissionId": 10})
    jobs = {job.submission_id: job for job in EmbeddingJob.objects.filter(kind=EmbeddingJobKind.GENERATE)}
    assert jobs[9].succeeded and jobs[9].quality >= 0.7 and jobs[9].frames_with_face == 6
    assert not jobs[10].succeeded and jobs[10].error_code == "VIDEO_FILE_NOT_FOUND"


# --- validate ----------------------------------------------------------------------------------------


def upload(client, path: Path | None = None, *, name: str | None = None, data: bytes | None = None):
    content = data if data is not None else path.read_bytes()
    video = SimpleUploadedFile(name or path.name, content, content_type="video/mp4")
    return client.post("/face-service/api/v1/embeddings/validate", {"video": video}, format="multipart")


def test_a_good_video_is_acceptable(client, videos):
    response = upload(client, videos["enrolment"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Video quality is good"
    data = body["data"]
    assert (data["faceDetected"], data["isAcceptable"]) == (True, True)
    assert data["quality"] >= 0.7
    assert set(data["metrics"]) == {"faceSize", "clarity", "lighting", "faceAngle"}
    assert data["feedback"] == ["Face is clearly visible", "Good lighting conditions", "Face is properly centered"]


def test_a_blurred_dark_video_needs_improvement_and_says_why(client, videos):
    body = upload(client, videos["poor"]).json()
    assert body["message"] == "Video quality needs improvement"
    data = body["data"]
    assert data["isAcceptable"] is False and data["quality"] < 0.7
    assert data["metrics"]["clarity"] < 0.5 and data["metrics"]["lighting"] < 0.7
    assert any("blurry" in line for line in data["feedback"])
    assert any("dark" in line for line in data["feedback"])


def test_an_avi_video_is_accepted(client, videos):
    response = upload(client, videos["enrolment_avi"])
    assert response.status_code == 200, response.content
    assert response.json()["data"]["faceDetected"] is True


def test_it_requires_a_video_file(client):
    response = client.post("/face-service/api/v1/embeddings/validate", {}, format="multipart")
    refused(response, 400, "VIDEO_FILE_REQUIRED", "Video file is required")


def test_it_refuses_a_video_over_the_size_limit(client):
    response = upload(client, name="big.mp4", data=b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (50 * 1024 * 1024))
    refused(response, 400, "FILE_TOO_LARGE", "Video file exceeds maximum size of 50MB")


def test_it_refuses_a_file_that_is_not_a_video(client):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    response = upload(client, name="face.mp4", data=jpeg)
    refused(response, 400, "INVALID_FILE_FORMAT", "Invalid video format. Allowed: MP4, MOV, AVI")


def test_a_video_without_a_face_is_refused_by_validation(client, videos):
    refused(upload(client, videos["no_face"]), 400, "NO_FACE_DETECTED", "No face detected in video")
