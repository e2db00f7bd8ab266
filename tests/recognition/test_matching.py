"""Matching: pgvector HNSW search (the index is used), best image per person, archived people left out,
verification, and the calibrated threshold on the shared photographs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.db import connection, transaction

from config.api.contracts import ApiError
from recognition.matching import (
    EF_SEARCH,
    TARGET_FALSE_ACCEPT_RATE,
    Calibration,
    calibrate,
    identify,
    nearest_sql,
    shared_photo_faces,
    vector_literal,
    verify,
)
from recognition.models import FaceEmbedding, FaceImage, FaceProfile
from tests.conftest import SHARED_DATA
from tests.factories import FaceImageFactory, FaceProfileFactory

RNG = np.random.default_rng(7)


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def gallery(people: int, images_each: int = 1, model: str = "Dlib", dimension: int = 128, status: str = "active"):
    """``people`` profiles with random unit embeddings; returns {profile: [vectors]}."""
    result: dict[FaceProfile, list[np.ndarray]] = {}
    # Built and bulk-created: thousands of rows one INSERT at a time would dominate the run.
    profiles = FaceProfile.objects.bulk_create(
        [
            FaceProfileFactory.build(employee_id=f"G-{model}-{status}-{i}", name=f"Person {i}", status=status)
            for i in range(people)
        ]
    )
    images, embeddings = [], []
    for profile in profiles:
        result[profile] = []
        for _ in range(images_each):
            image = FaceImageFactory.build(profile=profile)
            vector = unit(RNG.normal(size=dimension))
            images.append(image)
            embeddings.append(
                FaceEmbedding(image=image, profile=profile, model=model, dimension=dimension, embedding=vector.tolist())
            )
            result[profile].append(vector)
    FaceImage.objects.bulk_create(images)
    FaceEmbedding.objects.bulk_create(embeddings)
    return result


def explain(
    vector: np.ndarray, model: str = "Dlib", dimension: int = 128, settings: tuple[str, ...] = (), limit: int = 40
) -> str:
    """The plan of the search query, with the vector literal cut out for readable failures."""
    literal = vector_literal(vector)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE recognition_faceembedding")
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute("EXPLAIN " + nearest_sql(dimension), [literal, model, literal, limit])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return re.sub(r"'\[[^\]]*\]'", "'[...]'", plan)


def test_identify_search_uses_the_models_hnsw_index(db):
    gallery(5000)

    # As identify() runs it: ef_search 100 and 3 people x 8 candidates. (Under about 4,000 embeddings
    # PostgreSQL rightly prefers an exact scan at this ef_search: it costs less than the index then.)
    plan = explain(unit(RNG.normal(size=128)), settings=(f"hnsw.ef_search = {EF_SEARCH}",), limit=24)

    assert "face_emb_dlib_hnsw" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_a_512_dimension_model_has_its_own_index(db):
    gallery(300, model="ArcFace", dimension=512)

    # 512-value vectors live out of line (TOAST), so the planner prices a scan of a small table low. With
    # sorting off, only an index that yields rows in distance order avoids the penalty: this shows that
    # the ArcFace index fits the query.
    plan = explain(unit(RNG.normal(size=512)), model="ArcFace", dimension=512, settings=("enable_sort = off",))

    assert "face_emb_arcface_hnsw" in plan, plan


def test_identify_finds_the_person_of_a_near_embedding(db, engine):
    people = gallery(300)
    target, vectors = list(people.items())[123]
    query = unit(vectors[0] + 0.02 * RNG.normal(size=128))

    matches = identify(query, limit=3, engine=engine)

    assert matches[0].profile == target
    assert matches[0].similarity > 0.9
    assert len(matches) == 3 and matches[0].distance <= matches[1].distance <= matches[2].distance


def test_identify_answers_one_entry_per_person_with_their_nearest_image(db, engine):
    people = gallery(50, images_each=4)
    target, vectors = next(iter(people.items()))

    matches = identify(vectors[2], limit=5, engine=engine)

    assert len({match.profile.pk for match in matches}) == len(matches) == 5
    assert matches[0].profile == target and matches[0].distance == pytest.approx(0.0, abs=1e-5)


def test_identify_leaves_archived_people_out(db, engine):
    archived = gallery(1, status="archived")
    vector = next(iter(archived.values()))[0]
    gallery(20)

    assert all(match.profile.status != "archived" for match in identify(vector, limit=5, engine=engine))


def _near(vector: np.ndarray, spread: float) -> np.ndarray:
    return unit(vector + spread * RNG.normal(size=vector.shape[0]) / np.sqrt(vector.shape[0]))


def test_identify_finds_the_live_person_behind_many_nearer_archived_embeddings(db, engine):
    """More archived embeddings nearer the face than the search's candidates (3 people x 8) and than the
    index's ef_search (100): the live person behind them is still found, by the index (the table is too small
    for the planner to choose it unasked) as by an exact scan."""
    face = unit(RNG.normal(size=128))
    archived = FaceProfile.objects.bulk_create(
        [FaceProfileFactory.build(employee_id=f"ARCH-{i}", status="archived") for i in range(150)]
    )
    images = FaceImage.objects.bulk_create([FaceImageFactory.build(profile=profile) for profile in archived])
    FaceEmbedding.objects.bulk_create(
        FaceEmbedding(image=image, profile=image.profile, model="Dlib", dimension=128, embedding=_near(face, 0.05))
        for image in images
    )
    live = FaceProfileFactory(status="active")
    image = FaceImageFactory(profile=live)
    FaceEmbedding.objects.create(image=image, profile=live, model="Dlib", dimension=128, embedding=_near(face, 0.25))
    gallery(200)  # and people further away

    exact = identify(face, limit=3, engine=engine)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test's transaction: identify runs inside it
        cursor.execute("SET LOCAL enable_sort = off")
        by_index = identify(face, limit=3, engine=engine)

    for matches in (exact, by_index):
        assert matches and matches[0].profile == live, [m.profile.employee_id for m in matches]
        assert all(match.profile.status != "archived" for match in matches)


def test_the_search_leaving_archived_people_out_still_uses_the_hnsw_index(db):
    gallery(5000)
    gallery(50, status="archived")

    plan = explain(unit(RNG.normal(size=128)), settings=(f"hnsw.ef_search = {EF_SEARCH}",), limit=24)

    assert "face_emb_dlib_hnsw" in plan and "Seq Scan on recognition_faceembedding" not in plan, plan


def test_identify_leaves_other_models_embeddings_out(db, engine):
    gallery(5, model="Facenet512", dimension=512)

    assert identify(unit(RNG.normal(size=128)), engine=engine) == []


def test_identify_refuses_an_embedding_of_another_dimension(db, engine):
    with pytest.raises(ApiError) as caught:
        identify(unit(RNG.normal(size=512)), engine=engine)

    assert caught.value.code == "INVALID_EMBEDDING_DIMENSION" and "expects 128" in caught.value.text()


def test_verify_accepts_the_same_face(engine):
    vector = unit(RNG.normal(size=128))

    result = verify(vector, unit(vector + 0.01 * RNG.normal(size=128)), engine=engine)

    assert result.verified is True and result.similarity > 0.99 and result.model == "Dlib"


def test_verify_refuses_unrelated_faces(engine):
    result = verify(unit(RNG.normal(size=128)), unit(RNG.normal(size=128)), engine=engine)

    assert result.verified is False and result.distance > result.threshold


def test_verify_refuses_an_embedding_of_another_dimension(engine):
    with pytest.raises(ApiError) as caught:
        verify(unit(RNG.normal(size=128)), unit(RNG.normal(size=64)), engine=engine)

    assert caught.value.code == "INVALID_EMBEDDING_DIMENSION"


@pytest.fixture(scope="module")
def shared_calibration(engine) -> Calibration:
    """Every pair of the shared photographs' faces (recognition.matching.SHARED_PHOTO_PEOPLE), embedded once."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (a clone without ../shared); CI always has it")
    return calibrate(shared_photo_faces(engine, SHARED_DATA / "faces"))


