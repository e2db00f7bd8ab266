"""Face inference for requests runs in worker processes (recognition.inference), never on the request thread.

The workers are real processes (the pool of this test run, made once); "the request thread never runs
the engine" is proven by breaking the engine in this process only: the answers stay right.
"""

from __future__ import annotations

import os

import pytest

from config.api.contracts import ApiError, Contract
from recognition import inference
from recognition.models import FaceProfile
from tests.recognition.conftest import enrol, jpeg_file

pytestmark = pytest.mark.django_db


def identify(client, pixels):
    return client.post("/api/v1/faces/identify", {"image": jpeg_file(pixels)}, format="multipart")


def verify(client, **fields):
    return client.post("/api/v1/faces/verify", fields, format="multipart")


# --- the pool ------------------------------------------------------------------------------------------------


def test_jobs_run_in_another_process():
    assert inference.run(os.getpid) != os.getpid()


def test_the_workers_yield_the_cpu_to_requests(settings):
    assert inference.run(os.nice, 0) == min(19, os.nice(0) + settings.ARGUS_INFERENCE_NICENESS)


def test_zero_processes_runs_jobs_in_the_callers_process(settings):
    settings.ARGUS_INFERENCE_PROCESSES = 0

    assert inference.run(os.getpid) == os.getpid()


def test_in_process_runs_jobs_here_for_the_block_only():
    with inference.in_process():
        assert inference.run(os.getpid) == os.getpid()

    assert inference.run(os.getpid) != os.getpid()


def test_what_a_job_raises_is_raised_to_the_caller():
    with pytest.raises(FileNotFoundError):
        inference.run(os.stat, "/nonexistent/argus/inference")


def test_a_worker_that_dies_is_a_503_and_its_pool_is_replaced():
    before = inference.run(os.getpid)

    with pytest.raises(ApiError) as raised:
        inference.run(os._exit, 3)

    assert raised.value.status_for(Contract.SPA) == 503
    after = inference.run(os.getpid)
    assert after != before and after != os.getpid()


# --- the endpoints -------------------------------------------------------------------------------------------


def test_enrolment_runs_its_inference_in_a_worker(admin_client, astronaut, no_engine_in_this_process):
    response = enrol(admin_client, "EMP-200", "Eileen Collins", [jpeg_file(astronaut)])

    assert response.status_code == 201, response.content
    assert FaceProfile.objects.get(employee_id="EMP-200").embeddings.count() == 1


def test_enrolment_refusals_are_unchanged(admin_client, no_face_image, no_engine_in_this_process):
    response = enrol(admin_client, "EMP-201", "Nobody", [jpeg_file(no_face_image, "empty.jpg")])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NO_FACE_DETECTED"


def test_identify_runs_its_inference_in_a_worker(admin_client, astronaut, no_engine_in_this_process):
    assert enrol(admin_client, "EMP-202", "Eileen Collins", [jpeg_file(astronaut)]).status_code == 201

    response = identify(admin_client, astronaut)

    assert response.status_code == 200, response.content
    [face] = response.json()["data"]["faces"]
    assert face["status"] == "recognized" and face["matches"][0]["employeeId"] == "EMP-202"
    assert face["quality"]["metrics"]


def test_verify_runs_its_inference_in_a_worker(admin_client, astronaut, no_engine_in_this_process):
    response = verify(admin_client, image1=jpeg_file(astronaut), image2=jpeg_file(astronaut[:, ::-1]))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["verified"] is True


def test_verify_still_names_the_image_without_a_face(admin_client, astronaut, no_face_image, no_engine_in_this_process):
    response = verify(admin_client, image1=jpeg_file(no_face_image), image2=jpeg_file(astronaut))

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "image1"


def test_verify_against_a_profile_runs_its_inference_in_a_worker(admin_client, astronaut, no_engine_in_this_process):
    assert enrol(admin_client, "EMP-203", "Eileen Collins", [jpeg_file(astronaut)]).status_code == 201

    response = verify(admin_client, image1=jpeg_file(astronaut[:, ::-1]), employeeId="EMP-203")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["verified"] is True


def test_an_inference_timeout_is_a_503_in_the_spa_format(admin_client, astronaut, settings):
    settings.ARGUS_INFERENCE_TIMEOUT = 0.001

    response = identify(admin_client, astronaut)

    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "SVC_001"
    assert "did not finish within 0.001 s" in body["error"]["message"]
    assert response["Retry-After"] == str(inference.RETRY_AFTER_SECONDS)


def test_the_dashboard_shows_an_inference_timeout_on_the_form(admin_user, client, astronaut, settings):
    settings.ARGUS_INFERENCE_TIMEOUT = 0.001
    client.force_login(admin_user)

    response = client.post(
        "/recognition/faces/", {"employee_id": "EMP-204", "name": "Eileen Collins", "images": [jpeg_file(astronaut)]}
    )

    assert response.status_code == 200
    assert "did not finish within 0.001 s" in response.content.decode()
    assert not FaceProfile.objects.filter(employee_id="EMP-204").exists()
