"""Matching embeddings: 1:N identification over every enrolled embedding (pgvector HNSW) and 1:1 verification.

Distances are cosine distances (deepface's convention, pgvector's ``<=>``); ``similarity = 1 - distance``.
Two faces are the same person when their distance is at most the model's threshold.

How each model's default threshold is chosen
--------------------------------------------
The target: at most one false accept in 1,000 impostor pairs (:data:`TARGET_FALSE_ACCEPT_RATE`), because
accepting someone else (a false attendance, a door opened) costs more than asking a person to look at the
camera again. Each model starts from deepface's published cosine threshold (``deepface/config/threshold.py``:
Dlib 0.07, ArcFace 0.68, Facenet512 0.30), which is then checked on the shared photographs with this engine
(640-pixel detection, full-resolution aligned crop); ``bench/verify.py`` prints the check.

The shared photographs (``../shared/data/faces``: 11 photos, 15 faces, plus skimage's astronaut: 16 faces of
9 people; :data:`SHARED_PHOTO_PEOPLE`): img1, img2, img4 and the woman in couple.jpg and
selfie-many-people.jpg are one person, the man of couple.jpg and the selfie another; img13/img14 and
img16/img17 are pairs; img26, img30, the other two selfie faces and the astronaut are distinct. They allow
120 pairs: 13 same-person (genuine), 107 different-person (impostor).

Dlib, 0.07 (similarity 0.93), deepface's figure:

* genuine distances 0.030 - 0.074; impostor 0.095 and up (the closest: astronaut / img13 0.095, couple /
  img26 0.099).
* at 0.07: 0 of 107 impostor pairs accepted, 2 of 13 genuine pairs missed (couple.jpg's three-quarter
  profile against two frontal portraits, 0.073 and 0.074): accuracy 0.983.
* What that proves: 0 false accepts in 107 pairs bounds the false accept rate at 2.8% (95%, exact binomial),
  not 0.1%: showing 1 in 1,000 takes about 3,000 impostor pairs with none accepted, which these photographs
  do not have. The 1-in-1,000 rests on deepface's published figure; the shared photographs only show it
  refuses none of their own people's frontal pairs and accepts no stranger.
* The previous default, 0.08 (the middle of the gap on these photographs), accepted different people at
  0.074 - 0.077 on photographs not enrolled here (issue 20): it was fitted to the 107 impostor pairs it was
  checked on. 0.07 refuses those pairs; it misses the profile pairs above, which a second, more frontal
  shot of a camera track recovers.

ArcFace and Facenet512 keep deepface's figures unchecked: their weights do not ship here.

One threshold for everything: identify, verify, the detections pipeline and the face service read
:attr:`FaceEngine.threshold <recognition.engine.FaceEngine.threshold>` (the model's default, or
``ARGUS_FACE_MATCH_THRESHOLD`` for a site). A camera may set its own (``Camera.match_threshold``, for a
doorway with hard light), which the pipeline uses for that camera's faces (:func:`threshold_for`); the face
service never matches below the model's threshold while ``FACE_SERVICE_ENFORCE_MODEL_THRESHOLD`` is on (its
sessions' ``similarityThreshold`` can only be stricter). ``recognition.thresholds`` shows a site what a
threshold trades on its own enrolled faces. tests/recognition/test_matching.py checks on every run that the
default accepts no impostor pair of the shared photographs.

Negative feedback: an operator's rejection of a detection (:class:`~recognition.models.MatchRejection`) keeps
the rejected face's embedding; :func:`identify` then refuses that profile for any face within
:data:`REJECTION_RADIUS` (a share of the threshold) of one of its rejected embeddings and nearer to it than to
the profile's own images, so the next candidate (or nobody) stands.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction

from recognition.choices import ProfileStatus
from recognition.engine import FaceEngine, check_dimension, cosine_distance, get_engine
from recognition.models import FaceEmbedding, FaceProfile, MatchRejection

# HNSW candidate list size for a search (pgvector's default is 40): higher finds the exact nearest
# neighbours more often (bench/face_match.py measures recall@1 at 40 and 100). Below about 4,000 enrolled
# embeddings PostgreSQL prices an exact scan cheaper than the index at this setting and uses it instead:
# exact and fast at that size.
EF_SEARCH = 100

# A rejected face refuses its profile for faces within this share of the model's threshold of it (the model's
# own "same person" distance: Dlib 0.07), and only when they are nearer the rejected face than the profile's
# own nearest image (see :func:`rejected_profiles`).
REJECTION_RADIUS = 1.0


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
    """The k-nearest query for a model's embeddings of people not archived; parameters: query vector (twice),
    model, k.

    The cast to ``vector(dimension)`` and the ``model`` condition repeat those of the model's partial
    HNSW index word for word, which is what lets PostgreSQL use it. Archived people are left out here, in the
    query, not after it: the nearest k embeddings could all be theirs (an archived person with many images, a
    department archived at once), and a live person behind them would be missed. The archived profiles' ids
    are a hashed set the index scan's rows are checked against (the plan stays an index scan in distance order).
    """
    cast = f"vector({int(dimension)})"
    return (
        f"SELECT profile_id, (embedding::{cast}) <=> %s::{cast} AS distance "
        f"FROM {FaceEmbedding._meta.db_table} WHERE model = %s AND profile_id NOT IN "
        f"(SELECT id FROM {FaceProfile._meta.db_table} WHERE status = '{ProfileStatus.ARCHIVED}') "
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
        # The index hands back its ef_search nearest entries and only then are archived people's rows dropped:
        # with more of theirs than that nearer the face, nothing would be left. An iterative scan (pgvector
        # 0.8) goes on until k rows pass, in exact distance order (as recognition.unknowns does for clusters).
        cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        cursor.execute(nearest_sql(dimension), [literal, model, literal, candidates])
        return [(str(profile_id), float(distance)) for profile_id, distance in cursor.fetchall()]


def identify(embedding: Sequence[float] | np.ndarray, limit: int = 5, engine: FaceEngine | None = None) -> list[Match]:
    """The enrolled people nearest to ``embedding``, best first, one entry per person (their nearest
    image), at most ``limit``. Archived profiles are left out, and so is a person an operator said this
    face is not (:func:`rejected_profiles`). Whether a match is good enough is the caller's question
    (:func:`is_match`)."""
    engine = engine or get_engine()
    vector = check_dimension(embedding, engine.dimension)
    # A person has several images, so more embeddings than people are fetched to fill ``limit`` people.
    rows = nearest_embeddings(vector, model=engine.model_name, dimension=engine.dimension, candidates=limit * 8)
    best: dict[str, float] = {}
    for profile_id, distance in rows:
        best.setdefault(profile_id, distance)  # rows come nearest first
    for refused in rejected_profiles(vector, best, engine):
        del best[refused]
    wanted = FaceProfile.objects.exclude(status=ProfileStatus.ARCHIVED).filter(pk__in=list(best))
    profiles = {str(profile.pk): profile for profile in wanted}
    matches = [Match(profiles[pk], distance) for pk, distance in best.items() if pk in profiles]
    return matches[:limit]


def rejected_profiles(vector: np.ndarray, nearest: dict[str, float], engine: FaceEngine) -> set[str]:
    """The profiles among ``nearest`` ({profile id: distance to their nearest image}) refused for this face:
    an operator rejected, for that profile, a face within :data:`REJECTION_RADIUS` of it that is also
    nearer to it than the profile's own nearest image. The second condition keeps the true person: their
    faces are nearer their own images than the stranger's rejected face (the pair was confused because the
    two were close, so the radius alone would catch them too)."""
    if not nearest:
        return set()
    cast = f"vector({int(engine.dimension)})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT profile_id::text, MIN((embedding::{cast}) <=> %s::{cast}) FROM {MatchRejection._meta.db_table} "
            "WHERE model = %s AND profile_id = ANY(%s::uuid[]) GROUP BY profile_id",
            [vector_literal(vector), engine.model_name, list(nearest)],
        )
        rejected = dict(cursor.fetchall())
    radius = REJECTION_RADIUS * engine.threshold
    return {
        profile_id for profile_id, distance in rejected.items() if distance <= radius and distance < nearest[profile_id]
    }


def is_match(distance: float, engine: FaceEngine | None = None, threshold: float | None = None) -> bool:
    return distance <= (threshold if threshold is not None else (engine or get_engine()).threshold)


def threshold_for(camera: Any | None, engine: FaceEngine | None = None) -> float:
    """The match threshold for faces seen by ``camera``: its own ``match_threshold`` when set, else the
    model's (:attr:`FaceEngine.threshold`, the one identify and verify use)."""
    own = getattr(camera, "match_threshold", None)
    return float(own) if own is not None else (engine or get_engine()).threshold


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


