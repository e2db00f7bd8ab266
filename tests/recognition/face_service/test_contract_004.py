"""004's Java caller: embeddings are 512 numbers whatever the face model makes (a fixed isometric lift, cosine
similarities unchanged, and its inverse for vectors sent back), and a key without the ``face-service`` scope
is 004's 401 ``INVALID_API_KEY``."""

from __future__ import annotations

import numpy as np
import pytest
from rest_framework.test import APIClient

from recognition.engine import cosine_distance
from recognition.face_service.lift import SPEC_DIMENSION, NotLifted, lift, lower
from tests.factories import ApiKeyFactory

RNG = np.random.default_rng(2024)


def test_the_lift_speaks_512_dimensions():
    assert lift(RNG.normal(size=128)).shape == (SPEC_DIMENSION,)


def test_the_lift_keeps_cosine_similarities():
    a, b = RNG.normal(size=128), RNG.normal(size=128)

    assert cosine_distance(lift(a), lift(b)) == pytest.approx(cosine_distance(a, b), abs=1e-6)


def test_the_lift_keeps_lengths():
    a = RNG.normal(size=128)

    assert np.linalg.norm(lift(a)) == pytest.approx(np.linalg.norm(a), rel=1e-6)


def test_lowering_undoes_the_lift_through_json_rounding():
    a = RNG.normal(size=128).astype(np.float32)
    sent_back = [round(float(value), 8) for value in lift(a)]

    assert np.allclose(lower(sent_back, 128), a, atol=1e-6)


def test_a_512_model_lifts_by_the_identity():
    a = RNG.normal(size=512).astype(np.float32)

    assert np.array_equal(lift(a), a)
    assert np.array_equal(lower(a, 512), a)


@pytest.mark.parametrize("vector", [[0.1] * 128, [0.1] * 513, ["x"] * 512, [float("nan")] * 512])
def test_lowering_refuses_what_is_not_512_numbers(vector):
    with pytest.raises(NotLifted, match="exactly 512 dimensions"):
        lower(vector, 128)


def test_lowering_refuses_a_512_vector_not_from_the_lift():
    with pytest.raises(NotLifted, match="was not made here"):
        lower(RNG.normal(size=512), 128)


@pytest.mark.django_db
def test_a_key_without_the_face_service_scope_is_401_invalid_api_key():
    key = ApiKeyFactory(scopes=["anpr:ingest"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key.raw)

    response = client.get("/face-service/api/v1/metrics")

    assert response.status_code == 401
    body = response.json()
    assert (body["status"], body["code"]) == (401, "INVALID_API_KEY")
    assert response["X-Error-Code"] == "INVALID_API_KEY"
