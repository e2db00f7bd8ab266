"""Moving people as foreground blobs: MOG2 background subtraction, morphology, and contour filtering by area.

Classical on purpose: it needs no model weights, runs at hundreds of frames per second on 320-pixel frames,
and suits fixed cameras looking down on a walkway. Its known limits: people walking shoulder to shoulder
merge into one blob (counted once), and someone standing still for long fades into the background.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from counting.video.stabilization import Stabilizer


@dataclass(frozen=True)
class DetectorParams:
    """Tuning of :class:`MotionDetector`; sizes are fractions of the processed frame so they follow its size."""

    history: int = 500
    var_threshold: float = 32.0
    learning_rate: float = 0.002  # per frame, once primed: lighting changes are followed within a minute
    # Share of a pixel's weight that counts as background. Lower than OpenCV's 0.9 so that someone standing
    # still takes ~7 s (25 fps) to fade into the background, rather than ~2 s.
    background_ratio: float = 0.7
    blur: int = 5
    # Foreground pixels of MOG2 are 255, shadows 127: anything under this is dropped as shadow.
    foreground_level: int = 200
    open_fraction: float = 0.005  # opening kernel (noise specks), as a fraction of the frame width
    close_fraction: float = 0.016  # closing kernel (joins head, arms and body), as a fraction of the width
    # Smallest blob taken for a person, as a fraction of the frame area (29 px at 320x180). At 320 pixels
    # the 3-pixel opening takes a larger share of a partly hidden person than at 640, where 0.0007 was used:
    # with it, one crossing of the real footage is lost at 320.
    min_area_fraction: float = 0.0005
    max_area_fraction: float = 0.25
    prime_rate: float = 0.05
    # Colour, not brightness alone: MOG2 tells shadows (darker, same hue) from people by their colour, and in
    # grey a person in mid-grey clothes on a light floor would pass for a shadow.
    colour: bool = True
    stabilize: bool = True  # register frames to the first one first (a drifting or swaying camera)
    # The stabilizer estimates the global motion on a copy this share of the processed width (160 px at 320)
    # from this many corners: the optical flow is most of its cost, and global motion needs no detail.
    stabilize_scale: float = 0.5
    stabilize_corners: int = 100
    stabilize_every: int = 2  # frames per estimate of the motion (at 25 fps: 12.5 estimates a second)


@dataclass(frozen=True)
class Detection:
    """One foreground blob: its centroid, bounding box ``(x, y, w, h)`` and area in pixels."""

    x: float
    y: float
    box: tuple[int, int, int, int]
    area: float


def _odd(value: float, minimum: int = 1) -> int:
    size = max(minimum, round(value))
    return size if size % 2 else size + 1


class MotionDetector:
    """Finds moving blobs in successive frames of one fixed camera (one instance per video)."""

    def __init__(self, width: int, height: int, params: DetectorParams | None = None) -> None:
        self.width, self.height = width, height
        self.params = params or DetectorParams()
        p = self.params
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            history=p.history, varThreshold=p.var_threshold, detectShadows=True
        )
        self.subtractor.setBackgroundRatio(p.background_ratio)
        self.open_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(p.open_fraction * width, 3),) * 2)
        self.close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(p.close_fraction * width, 3),) * 2)
        self.min_area = p.min_area_fraction * width * height
        self.max_area = p.max_area_fraction * width * height
        self.stabilizer = (
            Stabilizer(
                max_corners=p.stabilize_corners,
                work_width=max(80, round(p.stabilize_scale * width)),
                estimate_every=p.stabilize_every,
            )
            if p.stabilize
            else None
        )
        self.primed = False
        self.last_mask: np.ndarray | None = None
        self.border_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (_odd(0.02 * width, 3),) * 2)
        self._valid_seen: np.ndarray | None = None
        self._border: np.ndarray | None = None

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        if not self.params.colour and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        blur = self.params.blur
        return cv2.GaussianBlur(frame, (blur, blur), 0) if blur > 1 else frame

    def prime(self, frames: Sequence[np.ndarray]) -> None:
        """Start from the per-pixel median of ``frames`` as the background.

        Without it the model would take the first frame, people included, for background and report
        "ghosts" where they stood until it relearns; the median of frames spread over a few seconds shows
        the empty scene wherever people keep moving.
        """
        if not frames:
            return
        if self.stabilizer is not None:
            frames = [self.stabilizer.align(frame) for frame in frames]
            # Processing starts again at the first of these frames: the reference's own position.
            self.stabilizer.transform = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        prepared = [self._prepare(f) for f in frames]
        background = np.median(np.stack(prepared), axis=0).astype(np.uint8)
        self.subtractor.apply(background, learningRate=1.0)
        # The frames themselves then teach the model how much each pixel varies (noise, compression);
        # the median alone would leave it expecting none and flag every flicker.
        for image in prepared:
            self.subtractor.apply(image, learningRate=self.params.prime_rate)
        self.primed = True

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """The person-sized moving blobs of ``frame`` (which also updates the background model)."""
        p = self.params
        if self.stabilizer is not None:
            frame = self.stabilizer.align(frame)
        rate = p.learning_rate if self.primed else -1  # unprimed: OpenCV's own schedule (fast at first)
        mask = self.subtractor.apply(self._prepare(frame), learningRate=rate)
        _, mask = cv2.threshold(mask, p.foreground_level, 255, cv2.THRESH_BINARY)
        valid = self.stabilizer.valid if self.stabilizer is not None else None
        if valid is not None and valid is not self._valid_seen:
            # The strip the shifted frame does not cover (and its warped edge) is not movement: worked out again
            # only when the stabilizer's coverage changed.
            self._valid_seen = valid
            self._border = None if valid.all() else cv2.erode(valid, self.border_kernel)
        if valid is not None and self._border is not None:
            mask &= self._border
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.open_kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.close_kernel)
        self.last_mask = mask
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        detections = []
        for contour in contours:
            area = cv2.contourArea(contour)
            if not self.min_area <= area <= self.max_area:
                continue
            moments = cv2.moments(contour)
            if moments["m00"] <= 0:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            detections.append(
                Detection(
                    x=moments["m10"] / moments["m00"], y=moments["m01"] / moments["m00"], box=(x, y, w, h), area=area
                )
            )
        return detections