# The people of the shared photographs (``../shared/data/faces``): per photo, the label of each face in
# detection order (largest first), or None for a face that is nobody else's. The module docstring tells who is who.
SHARED_PHOTO_PEOPLE: dict[str, list[str | None]] = {
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

# The false accept rate the default thresholds are chosen for: at most one impostor pair in a thousand.
TARGET_FALSE_ACCEPT_RATE = 0.001


@dataclass(frozen=True)
class Operating:
    """What a threshold does on a calibration set: impostor pairs accepted, genuine pairs missed."""

    threshold: float
    false_accepts: int
    impostor_pairs: int
    false_rejects: int
    genuine_pairs: int

    @property
    def far(self) -> float:
        return self.false_accepts / self.impostor_pairs if self.impostor_pairs else 0.0

    @property
    def frr(self) -> float:
        return self.false_rejects / self.genuine_pairs if self.genuine_pairs else 0.0

    @property
    def accuracy(self) -> float:
        pairs = self.impostor_pairs + self.genuine_pairs
        return (pairs - self.false_accepts - self.false_rejects) / pairs if pairs else 0.0

    @property
    def far_upper_bound(self) -> float:
        """The 95% upper confidence bound of the false accept rate these pairs allow (exact binomial):
        with no false accept among n impostor pairs it is about 3/n, so proving 1 in 1,000 takes some 3,000
        impostor pairs with none accepted."""
        return binomial_upper_bound(self.false_accepts, self.impostor_pairs)


def binomial_upper_bound(successes: int, trials: int, confidence: float = 0.95) -> float:
    """The one-sided Clopper-Pearson upper bound of a rate observed as ``successes`` out of ``trials``."""
    if trials <= 0:
        return 1.0
    if successes >= trials:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, successes + 1, trials - successes))


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

    def at(self, threshold: float) -> Operating:
        """Impostor pairs accepted (distance at most ``threshold``) and genuine pairs missed (above it)."""
        return Operating(
            threshold=threshold,
            false_accepts=sum(1 for d in self.different if d <= threshold),
            impostor_pairs=len(self.different),
            false_rejects=sum(1 for d in self.same if d > threshold),
            genuine_pairs=len(self.same),
        )


