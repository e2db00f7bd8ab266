"""The people of ``../shared/data/faces`` for the face benchmarks: where each photo's faces are, and portraits
of them to walk through a generated camera picture.

``FACES`` is hand-checked ground truth: every face of each photo with both eyes inside it, as (centre x,
centre y, width) in fractions of the photo (the partly cut faces at the selfie's edges are left out: neither
detector is asked to find them, and one that does is not penalised). Who is who follows DESIGN.md: img1, img2,
img4 one person, img13/img14 another, img16/img17 a third; img26 and img30 are two others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
FACES_DIR = SHARED / "faces"
PEDESTRIANS = SHARED / "video" / "pedestrians.avi"

FACES: dict[str, list[tuple[float, float, float]]] = {
    "couple.jpg": [(0.75, 0.441, 0.25), (0.286, 0.575, 0.269)],
    "img1.jpg": [(0.517, 0.33, 0.429)],
    "img13.jpg": [(0.486, 0.357, 0.197)],
    "img14.jpg": [(0.518, 0.34, 0.183)],
    "img16.jpg": [(0.516, 0.456, 0.266)],
    "img17.jpg": [(0.471, 0.447, 0.211)],
    "img2.jpg": [(0.505, 0.378, 0.242)],
    "img26.jpg": [(0.468, 0.304, 0.398)],
    "img30.jpg": [(0.402, 0.505, 0.298)],
    "img4.jpg": [(0.358, 0.452, 0.275)],
    "selfie-many-people.jpg": [(0.245, 0.611, 0.19), (0.693, 0.339, 0.205), (0.427, 0.32, 0.163), (0.062, 0.492, 0.12)],
}

# Enrolment photo and walk-by photo (another picture of the same person where there is one).
PEOPLE: dict[str, tuple[str, str]] = {
    "Person A": ("img1.jpg", "img2.jpg"),
    "Person B": ("img13.jpg", "img14.jpg"),
    "Person C": ("img16.jpg", "img17.jpg"),
}
STRANGERS = ("img26.jpg", "img30.jpg")


def available() -> bool:
    return FACES_DIR.is_dir()


def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(FACES_DIR / name))
    if image is None:
        raise FileNotFoundError(FACES_DIR / name)
    return image


@dataclass
class Portrait:
    """A head-and-shoulders cut of a photo around one face, and that face's place in the cut."""

    name: str
    pixels: np.ndarray
    face_centre: tuple[float, float]  # in the cut's pixels
    face_width: float

    def scaled(self, face_width: int) -> Portrait:
        factor = face_width / self.face_width
        pixels = cv2.resize(self.pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        centre = (self.face_centre[0] * factor, self.face_centre[1] * factor)
        return Portrait(self.name, pixels, centre, face_width)


def portrait(name: str, index: int = 0) -> Portrait:
    image = photo(name)
    height, width = image.shape[:2]
    cx, cy, fw = FACES[name][index]
    cx, cy, fw = cx * width, cy * height, fw * width
    x0, x1 = max(0, round(cx - 1.3 * fw)), min(width, round(cx + 1.3 * fw))
    y0, y1 = max(0, round(cy - 1.2 * fw)), min(height, round(cy + 1.8 * fw))
    return Portrait(name, image[y0:y1, x0:x1].copy(), (cx - x0, cy - y0), fw)


def paste(frame: np.ndarray, person: Portrait, left: int, top: int) -> tuple[int, int, int, int] | None:
    """Draw ``person`` into ``frame`` at (left, top), clipped to the frame; the face's box in the frame, or
    None when the face is not wholly inside."""
    fh, fw = frame.shape[:2]
    ph, pw = person.pixels.shape[:2]
    x0, y0, x1, y1 = max(0, left), max(0, top), min(fw, left + pw), min(fh, top + ph)
    if x1 <= x0 or y1 <= y0:
        return None
    frame[y0:y1, x0:x1] = person.pixels[y0 - top : y1 - top, x0 - left : x1 - left]
    size = person.face_width
    face = (
        round(left + person.face_centre[0] - size / 2),
        round(top + person.face_centre[1] - size / 2),
        round(size),
        round(size),
    )
    if face[0] < 0 or face[1] < 0 or face[0] + face[2] > fw or face[1] + face[3] > fh:
        return None
    return face


def background_frames(count: int, size: tuple[int, int] = (1280, 720)) -> list[np.ndarray]:
    """``count`` frames of the pedestrians footage (a real scene, people seen from above: no faces), spread
    over the clip; a plain grey picture where the footage is absent."""
    capture = cv2.VideoCapture(str(PEDESTRIANS))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    frames = []
    for index in range(count):
        if total:
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index * total / count))
            ok, frame = capture.read()
            if ok:
                frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
                continue
        frames.append(np.full((size[1], size[0], 3), 110, np.uint8))
    capture.release()
    return frames
