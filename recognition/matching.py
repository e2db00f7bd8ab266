"""Matching embeddings: 1:N identification over every enrolled embedding (pgvector HNSW) and 1:1 verification.

Distances are cosine distances (deepface's convention, pgvector's ``<=>``); ``similarity = 1 - distance``.
Two faces are the same person when their distance is at most the model's threshold.

How the Dlib default threshold (0.08, similarity 0.92) was chosen
------------------------------------------------------------------
Every face of the shared photographs (``../shared/data/faces``: 11 photos, 16 faces, plus skimage's
astronaut) was embedded with this engine (640-pixel detection, full-resolution aligned crop) and every
pair compared. People: img1, img2, img4 and the woman in couple.jpg and selfie-many-people.jpg are one
person, the man of couple.jpg and the selfie another; img13/img14 and img16/img17 are pairs; img26,
img30, the other selfie faces and the astronaut are distinct.

* 13 same-person pairs: cosine distance 0.030 - 0.074 (the hardest: couple.jpg's three-quarter profile
  against the frontal portraits, 0.062 - 0.074).
* 107 different-person pairs: 0.095 and up (the closest: astronaut / img13 0.095, couple / img26 0.099).

The default sits inside that gap, 0.08: nearer the same-person side, because accepting someone else
(a false attendance) costs more than asking a person to look at the camera again. deepface's own
Dlib figure (0.07) would refuse the three profile pairs. ``calibrate`` below recomputes the gap and
tests/recognition/test_matching.py checks on every run that the default still separates it.
``ARGUS_FACE_MATCH_THRESHOLD`` overrides it per site.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from recognition.choices import ProfileStatus
from recognition.engine import FaceEngine, check_dimension, cosine_distance, get_engine
from recognition.models import FaceEmbedding, FaceProfile

# HNSW candidate list size for a search (pgvector's default is 40): higher finds the exact nearest
# neighbours more often (bench/face_match.py measures recall@1 at 40 and 100). Below about 4,000 enrolled
# embeddings PostgreSQL prices an exact scan cheaper than the index at this setting and uses it instead:
# exact and fast at that size.
EF_SEARCH = 100


@dataclass(frozen=True)
class Match:
    profile: FaceProfile
    distance: float

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance


@dataclass(frozen=True)
class Verification:
    verified: bool
    distance: float
    threshold: float
    model: str

    @property
    def similarity(self) -> float:
        return 1.0 - self.distance

    def as_api(self) -> dict:
        return {
            "verified": self.verified,
            "similarity": round(self.similarity, 4),
            "distance": round(self.distance, 4),
            "threshold": round(self.threshold, 4),
            "model": self.model,
        }


def nearest_sql(dimension: int) -> str:
    """The k-nearest query for a model's embeddings; parameters: query vector (twice), model, k.

    The cast to ``vector(dimension)`` and the ``model`` condition repeat those of the model's partial
    HNSW index word for word, which is what lets PostgreSQL use it.
    """
    cast = f"vector({int(dimension)})"
    return (
        f"SELECT profile_id, (embedding::{cast}) <=> %s::{cast} AS distance "
        f"FROM {FaceEmbedding._meta.db_table} WHERE model = %s "
        f"ORDER BY (embedding::{cast}) <=> %s::{cast} LIMIT %s"
    )


def vector_literal(embedding: np.ndarray) -> str:
    return "[" + ",".join(repr(float(value)) for value in embedding) + "]"


def nearest_embeddings(
    embedding: np.ndarray, *, model: str, dimension: int, candidates: int, ef_search: int = EF_SEARCH
) -> list[tuple[str, float]]:
    """(profile id, cosine distance) of the ``candidates`` nearest enrolled embeddings, nearest first."""
    literal = vector_literal(embedding)
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL: for this transaction only. ef_search below the LIMIT would cap the result size.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {max(int(ef_search), int(candidates))}")
        cursor.execute(nearest_sql(dimension), [literal, model, literal, candidates])
        return [(str(profile_id), float(distance)) for profile_id, distance in cursor.fetchall()]


def identify(embedding: Sequence[float] | np.ndarray, limit: int = 5, engine: FaceEngine | None = None) -> list[Match]:
    """The enrolled people nearest to ``embedding``, best first, one entry per person (their nearest
    image), at most ``limit``. Archived profiles are left out. Whether a match is good enough is the
    caller's question (:func:`is_match`)."""
    engine = engine or get_engine()
    vector = check_dimension(embedding, engine.dimension)
    # A person has several images, so more embeddings than people are fetched to fill ``limit`` people.
    rows = nearest_embeddings(vector, model=engine.model_name, dimension=engine.dimension, candidates=limit * 8)
    best: dict[str, float] = {}
    for profile_id, distance in rows:
        best.setdefault(profile_id, distance)  # rows come nearest first
    wanted = FaceProfile.objects.exclude(status=ProfileStatus.ARCHIVED).filter(pk__in=list(best))
    profiles = {str(profile.pk): profile for profile in wanted}
    matches = [Match(profiles[pk], distance) for pk, distance in best.items() if pk in profiles]
    return matches[:limit]


def is_match(distance: float, engine: FaceEngine | None = None) -> bool:
    return distance <= (engine or get_engine()).threshold


def verify(
    a: Iterable[np.ndarray] | np.ndarray, b: Iterable[np.ndarray] | np.ndarray, engine: FaceEngine | None = None
) -> Verification:
    """Whether two faces (or the closest pair of two sets of faces) are the same person."""
    engine = engine or get_engine()
    left = [check_dimension(v, engine.dimension) for v in _as_list(a)]
    right = [check_dimension(v, engine.dimension) for v in _as_list(b)]
    if not left or not right:
        raise ValueError("verify needs at least one embedding on each side")
    distance = min(cosine_distance(x, y) for x, y in itertools.product(left, right))
    return Verification(
        verified=distance <= engine.threshold, distance=distance, threshold=engine.threshold, model=engine.model_name
    )


def _as_list(value: Iterable[np.ndarray] | np.ndarray) -> list[np.ndarray]:
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return [value]
    return list(value)


@dataclass(frozen=True)
class Calibration:
    same: list[float]
    different: list[float]

    @property
    def gap(self) -> tuple[float, float]:
        """(largest same-person distance, smallest different-person distance)."""
        return max(self.same), min(self.different)

    @property
    def midpoint(self) -> float:
        low, high = self.gap
        return (low + high) / 2

    def separates(self, threshold: float) -> bool:
        low, high = self.gap
        return low <= threshold < high


def calibrate(labelled: Iterable[tuple[str, np.ndarray]]) -> Calibration:
    """Distances of every same-person and different-person pair of (person label, embedding)."""
    same: list[float] = []
    different: list[float] = []
    for (label_a, a), (label_b, b) in itertools.combinations(list(labelled), 2):
        (same if label_a == label_b else different).append(cosine_distance(a, b))
    return Calibration(sorted(same), sorted(different))
