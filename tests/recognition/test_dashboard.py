"""The recognition dashboard pages: the live view (camera tiles, the detections feed, Scan now) and face
registration (profile list, enrolment through the real engine, profile detail, images, deletion)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import preferences
from accounts.models import AuditLog
from cameras.models import Camera
from recognition import enrolment
from recognition.images import encode_jpeg
from recognition.models import DetectionEventLog, FaceEmbedding, FaceImage, FaceProfile
from recognition.views import FEED_SIZE, PROFILES_PER_PAGE
from tests.conftest import signed_in
from tests.factories import CameraFactory, DetectionFactory, FaceProfileFactory, RoleFactory, UserFactory
from tests.recognition.conftest import jpeg_file, media_files, photo_file

pytestmark = pytest.mark.django_db

LIVE = "/recognition/live/"
FACES = "/recognition/faces/"
FEED = "/recognition/feed/"
MOMENT = datetime(2026, 1, 15, 23, 30, 5, tzinfo=UTC)


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def face_viewer():
    """A role that may see cameras, detections and faces, and change nothing."""
    role = RoleFactory(id="ROLE-FACE-VIEWER", permissions=["cameras:read", "detections:read", "faces:read"])
    return UserFactory(role_id=role.id, email="faces@example.com")


def stored_jpeg(name: str, seed: int = 0) -> str:
    pixels = np.full((64, 64, 3), 40 + seed, dtype=np.uint8)
    return default_storage.save(name, ContentFile(encode_jpeg(pixels)))


@pytest.fixture
def entrance() -> Camera:
    return CameraFactory(
        id="CAM-01", name="Main entrance", status="online", thumbnail=stored_jpeg("snapshots/CAM-01/latest.jpg")
    )


@pytest.fixture
def garage() -> Camera:
    return CameraFactory(id="CAM-02", name="Garage", status="offline")


def feed_of(html: str) -> str:
    return html.split('id="detection-feed"', 1)[1].split("</ol>", 1)[0]


# --- Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIVE, "/recognition/live/CAM-01/", FACES])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_live_view_needs_detections_read(viewer_user, entrance):
    response = signed_in(viewer_user).get(LIVE)

    assert response.status_code == 403
    assert b"detections:read" in response.content


def test_faces_page_needs_a_faces_permission(viewer_user):
    response = signed_in(viewer_user).get(FACES)

    assert response.status_code == 403
    assert b"faces:read or faces:write" in response.content


def test_live_and_faces_are_in_the_navigation(admin_user):
    html = page(signed_in(admin_user).get("/"))

    assert f'href="{LIVE}"' in html and f'href="{FACES}"' in html


# --- Live view: tiles ----------------------------------------------------------------------------


def test_live_view_shows_each_camera_with_its_latest_snapshot_and_status(face_viewer, entrance, garage):
    html = page(signed_in(face_viewer).get(LIVE))

    tile = html.split('data-camera-id="CAM-01"', 1)[1].split("</article>", 1)[0]
    assert "Main entrance" in tile and ">online<" in tile
    snapshot = re.search(r'<img src="([^"]+)" data-live-src="[^"]+" alt="Live picture of Main entrance"', tile).group(1)
    assert "snapshots/CAM-01/latest.jpg" in snapshot and "signature=" in snapshot
    garage_tile = html.split('data-camera-id="CAM-02"', 1)[1].split("</article>", 1)[0]
    assert "Garage" in garage_tile and ">offline<" in garage_tile and "No picture yet" in garage_tile


def test_a_tile_shows_what_the_vision_workers_analyse_for_recognition(face_viewer, entrance, garage):
    Camera.objects.filter(pk=entrance.pk).update(
        recognition_enabled=True, analysis_fps=2.5, detect_width=960, detect_height=540
    )

    html = page(signed_in(face_viewer).get(LIVE))

    tile = html.split('data-camera-id="CAM-01"', 1)[1].split("</article>", 1)[0]
    recognition = re.search(r'data-role="recognition">([^<]*)<', tile).group(1)
    assert recognition == "on · 2.5 fps up to 960x540"
    assert "every" not in tile
    garage_tile = html.split('data-camera-id="CAM-02"', 1)[1].split("</article>", 1)[0]
    assert re.search(r'data-role="recognition">([^<]*)<', garage_tile).group(1) == "off"


def test_tile_snapshot_url_serves_the_image(face_viewer, entrance):
    html = page(signed_in(face_viewer).get(LIVE))
    url = re.search(r'<img src="([^"]+)" data-live-src="[^"]+" alt="Live picture', html).group(1).replace("&amp;", "&")

    response = Client().get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"


def test_tile_counts_the_cameras_detections_of_today(face_viewer, entrance):
    DetectionFactory(camera=entrance)
    DetectionFactory(camera=entrance)
    DetectionFactory(camera=entrance, timestamp=timezone.now() - timedelta(days=2))

    html = page(signed_in(face_viewer).get(LIVE))

    assert '<span data-role="today">2</span> detections' in html


def test_scan_now_is_offered_with_the_send_frame_endpoint_to_detection_writers(admin_user, entrance):
    html = page(signed_in(admin_user).get(LIVE))

    assert 'data-scan="CAM-01"' in html
    assert 'data-send-frame-url="/api/v1/detections/send-frame"' in html


def test_scan_now_request_of_the_page_queues_a_frame(admin_user, entrance):
    """What the button sends: the page's token (from the token endpoint) and {"cameraId"} to send-frame."""
    Camera.objects.filter(pk="CAM-01").update(stream_url="rtsp://127.0.0.1:9/none.mp4")
    session = signed_in(admin_user)
    html = page(session.get(LIVE))
    url = re.search(r'data-send-frame-url="([^"]+)"', html).group(1)
    token = session.get("/accounts/token/").json()["token"]

    response = APIClient().post(url, {"cameraId": "CAM-01"}, format="json", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 202
    assert response.json()["data"]["status"] == "queued"
    assert DetectionEventLog.objects.get(pk=response.json()["data"]["jobId"]).camera_id == "CAM-01"


def test_scan_now_is_hidden_without_detections_write(face_viewer, entrance):
    html = page(signed_in(face_viewer).get(LIVE))

    assert "data-scan=" not in html and "Test provider" not in html


def test_live_page_subscribes_with_a_token_from_the_token_endpoint(face_viewer, entrance):
    html = page(signed_in(face_viewer).get(LIVE))

    assert 'data-token-url="/accounts/token/"' in html and 'data-ws-path="/ws"' in html
    assert "argus/core.js" in html and "argus/recognition.js" in html


# --- Live view: the detections feed --------------------------------------------------------------


def test_feed_shows_names_status_confidence_and_signed_thumbnails(face_viewer, entrance):
    profile = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")
    DetectionFactory(
        camera=entrance, profile=profile, confidence=99.2, thumbnail=stored_jpeg("detections/CAM-01/face.jpg")
    )

    feed = feed_of(page(signed_in(face_viewer).get(LIVE)))

    assert "Sophia Martinez" in feed and "EMP-00412" in feed and "99.2%" in feed
    assert 'class="badge green" data-role="status">authorized<' in feed
    thumbnail = re.search(r'<img src="([^"]+)" alt="Face of Sophia Martinez"', feed).group(1)
    assert "detections/CAM-01/face.jpg" in thumbnail and "signature=" in thumbnail


def test_feed_shows_unknown_people_as_unknown(face_viewer, entrance):
    DetectionFactory(camera=entrance, status="unknown")

    feed = feed_of(page(signed_in(face_viewer).get(LIVE)))

    assert "Unknown person" in feed and 'class="badge red" data-role="status">unknown<' in feed


def test_feed_links_names_to_their_profile_search(face_viewer, entrance):
    DetectionFactory(camera=entrance, profile=FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez"))

    feed = feed_of(page(signed_in(face_viewer).get(LIVE)))

    assert f'href="{FACES}?search=EMP-00412"' in feed


def test_feed_is_newest_first(face_viewer, entrance):
    DetectionFactory(
        camera=entrance, profile=FaceProfileFactory(employee_id="EMP-1", name="Older Person"), timestamp=MOMENT
    )
    DetectionFactory(
        camera=entrance,
        profile=FaceProfileFactory(employee_id="EMP-2", name="Newer Person"),
        timestamp=MOMENT + timedelta(seconds=5),
    )

    feed = feed_of(page(signed_in(face_viewer).get(LIVE)))

    assert feed.index("Newer Person") < feed.index("Older Person")


def test_feed_shows_the_latest_detections_only(face_viewer, entrance):
    for second in range(FEED_SIZE + 5):
        DetectionFactory(camera=entrance, timestamp=MOMENT + timedelta(seconds=second))

    feed = feed_of(page(signed_in(face_viewer).get(LIVE)))

    assert feed.count("data-detection-id=") == FEED_SIZE


def test_feed_times_are_in_the_users_time_zone(face_viewer, entrance):
    preferences.update_preferences(face_viewer, {"timezone": "Asia/Ho_Chi_Minh"})
    DetectionFactory(camera=entrance, timestamp=MOMENT)

    html = page(signed_in(face_viewer).get(LIVE))

    assert "2026-01-16 06:30:05" in feed_of(html)  # 23:30:05 UTC is 06:30:05 the next day at +07:00
    assert 'data-time-zone="Asia/Ho_Chi_Minh"' in html  # live rows are formatted in the same zone


@pytest.mark.parametrize("count", [10, 20])
def test_live_page_queries_do_not_grow_with_detections(
    face_viewer, entrance, garage, count, django_assert_max_num_queries
):
    client = signed_in(face_viewer)
    for index in range(count):
        DetectionFactory(
            camera=entrance if index % 2 else garage,
            profile=FaceProfileFactory(employee_id=f"EMP-{index}", name=f"Person {index}"),
        )
    client.get(LIVE)  # session and user loaded once

    with django_assert_max_num_queries(10):
        response = client.get(LIVE)

    assert response.status_code == 200


def test_camera_page_shows_only_that_cameras_detections(face_viewer, entrance, garage):
    DetectionFactory(camera=entrance, profile=FaceProfileFactory(employee_id="EMP-1", name="At The Door"))
    DetectionFactory(camera=garage, profile=FaceProfileFactory(employee_id="EMP-2", name="In The Garage"))

    html = page(signed_in(face_viewer).get("/recognition/live/CAM-02/"))

    feed = feed_of(html)
    assert "In The Garage" in feed and "At The Door" not in feed
    assert 'data-camera-id="CAM-02"' in html and '<article class="tile" data-camera-id="CAM-01"' not in html


def test_camera_page_of_an_unknown_camera_is_404(face_viewer, entrance):
    assert signed_in(face_viewer).get("/recognition/live/CAM-99/").status_code == 404


def test_feed_endpoint_renders_the_rows_for_a_resync(face_viewer, entrance, garage):
    DetectionFactory(camera=entrance, profile=FaceProfileFactory(employee_id="EMP-1", name="At The Door"))
    DetectionFactory(camera=garage, profile=FaceProfileFactory(employee_id="EMP-2", name="In The Garage"))

    response = signed_in(face_viewer).get(FEED, {"camera": "CAM-01"})

    assert response.status_code == 200
    assert "At The Door" in page(response) and "In The Garage" not in page(response)


@pytest.mark.parametrize("count", [5, 10])
def test_feed_endpoint_costs_the_same_queries_however_many_detections(
    face_viewer, entrance, count, django_assert_max_num_queries
):
    for _ in range(count):
        DetectionFactory(camera=entrance, profile=FaceProfileFactory())
    client = signed_in(face_viewer)

    with django_assert_max_num_queries(4):
        response = client.get(FEED)

    assert page(response).count("data-detection-id=") == count


def test_feed_endpoint_answers_scripts_in_json_when_signed_out(client):
    response = client.get(FEED)

    assert response.status_code == 401
    assert response.json() == {"error": "Not signed in"}


def test_feed_endpoint_needs_detections_read(viewer_user):
    response = signed_in(viewer_user).get(FEED)

    assert response.status_code == 403
    assert "detections:read" in response.json()["error"]


# --- Faces: the profile list ---------------------------------------------------------------------


def test_faces_page_lists_profiles_with_signed_thumbnails(face_viewer):
    profile = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez", images=2, department="Engineering")

    html = page(signed_in(face_viewer).get(FACES))

    card = html.split(f'data-profile-id="{profile.pk}"', 1)[1].split("</a>", 1)[0]
    assert "Sophia Martinez" in card and "EMP-00412" in card and "Engineering" in card and "2 images" in card
    thumbnail = re.search(r'<img src="([^"]+)"', card).group(1)
    # The first photograph by enrolment order; its file name comes from the factory's run-wide sequence.
    assert profile.images.first().storage_key in thumbnail and "signature=" in thumbnail


def test_faces_search_finds_by_employee_id(face_viewer):
    FaceProfileFactory(employee_id="EMP-1", name="Alice Able")
    FaceProfileFactory(employee_id="EMP-2", name="Bob Baker")

    html = page(signed_in(face_viewer).get(FACES, {"search": "emp-2"}))

    assert "Bob Baker" in html and "Alice Able" not in html


def test_faces_department_filter(face_viewer):
    FaceProfileFactory(employee_id="EMP-1", name="Alice Able", department="Engineering")
    FaceProfileFactory(employee_id="EMP-2", name="Bob Baker", department="Security")

    html = page(signed_in(face_viewer).get(FACES, {"department": "security"}))

    assert "Bob Baker" in html and "Alice Able" not in html


def test_faces_status_filter(face_viewer):
    FaceProfileFactory(employee_id="EMP-1", name="Alice Able", status="active")
    FaceProfileFactory(employee_id="EMP-2", name="Bob Baker", status="archived")

    html = page(signed_in(face_viewer).get(FACES, {"status": "archived"}))

    assert "Bob Baker" in html and "Alice Able" not in html


def test_faces_list_is_paginated_keeping_the_filters(face_viewer):
    for index in range(PROFILES_PER_PAGE + 3):
        FaceProfileFactory(employee_id=f"EMP-{index:03}", name=f"Person {index:03}", department="Engineering")

    client = signed_in(face_viewer)
    first = page(client.get(FACES, {"department": "Engineering"}))
    second = page(client.get(FACES, {"department": "Engineering", "page": 2}))

    assert first.count("data-profile-id=") == PROFILES_PER_PAGE
    assert second.count("data-profile-id=") == 3
    assert "?department=Engineering&amp;page=2" in first


@pytest.mark.parametrize("count", [5, 10])
def test_faces_list_queries_do_not_grow_with_profiles(face_viewer, count, django_assert_max_num_queries):
    client = signed_in(face_viewer)
    for index in range(count):
        FaceProfileFactory(employee_id=f"EMP-{index}", name=f"Person {index}", images=2)
    client.get(FACES)

    with django_assert_max_num_queries(10):
        response = client.get(FACES)

    assert response.status_code == 200


def test_viewer_sees_profiles_but_no_registration_form(face_viewer):
    FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")

    html = page(signed_in(face_viewer).get(FACES))

    assert "Sophia Martinez" in html and 'enctype="multipart/form-data"' not in html


def test_viewer_cannot_register(face_viewer):
    response = signed_in(face_viewer).post(FACES, {"employee_id": "EMP-9", "name": "Nobody"})

    assert response.status_code == 403
    assert not FaceProfile.objects.exists()


# --- Faces: registration -------------------------------------------------------------------------


def register(client, employee_id="EMP-100", name="Eileen Collins", images=(), **fields):
    data = {"employee_id": employee_id, "name": name, "department": "Engineering", "notes": "", **fields}
    if images:
        data["images"] = list(images)
    return client.post(FACES, data)


def test_registration_enrols_a_profile_with_embeddings(admin_user, shared_data, engine, settings):
    photos = [photo_file(shared_data / "faces" / "img1.jpg"), photo_file(shared_data / "faces" / "img2.jpg")]

    response = register(signed_in(admin_user), images=photos)

    profile = FaceProfile.objects.get(employee_id="EMP-100")
    assert response.status_code == 302 and response["Location"] == f"/recognition/faces/{profile.pk}/"
    assert profile.status == "active" and profile.department == "Engineering"
    assert profile.images.count() == 2 and len(media_files(settings)) == 2
    assert list(FaceEmbedding.objects.filter(profile=profile).values_list("model", "dimension")) == [("Dlib", 128)] * 2


def test_registration_is_audited(admin_user, astronaut, engine):
    register(signed_in(admin_user), images=[jpeg_file(astronaut)])

    entry = AuditLog.objects.get(action="face_profile.create")
    assert entry.actor == admin_user.email and entry.resource_id == str(FaceProfile.objects.get().pk)


def test_registration_without_images_waits_as_pending(admin_user):
    register(signed_in(admin_user))

    assert FaceProfile.objects.get().status == "pending"


def test_registration_of_a_photo_without_a_face_shows_the_error(admin_user, no_face_image, engine, settings):
    response = register(signed_in(admin_user), images=[jpeg_file(no_face_image, "cameraman.jpg")])

    assert response.status_code == 200
    assert "No face detected in images.0 (cameraman.jpg)" in page(response)
    assert not FaceProfile.objects.exists() and media_files(settings) == []


def test_registration_of_a_photo_with_several_faces_shows_the_error(admin_user, shared_data, engine):
    response = register(signed_in(admin_user), images=[photo_file(shared_data / "faces" / "couple.jpg")])

    assert "faces detected in images.0 (couple.jpg); an enrolment image must show one person" in page(response)
    assert not FaceProfile.objects.exists()


def test_registration_of_a_file_that_is_no_image_shows_the_error(admin_user):
    upload = SimpleUploadedFile("notes.txt", b"just some text", content_type="image/jpeg")

    response = register(signed_in(admin_user), images=[upload])

    assert "images.0 (notes.txt) is not a JPEG, PNG or WebP image" in page(response)
    assert not FaceProfile.objects.exists()


def test_registration_of_an_oversized_image_shows_the_error(admin_user):
    upload = SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff" + b"\0" * (8 * 1024 * 1024), content_type="image/jpeg")

    response = register(signed_in(admin_user), images=[upload])

    assert "an image may be at most 8 MB" in page(response)
    assert not FaceProfile.objects.exists()


def test_registration_of_more_than_five_images_shows_the_error(admin_user):
    uploads = [SimpleUploadedFile(f"{index}.jpg", b"\xff\xd8\xff") for index in range(6)]

    response = register(signed_in(admin_user), images=uploads)

    assert "At most 5 images per upload; 6 were sent" in page(response)


def test_registration_of_a_taken_employee_id_shows_the_error(admin_user):
    FaceProfileFactory(employee_id="EMP-100", name="Already There")

    response = register(signed_in(admin_user), employee_id="EMP-100")

    assert "Employee EMP-100 already has a face profile" in page(response)
    assert FaceProfile.objects.count() == 1


def test_registration_keeps_what_was_typed_after_a_refusal(admin_user):
    FaceProfileFactory(employee_id="EMP-100", name="Already There")

    html = page(register(signed_in(admin_user), employee_id="EMP-100", name="Eileen Collins"))

    assert 'value="Eileen Collins"' in html


def test_operator_who_may_enrol_also_sees_the_list_and_the_new_profile(operator_user, astronaut, engine):
    FaceProfileFactory(employee_id="EMP-1", name="Someone Else")
    client = signed_in(operator_user)

    listing = page(client.get(FACES))
    response = register(client, images=[jpeg_file(astronaut)])

    assert "Someone Else" in listing and 'enctype="multipart/form-data"' in listing  # faces:write implies read
    profile = FaceProfile.objects.get(employee_id="EMP-100")
    assert response.status_code == 302 and response["Location"] == f"/recognition/faces/{profile.pk}/"


# --- Faces: one profile --------------------------------------------------------------------------


@pytest.fixture
def enrolled(astronaut, engine) -> FaceProfile:
    return enrolment.create_profile(
        {"employee_id": "EMP-200", "name": "Eileen Collins", "department": "Flight"}, [jpeg_file(astronaut)]
    )


def test_detail_shows_the_images_with_signed_urls(face_viewer, enrolled):
    image = enrolled.images.get()

    html = page(signed_in(face_viewer).get(f"/recognition/faces/{enrolled.pk}/"))

    figure = html.split(f'data-image-id="{image.pk}"', 1)[1].split("</figure>", 1)[0]
    url = re.search(r'<img src="([^"]+)"', figure).group(1)
    assert image.storage_key in url and "signature=" in url
    assert "512\N{MULTIPLICATION SIGN}512" in figure and "Quality" in figure
    assert "1 embedding" in html


def test_detail_shows_the_persons_recent_detections(face_viewer, enrolled, entrance):
    DetectionFactory(camera=entrance, profile=enrolled, confidence=96.4)

    html = page(signed_in(face_viewer).get(f"/recognition/faces/{enrolled.pk}/"))

    history = html.split('id="profile-detections"', 1)[1]
    assert "Main entrance" in history and "96.4%" in history


@pytest.mark.parametrize("count", [3, 6])
def test_detail_costs_the_same_queries_however_many_images_and_detections(
    face_viewer, entrance, count, django_assert_max_num_queries
):
    profile = FaceProfileFactory(images=count)
    DetectionFactory.create_batch(count, camera=entrance, profile=profile)
    client = signed_in(face_viewer)

    # 8: the page, the person, images, detections, cameras, session and user, and the read's audit entry
    with django_assert_max_num_queries(8):
        html = page(client.get(f"/recognition/faces/{profile.pk}/"))

    assert html.count("data-image-id=") == count and html.count("Main entrance") >= count


def test_detail_offers_no_changes_to_viewers(face_viewer, enrolled):
    html = page(signed_in(face_viewer).get(f"/recognition/faces/{enrolled.pk}/"))

    assert "Add images" not in html and "Delete image" not in html and "Delete profile" not in html


def test_detail_needs_faces_read(viewer_user, enrolled):
    response = signed_in(viewer_user).get(f"/recognition/faces/{enrolled.pk}/")

    assert response.status_code == 403


def test_detail_of_an_unknown_profile_is_404(face_viewer):
    assert signed_in(face_viewer).get("/recognition/faces/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_adding_an_image_enrols_it_with_its_embedding(admin_user, enrolled, shared_data):
    response = signed_in(admin_user).post(
        f"/recognition/faces/{enrolled.pk}/images/", {"images": [photo_file(shared_data / "faces" / "img1.jpg")]}
    )

    assert response.status_code == 302
    assert enrolled.images.count() == 2 and enrolled.embeddings.count() == 2


def test_adding_an_image_without_a_face_shows_the_error(admin_user, enrolled, no_face_image):
    response = signed_in(admin_user).post(
        f"/recognition/faces/{enrolled.pk}/images/", {"images": [jpeg_file(no_face_image, "back.jpg")]}
    )

    assert response.status_code == 200
    assert "No face detected in images.0 (back.jpg)" in page(response)
    assert enrolled.images.count() == 1


def test_adding_images_needs_at_least_one(admin_user, enrolled):
    response = signed_in(admin_user).post(f"/recognition/faces/{enrolled.pk}/images/", {})

    assert response.status_code == 200 and "This field is required." in page(response)


def test_deleting_an_image_removes_it_its_embedding_and_its_file(
    admin_user, enrolled, settings, django_capture_on_commit_callbacks
):
    image = enrolled.images.get()

    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion commits
        response = signed_in(admin_user).post(f"/recognition/faces/{enrolled.pk}/images/{image.pk}/delete/")

    assert response.status_code == 302
    assert not FaceImage.objects.exists() and not FaceEmbedding.objects.exists()
    assert media_files(settings) == []


def test_viewer_cannot_delete_an_image(face_viewer, enrolled):
    image = enrolled.images.get()

    response = signed_in(face_viewer).post(f"/recognition/faces/{enrolled.pk}/images/{image.pk}/delete/")

    assert response.status_code == 403
    assert FaceImage.objects.filter(pk=image.pk).exists()


def test_deleting_an_image_of_another_profile_is_404(admin_user, enrolled):
    other = FaceProfileFactory(employee_id="EMP-300", name="Other Person", images=1)
    image = other.images.get()

    response = signed_in(admin_user).post(f"/recognition/faces/{enrolled.pk}/images/{image.pk}/delete/")

    assert response.status_code == 404
    assert FaceImage.objects.filter(pk=image.pk).exists()


def test_editing_a_profile_changes_its_status(admin_user, enrolled):
    response = signed_in(admin_user).post(
        f"/recognition/faces/{enrolled.pk}/edit/",
        {"name": "Eileen Collins", "department": "Flight", "status": "archived", "notes": ""},
    )

    enrolled.refresh_from_db()
    assert response.status_code == 302 and enrolled.status == "archived"


def test_profile_deletion_asks_for_confirmation_first(admin_user, enrolled):
    response = signed_in(admin_user).get(f"/recognition/faces/{enrolled.pk}/delete/")

    assert response.status_code == 200
    assert "1 image and 1 embedding" in page(response)
    assert FaceProfile.objects.filter(pk=enrolled.pk).exists()


def test_deleting_a_profile_removes_it_with_its_images_and_files(
    admin_user, enrolled, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # files go once the deletion commits
        response = signed_in(admin_user).post(f"/recognition/faces/{enrolled.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == FACES
    assert not FaceProfile.objects.exists() and not FaceEmbedding.objects.exists()
    assert media_files(settings) == []


def test_deleting_a_profile_is_audited_by_the_service(admin_user, enrolled):
    signed_in(admin_user).post(f"/recognition/faces/{enrolled.pk}/delete/")

    entry = AuditLog.objects.get(action="faces.profile.delete")
    assert entry.actor == admin_user.email and entry.context["images"] == 1


def test_viewer_cannot_delete_a_profile(face_viewer, enrolled):
    client = signed_in(face_viewer)

    assert client.get(f"/recognition/faces/{enrolled.pk}/delete/").status_code == 403
    assert client.post(f"/recognition/faces/{enrolled.pk}/delete/").status_code == 403
    assert FaceProfile.objects.filter(pk=enrolled.pk).exists()
