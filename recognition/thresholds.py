"""What a match threshold trades on the site's own enrolled faces (the recognition dashboard's threshold page).

Every pair of enrolled embeddings of the configured model is a *genuine* pair (two images of one person) or
an *impostor* pair (two people). At a threshold, an impostor pair within it is a false accept and a genuine
pair beyond it a miss: :class:`recognition.matching.Operating` counts both, at the model's threshold, at the
cameras' own thresholds and at a few candidates around them. The distances are shown as two histograms.
Enrolment photos are better than camera frames (frontal, lit), so misses here are a floor of what cameras
will miss; false accepts are what a threshold lets through between people the site knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cameras.models import Camera
from recognition.choices import ProfileStatus
from recognition.engine import FaceEngine, get_engine
from recognition.matching import Calibration, Operating, binomial_upper_bound
from recognition.models import FaceEmbedding

# Embeddings beyond this are sampled (the newest kept), so the page stays a matrix of at most 4M distances.
MAX_EMBEDDINGS = 2000
# Candidates shown beside the model's threshold: these shares of it.
CANDIDATE_SHARES = (0.7, 0.85, 1.15, 1.3)
HISTOGRAM_BINS = 24


@dataclass(frozen=True)
class ThresholdPoint:
    label: str
    operating: Operating

    @property
    def far_upper_bound(self) -> float:
        return binomial_upper_bound(self.operating.false_accepts, self.operating.impostor_pairs)


@dataclass(frozen=True)
class Tradeoff:
    model: str
    threshold: float
    people: int
    embeddings: int
    sampled: bool
    calibration: Calibration
    points: list[ThresholdPoint]
    histogram: list[dict]  # per bin: low, high, genuine, impostor (counts), and their share of the largest bin


def enrolled_tradeoff(engine: FaceEngine | None = None) -> Tradeoff:
    """Genuine and impostor distances over the enrolled faces and what each threshold does with them."""
    engine = engine or get_engine()
    rows = list(
        FaceEmbedding.objects.filter(model=engine.model_name)
        .exclude(profile__status=ProfileStatus.ARCHIVED)
        .order_by("-created_at")
        .values_list("profile_id", "embedding")[: MAX_EMBEDDINGS + 1]
    )
    sampled = len(rows) > MAX_EMBEDDINGS
    rows = rows[:MAX_EMBEDDINGS]
    labels = np.array([str(profile_id) for profile_id, _ in rows])
    vectors = np.array([np.asarray(v, dtype=np.float32) for _, v in rows]).reshape(len(rows), engine.dimension)
    calibration = _pairs(labels, vectors)
    site_set = engine.threshold != engine.spec.threshold  # ARGUS_FACE_MATCH_THRESHOLD
    thresholds = {engine.threshold: "site setting" if site_set else "model default"}
    if site_set:
        thresholds.setdefault(engine.spec.threshold, "model default")
    for camera in Camera.objects.filter(match_threshold__isnull=False).order_by("pk"):
        thresholds.setdefault(camera.match_threshold, f"camera {camera.pk}")
    for share in CANDIDATE_SHARES:
        thresholds.setdefault(round(engine.threshold * share, 4), f"{share:.2f} x default")
    points = [ThresholdPoint(label, calibration.at(value)) for value, label in sorted(thresholds.items())]
    return Tradeoff(
        model=engine.model_name,
        threshold=engine.threshold,
        people=len(set(labels.tolist())),
        embeddings=len(rows),
        sampled=sampled,
        calibration=calibration,
        points=points,
        histogram=_histogram(calibration, top=max(thresholds) * 2),
    )


def _pairs(labels: np.ndarray, vectors: np.ndarray) -> Calibration:
    """Every pair's cosine distance, as :func:`recognition.matching.calibrate` computes it, in one product."""
    if len(vectors) < 2:
        return Calibration([], [])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    units = vectors / np.where(norms == 0, 1, norms)
    distances = 1.0 - units @ units.T
    upper = np.triu_indices(len(vectors), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    values = distances[upper]
    return Calibration(sorted(values[same].astype(float).tolist()), sorted(values[~same].astype(float).tolist()))


def _histogram(calibration: Calibration, top: float) -> list[dict]:
    edges = np.linspace(0.0, top, HISTOGRAM_BINS + 1)
    genuine, _ = np.histogram(np.clip(calibration.same, 0, top), bins=edges)
    impostor, _ = np.histogram(np.clip(calibration.different, 0, top), bins=edges)
    tallest = max(int(genuine.max(initial=0)), int(impostor.max(initial=0)), 1)
    return [
        {
            "low": float(edges[i]),
            "high": float(edges[i + 1]),
            "genuine": int(genuine[i]),
            "impostor": int(impostor[i]),
            "genuine_share": round(100 * int(genuine[i]) / tallest),
            "impostor_share": round(100 * int(impostor[i]) / tallest),
        }
        for i in range(HISTOGRAM_BINS)
    ]
