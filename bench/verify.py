"""1:1 verification on every pair the shared photographs allow: accuracy, false accepts, false rejects.

    .venv/bin/python bench/verify.py [--faces ../shared/data/faces] [--thresholds 0.06 0.065 0.075]

Every face of ``../shared/data/faces`` (15 faces in 11 photos) and skimage's astronaut is embedded with the
configured engine (``recognition.matching.shared_photo_faces``; the people are labelled in
``SHARED_PHOTO_PEOPLE``) and every pair compared (``recognition.matching.calibrate``): 120 pairs, 13 of one
person (genuine) and 107 of two (impostor). At the model's default threshold the run prints accuracy, the
false accept rate (FAR: impostor pairs accepted) with its 95% upper bound (what 107 pairs can prove), and the
false reject rate (FRR: genuine pairs refused). The baseline, measured in the same run on the same pairs, is
the previous Dlib default 0.08; each row shows its errors and their ratio to the baseline's.

Then, unless ``--no-unknowns``, the unknown-face figures of ``bench/unknown_clusters.py`` (100 enrolled people
and strangers passing a camera, on a scratch database: clusters formed against the true number of strangers).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")  # development settings: no secret key needed for a bench

import django  # noqa: E402

django.setup()

from recognition.engine import get_engine  # noqa: E402
from recognition.matching import TARGET_FALSE_ACCEPT_RATE, Operating, calibrate, shared_photo_faces  # noqa: E402

BASELINE = 0.08  # the Dlib default before the calibration of issue 20


def ratio(value: float, baseline: float) -> str:
    if baseline == 0:
        return f"{f'+{value:g} (of 0)':>10}" if value else "     x1.00"
    return f"     x{value / baseline:.2f}"


def row(name: str, point: Operating, baseline: Operating) -> str:
    return (
        f"{name:<22} {point.threshold:>9.3f} {point.accuracy:>9.3f} "
        f"{point.false_accepts:>4}/{point.impostor_pairs:<4} {point.far:>7.4f} {point.far_upper_bound:>8.4f} "
        f"{point.false_rejects:>4}/{point.genuine_pairs:<3} {point.frr:>7.4f}"
        f"{ratio(point.false_accepts, baseline.false_accepts)}{ratio(point.false_rejects, baseline.false_rejects)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=BASE_DIR.parent / "shared" / "data" / "faces")
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.06, 0.065, 0.075])
    parser.add_argument("--no-unknowns", action="store_true", help="skip the unknown-face clusters part")
    args = parser.parse_args()

    engine = get_engine()
    start = time.perf_counter()
    engine.load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    labelled = shared_photo_faces(engine, args.faces)
    embed_s = time.perf_counter() - start
    calibration = calibrate(labelled)
    people = len({label for label, _ in labelled})
    print(f"model {engine.model_name}, detector {engine.detector_name}, {os.cpu_count()} cores")
    print(
        f"{len(labelled)} faces of {people} people ({args.faces} + astronaut), embedded in {embed_s:.1f} s "
        f"(model load {load_s:.1f} s): {len(calibration.same)} genuine pairs, {len(calibration.different)} impostor"
    )
    low, high = calibration.gap
    print(
        f"genuine distances {min(calibration.same):.3f}-{low:.3f} (median {statistics.median(calibration.same):.3f}); "
        f"impostor {high:.3f}-{max(calibration.different):.3f} (median {statistics.median(calibration.different):.3f})"
    )
    print(f"the 5 closest impostor pairs: {', '.join(f'{d:.3f}' for d in calibration.different[:5])}")
    print(f"the 5 farthest genuine pairs: {', '.join(f'{d:.3f}' for d in calibration.same[-5:])}")
    print()
    baseline = calibration.at(BASELINE)
    print(
        f"{'threshold':<22} {'distance':>9} {'accuracy':>9} {'FA':>9} {'FAR':>7} {'FAR<=95%':>8} "
        f"{'FR':>8} {'FRR':>7} {'FA vs 0.08':>10} {'FR vs 0.08':>10}"
    )
    print(row("default", calibration.at(engine.threshold), baseline))
    print(row("previous default", baseline, baseline))
    for threshold in args.thresholds:
        print(row("candidate", calibration.at(threshold), baseline))
    default = calibration.at(engine.threshold)
    needed = next(n for n in range(1, 10**6) if 3.0 / n <= TARGET_FALSE_ACCEPT_RATE)
    print()
    print(
        f"at the default {engine.threshold:.3f}: accuracy {default.accuracy:.3f}, FAR {default.far:.4f} "
        f"({default.false_accepts}/{default.impostor_pairs}), FRR {default.frr:.4f} "
        f"({default.false_rejects}/{default.genuine_pairs})"
    )
    print(
        f"{default.impostor_pairs} impostor pairs bound the FAR at {default.far_upper_bound:.4f} (95%); "
        f"showing <= {TARGET_FALSE_ACCEPT_RATE} needs about {needed} impostor pairs with none accepted"
    )
    if not args.no_unknowns:
        print("\nunknown faces (bench/unknown_clusters.py, its own scratch database):", flush=True)
        # Its own process: the scratch database is created and migrated around it.
        subprocess.run([sys.executable, str(BASE_DIR / "bench" / "unknown_clusters.py")], cwd=BASE_DIR, check=True)


if __name__ == "__main__":
    main()
