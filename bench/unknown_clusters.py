"""Unknown-face clusters at scale: 100 enrolled people and strangers passing a camera; how many clusters the
unknown tracks form against the true number of strangers, how pure they are, and what clustering costs the
pipeline.

    .venv/bin/python bench/unknown_clusters.py [--people 100] [--strangers 30] [--passings 600] [--seed 7]
        [--spread 0.35] [--noise 0.24] [--keep]

Embeddings are *synthetic* (``../shared/data/faces`` holds about a dozen people, not 100): each identity is a
unit vector with a shared component, as face embeddings have (different people are not orthogonal), and each
passing is the identity plus noise. The two spreads are set so the distances look like Dlib's on the shared
photographs (recognition/matching.py: same person 0.030-0.074, different people 0.095 and up); the run prints
the distances it generated so the reader can judge. Every passing goes through what the camera analyzer does
with a track: the 1:N search (``recognition.matching.identify``), then ``recognition.detections.record_track``,
which for an unknown track joins or starts its cluster (``recognition.unknowns``). A passing of an enrolled
person that the search misses becomes an unknown track too, as it would on a camera.

Printed: true strangers against clusters formed (and enrolled people missed, who form clusters of their own),
purity (share of sightings in their cluster's majority identity), strangers split over more than one cluster
and clusters holding more than one identity; and the cost: median ``record_track`` of an unknown track (with
its clustering) against a recognised track's (no clustering) in the same run, with the ratio, and the median
nearest-cluster query.

:func:`measure` is what ``bench/verify.py`` calls: it needs Django set up on a migrated database and runs inside
one transaction that it rolls back (crop files go to a temporary folder that is removed).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_DEBUG", "true")

from bench.scratch import percentile, run_in_scratch_database, setup_django  # noqa: E402

SCRATCH_DB = "argus_bench_unknown_clusters"
# Shared component and per-identity spread, and per-passing noise, set so that two passings of different
# people are about 0.095 apart at the closest (median ~0.16) and two of one person ~0.05 (up to ~0.08): the
# shape of Dlib's distances on the shared photographs. The run prints what it generated.
IDENTITY_SPREAD = 0.35
PASSING_NOISE = 0.24


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def identities(
    rng: np.random.Generator, count: int, dimension: int, common: np.ndarray, spread: float = IDENTITY_SPREAD
) -> np.ndarray:
    offsets = rng.standard_normal((count, dimension)) / np.sqrt(dimension)
    return _unit(common + spread * offsets)


def passing(rng: np.random.Generator, identity: np.ndarray, noise: float = PASSING_NOISE) -> np.ndarray:
    offset = rng.standard_normal(identity.shape[0]) / np.sqrt(identity.shape[0])
    return _unit(identity + noise * offset)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def measure(
    people: int = 100,
    strangers: int = 30,
    passings: int = 600,
    seed: int = 7,
    stranger_share: float = 0.3,
    spread: float = IDENTITY_SPREAD,
    noise: float = PASSING_NOISE,
) -> dict[str, Any]:
    """Run the scene (see the module docstring) and return its figures; nothing is left in the database.
    ``spread`` and ``noise`` make it harder (smaller spread: people closer together; more noise: passings of
    one person further apart)."""
    from django.core.files.storage import default_storage
    from django.db import transaction

    from cameras.models import Camera
    from recognition import matching, unknowns
    from recognition.choices import ProfileStatus
    from recognition.detections import TrackVerdict, record_track
    from recognition.engine import get_engine
    from recognition.models import FaceEmbedding, FaceImage, FaceProfile, UnknownCluster, UnknownSighting

    engine = get_engine()
    rng = np.random.default_rng(seed)
    common = _unit(rng.standard_normal(engine.dimension))
    enrolled = identities(rng, people, engine.dimension, common, spread)
    outsiders = identities(rng, strangers, engine.dimension, common, spread)
    frame = np.full((240, 320, 3), 110, np.uint8)
    box = {"top": 60, "left": 100, "width": 90, "height": 90}

    media = tempfile.TemporaryDirectory(prefix="bench-unknowns-")
    saved = default_storage.location, default_storage.base_location
    default_storage.location = default_storage.base_location = media.name
    figures: dict[str, Any] = {}
    try:
        with transaction.atomic():
            camera = Camera.objects.create(id="CAM-BENCH-UNKNOWN", name="Bench door", stream_url="")
            profiles = FaceProfile.objects.bulk_create(
                FaceProfile(employee_id=f"BENCH-{i:04d}", name=f"Person {i}", status=ProfileStatus.ACTIVE)
                for i in range(people)
            )
            images = FaceImage.objects.bulk_create(
                FaceImage(profile=p, storage_key="", content_type="image/jpeg", size_bytes=0, width=1, height=1)
                for p in profiles
            )
            FaceEmbedding.objects.bulk_create(
                FaceEmbedding(
                    image=image,
                    profile=profile,
                    model=engine.model_name,
                    dimension=engine.dimension,
                    embedding=passing(rng, enrolled[i], noise).tolist(),  # enrolled from one photo of them
                )
                for i, (profile, image) in enumerate(zip(profiles, images, strict=True))
            )
            profile_index = {str(p.pk): i for i, p in enumerate(profiles)}
            truth: dict[Any, str] = {}  # detection id -> identity label
            unknown_ms: list[float] = []
            known_ms: list[float] = []
            seen: dict[str, list[np.ndarray]] = defaultdict(list)
            missed = false_accepts = 0
            start = 1_767_000_000.0
            for n in range(passings):
                if rng.random() < stranger_share:
                    label, identity = f"stranger-{rng.integers(strangers)}", None
                    identity = outsiders[int(label.split("-")[1])]
                else:
                    who = int(rng.integers(people))
                    label, identity = f"person-{who}", enrolled[who]
                embedding = passing(rng, identity, noise)
                seen[label].append(embedding)
                [best, *_] = matching.identify(embedding, limit=2, engine=engine) or [None]
                profile = best.profile if best is not None and matching.is_match(best.distance, engine) else None
                if profile is not None and label != f"person-{profile_index[str(profile.pk)]}":
                    false_accepts += 1
                if profile is None and label.startswith("person-"):
                    missed += 1
                verdict = TrackVerdict(
                    track_id=f"TRACK-BENCH-{n:05d}",
                    profile=profile,
                    distance=best.distance if best else None,
                    margin=None,
                    confidence=90.0,
                    box=box,
                    captured_at=start + 90 * n,
                    shots=3,
                    embedding=np.asarray(embedding, dtype=np.float32) if profile is None else None,
                    quality=float(rng.uniform(0.3, 0.9)),
                )
                began = time.perf_counter()
                detection, _ = record_track(camera, frame, verdict)
                elapsed = (time.perf_counter() - began) * 1000
                (known_ms if profile is not None else unknown_ms).append(elapsed)
                if profile is None:
                    truth[detection.pk] = label
            sightings = list(UnknownSighting.objects.values_list("detection_id", "cluster_id"))
            members: dict[Any, Counter] = defaultdict(Counter)
            for detection_id, cluster_id in sightings:
                members[cluster_id][truth[detection_id]] += 1
            clusters_of: dict[str, set] = defaultdict(set)
            for cluster_id, labels in members.items():
                for label in labels:
                    clusters_of[label].add(cluster_id)
            majority = sum(labels.most_common(1)[0][1] for labels in members.values())
            query_ms = []
            for _ in range(50):
                probe = passing(rng, outsiders[int(rng.integers(strangers))], noise)
                began = time.perf_counter()
                unknowns.nearest_cluster(probe, model=engine.model_name, dimension=engine.dimension)
                query_ms.append((time.perf_counter() - began) * 1000)
            same = [_cosine(a, b) for faces in seen.values() for a, b in itertools.pairwise(faces)]
            firsts = [faces[0] for faces in seen.values()]
            different = [_cosine(a, b) for i, a in enumerate(firsts) for b in firsts[:i]]
            strangers_seen = {label for label in truth.values() if label.startswith("stranger-")}
            figures = {
                "enrolled_people": people,
                "passings": passings,
                "unknown_tracks": len(sightings),
                "true_strangers_seen": len(strangers_seen),
                "enrolled_people_missed": len({label for label in truth.values() if label.startswith("person-")}),
                "missed_passings": missed,
                "false_accepts": false_accepts,
                "clusters_formed": UnknownCluster.objects.count(),
                "purity": majority / len(sightings) if sightings else 1.0,
                "strangers_split": sum(1 for label in strangers_seen if len(clusters_of[label]) > 1),
                "mixed_clusters": sum(1 for labels in members.values() if len(labels) > 1),
                "threshold": unknowns.cluster_threshold(engine),
                "record_track_unknown_ms_p50": statistics.median(unknown_ms) if unknown_ms else None,
                "record_track_known_ms_p50": statistics.median(known_ms) if known_ms else None,
                "nearest_cluster_ms_p50": statistics.median(query_ms),
                "nearest_cluster_ms_p95": percentile(query_ms, 0.95),
                "same_person_distance": (percentile(same, 0.01), statistics.median(same), percentile(same, 0.99)),
                "different_people_distance": (
                    percentile(different, 0.01),
                    statistics.median(different),
                    percentile(different, 0.99),
                ),
            }
            if unknown_ms and known_ms:
                figures["clustering_cost_ratio"] = figures["record_track_unknown_ms_p50"] / statistics.median(known_ms)
            transaction.set_rollback(True)
    finally:
        default_storage.location, default_storage.base_location = saved
        media.cleanup()
    return figures


def report(figures: dict[str, Any]) -> None:
    same, different = figures["same_person_distance"], figures["different_people_distance"]
    print(
        f"synthetic embeddings: same person (two passings) p1/p50/p99 {same[0]:.3f}/{same[1]:.3f}/{same[2]:.3f}; "
        f"different people {different[0]:.3f}/{different[1]:.3f}/{different[2]:.3f}"
    )
    print(
        f"{figures['enrolled_people']} enrolled people, {figures['passings']} passings: "
        f"{figures['unknown_tracks']} unknown tracks ({figures['missed_passings']} of them enrolled people missed "
        f"by the search, {figures['false_accepts']} false accepts)"
    )
    print(
        f"true strangers seen: {figures['true_strangers_seen']} (+{figures['enrolled_people_missed']} enrolled "
        f"people seen as unknown) -> clusters formed: {figures['clusters_formed']} "
        f"(threshold {figures['threshold']:.3f})"
    )
    print(
        f"purity {figures['purity']:.3f}; strangers split over several clusters: {figures['strangers_split']}; "
        f"clusters mixing identities: {figures['mixed_clusters']}"
    )
    ratio = figures.get("clustering_cost_ratio")
    print(
        f"record_track p50: unknown track with clustering {figures['record_track_unknown_ms_p50']:.2f} ms, "
        f"recognised track (baseline) {figures['record_track_known_ms_p50']:.2f} ms"
        + (f", ratio {ratio:.2f}" if ratio else "")
    )
    print(
        f"nearest-cluster query: p50 {figures['nearest_cluster_ms_p50']:.2f} ms, "
        f"p95 {figures['nearest_cluster_ms_p95']:.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--strangers", type=int, default=30)
    parser.add_argument("--passings", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spread", type=float, default=IDENTITY_SPREAD, help="identity spread (smaller: harder)")
    parser.add_argument("--noise", type=float, default=PASSING_NOISE, help="per-passing noise (larger: harder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        return run_in_scratch_database(__file__, SCRATCH_DB, args.keep)
    setup_django()
    report(
        measure(
            people=args.people,
            strangers=args.strangers,
            passings=args.passings,
            seed=args.seed,
            spread=args.spread,
            noise=args.noise,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