def shared_photo_faces(engine: FaceEngine, folder: Path) -> list[tuple[str, np.ndarray]]:
    """(person label, embedding) of every face of the shared photographs in ``folder`` and of skimage's
    astronaut, labelled as :data:`SHARED_PHOTO_PEOPLE` says (a face of nobody else gets a label of its own)."""
    import cv2
    from skimage import data

    labelled = []
    for photo, labels in SHARED_PHOTO_PEOPLE.items():
        image = cv2.imread(str(folder / f"{photo}.jpg"))
        if image is None:
            raise FileNotFoundError(folder / f"{photo}.jpg")
        faces = engine.detect(image)
        if len(faces) != len(labels):
            raise ValueError(f"{photo}: {len(faces)} faces found, {len(labels)} labelled")
        for index, (face, label) in enumerate(zip(faces, labels, strict=True)):
            labelled.append((label or f"{photo}#{index}", engine.embed(image, face)))
    astronaut = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    labelled.append(("astronaut", engine.embed(astronaut, engine.detect(astronaut)[0])))
    return labelled


def calibrate(labelled: Iterable[tuple[str, np.ndarray]]) -> Calibration:
    """Distances of every same-person and different-person pair of (person label, embedding)."""
    same: list[float] = []
    different: list[float] = []
    for (label_a, a), (label_b, b) in itertools.combinations(list(labelled), 2):
        (same if label_a == label_b else different).append(cosine_distance(a, b))
    return Calibration(sorted(same), sorted(different))
