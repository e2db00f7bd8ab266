"""Matching: pgvector HNSW search (the index is used), best image per person, archived people left out,
verification, and the calibrated threshold on the shared photographs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from django.db import connection, transaction

from config.api.contracts import ApiError
from recognition.matching import EF_SEARCH, calibrate, identify, nearest_sql, vector_literal, verify
from recognition.models import FaceEmbedding, FaceImage, FaceProfile
from tests.factories import FaceImageFactory, FaceProfileFactory
from tests.recognition.conftest import read_photo

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


# The people of the shared photographs (recognition/matching.py explains the labels): per photo, the
# label of each face in detection order (largest first), or None for a face that is nobody else.
SHARED_PEOPLE = {
    "img1": ["A"],
    "img2": ["A"],
    "img4": ["A"],
    "img13": ["B"],
    "img14": ["B"],
    "img16": ["C"],
    "img17": ["C"],
    "img26": ["D"],
    "img30": ["E"],
    "couple": ["P", "A"],
    "selfie-many-people": ["P", "A", None, None],
}


def test_default_threshold_separates_same_and_different_people_of_the_shared_photos(engine, shared_data, astronaut):
    labelled = []
    for photo, labels in SHARED_PEOPLE.items():
        image = read_photo(shared_data / "faces" / f"{photo}.jpg")
        faces = engine.detect(image)
        assert len(faces) == len(labels), photo
        for index, (face, label) in enumerate(zip(faces, labels, strict=True)):
            labelled.append((label or f"{photo}#{index}", engine.embed(image, face)))
    labelled.append(("astronaut", engine.embed(astronaut, engine.detect(astronaut)[0])))

    calibration = calibrate(labelled)

    assert len(calibration.same) == 13 and len(calibration.different) == 107
    assert calibration.separates(engine.threshold), calibration.gap
    low, high = calibration.gap
    assert engine.threshold - low > 0.003 and high - engine.threshold > 0.01  # a margin on both sides
