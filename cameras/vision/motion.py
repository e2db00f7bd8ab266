"""The motion gate: a cheap look at a small grey copy of each frame, so the expensive analyzers run only when
something moves.

A running-average background of a 160-pixel-wide blurred grey frame; pixels that differ from it by more than
a threshold are motion. A frame is *active* when the changed share passes ``min_area`` (a person a few metres
away is well above it; sensor noise and compression flicker are below). Changed pixels are grouped into
regions, scaled back to frame coordinates, which a detector can restrict itself to.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cameras.vision.registry import Motion

GATE_WIDTH = 160


@dataclass(frozen=True)
class MotionParams:
    threshold: int = 18  # grey levels of difference that count as change
    min_area: float = 0.002  # share of the frame that must change
    learning_rate: float = 0.05  # how fast the background follows the scene
    # After a change of scene (a camera moved, lights on) the background needs this many frames to settle.
    warmup_frames: int = 3


class MotionGate:
    """One stream's motion gate; feed it every analysed frame in order."""

    def __init__(self, params: MotionParams | None = None) -> None:
        self.params = params or MotionParams()
        self._background: np.ndarray | None = None
        self._frames = 0

    def reset(self) -> None:
        self._background, self._frames = None, 0

    def look(self, pixels: np.ndarray) -> Motion:
        height, width = pixels.shape[:2]
        scale = GATE_WIDTH / width if width > GATE_WIDTH else 1.0
        small = cv2.resize(
            pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0).astype(np.float32)
        if self._background is None or self._background.shape != grey.shape:
            self._background, self._frames = grey, 0
        self._frames += 1
        difference = cv2.absdiff(grey, self._background)
        cv2.accumulateWeighted(grey, self._background, self.params.learning_rate)
        changed = (difference > self.params.threshold).astype(np.uint8)
        score = float(changed.mean())
        if self._frames <= self.params.warmup_frames or score < self.params.min_area:
            return Motion(active=False, score=score)
        changed = cv2.dilate(changed, np.ones((3, 3), np.uint8), iterations=2)
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        regions = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            regions.append((int(x / scale), int(y / scale), int(np.ceil(w / scale)), int(np.ceil(h / scale))))
        return Motion(active=True, score=score, regions=tuple(regions))