def test_default_threshold_accepts_no_impostor_pair_of_the_shared_photos(engine, shared_calibration):
    calibration = shared_calibration

    point = calibration.at(engine.threshold)
    assert (point.genuine_pairs, point.impostor_pairs) == (13, 107)
    assert point.false_accepts == 0, calibration.different[:3]
    assert min(calibration.different) - engine.threshold > 0.02  # the nearest stranger is well outside


def test_default_threshold_misses_only_the_profile_pairs_of_the_shared_photos(engine, shared_calibration):
    calibration = shared_calibration

    # couple.jpg's three-quarter profile against frontal portraits of the same woman (0.073, 0.074); every
    # frontal pair is within the threshold.
    missed = [distance for distance in calibration.same if distance > engine.threshold]
    assert len(missed) <= 2 and all(distance < 0.08 for distance in missed), calibration.same


def test_the_figures_of_a_threshold_count_the_pairs_on_each_side():
    calibration = calibrate(
        [("a", unit(np.array([1.0, 0.0]))), ("a", unit(np.array([1.0, 0.2]))), ("b", unit(np.array([1.0, 0.5])))]
    )

    strict, loose = calibration.at(0.001), calibration.at(0.2)

    assert (strict.false_accepts, strict.false_rejects, strict.accuracy) == (0, 1, pytest.approx(2 / 3))
    assert (loose.false_accepts, loose.false_rejects, loose.far) == (2, 0, 1.0)


def test_no_false_accept_in_few_pairs_bounds_the_rate_at_about_three_over_their_number():
    calibration = Calibration(same=[0.01], different=[0.5] * 107)

    assert calibration.at(0.07).far_upper_bound == pytest.approx(3 / 107, rel=0.05)
    assert calibration.at(0.07).far_upper_bound > TARGET_FALSE_ACCEPT_RATE
