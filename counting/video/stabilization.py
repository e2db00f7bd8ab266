"""Compensation of a slowly drifting or shaking camera, so background subtraction sees a still scene.

A camera on a pole sways, a drone drifts: a few pixels of global motion make every edge of the floor look
like movement. Each frame is registered to a reference frame (the first one): corners of the reference are
followed into the frame with pyramidal Lucas-Kanade optical flow (seeded with the last transform), and a
similarity transform (shift, rotation, scale) is fitted with RANSAC, which ignores the corners that people
walking carry along. The frame is then warped back into the reference's coordinates, so the counting line
stays where it was drawn on the ground. Meant for drift of a few percent of the frame, not for pans.
"""

from __future__ import annotations

import cv2
import numpy as np

_WINDOW = (15, 15)
_LEVELS = 3


class Stabilizer:
    """Registers frames (BGR, all of one size) to the first one it is given.

    Motion is estimated on a copy at most ``work_width`` pixels wide (global motion needs no detail, and
    optical flow costs grow with the area) and applied to the full frame, every ``estimate_every`` frames (a
    drift or a sway moves little in a 25th of a second; in between the last transform holds).
    """

    def __init__(
        self, max_corners: int = 200, min_inliers: int = 20, work_width: int = 320, estimate_every: int = 1
    ) -> None:
        self.max_corners = max_corners
        self.min_inliers = min_inliers
        self.work_width = work_width
        self.estimate_every = max(1, estimate_every)
        self.frames = 0
        self.scale = 1.0
        self.reference: np.ndarray | None = None
        self.points: np.ndarray | None = None
        self.transform = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float64)  # reference -> frame
        self.valid: np.ndarray | None = None
        self.failures = 0
        self._valid_for: np.ndarray | None = None

    def _gray(self, frame: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        if self.scale != 1.0:
            size = (round(gray.shape[1] * self.scale), round(gray.shape[0] * self.scale))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return gray

    def set_reference(self, frame: np.ndarray) -> None:
        """Use ``frame`` as the reference (its coordinates are those of everything downstream)."""
        self.scale = min(1.0, self.work_width / frame.shape[1])
        gray = self._gray(frame)
        self.reference = gray
        corners = cv2.goodFeaturesToTrack(gray, maxCorners=self.max_corners, qualityLevel=0.01, minDistance=5)
        self.points = corners.reshape(-1, 2).astype(np.float32) if corners is not None else None
        self.transform = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float64)
        self.valid = np.full(frame.shape[:2], 255, dtype=np.uint8)
        self.frames = 0
        self._valid_for: np.ndarray | None = None  # the transform ``valid`` was made for

    def _estimate(self, gray: np.ndarray) -> bool:
        if self.points is None or len(self.points) < self.min_inliers:
            return False
        # The transform is kept in full-frame pixels; the estimate works in the scaled copy's.
        scaled = self.transform.copy()
        scaled[:, 2] *= self.scale
        ones = np.ones((len(self.points), 1), dtype=np.float32)
        guess = (np.hstack([self.points, ones]) @ scaled.T.astype(np.float32)).astype(np.float32)
        moved, status, _err = cv2.calcOpticalFlowPyrLK(
            self.reference,
            gray,
            self.points,
            guess.copy(),
            winSize=_WINDOW,
            maxLevel=_LEVELS,
            flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
        )
        if moved is None or status is None:
            return False
        good = status.reshape(-1) == 1
        if good.sum() < self.min_inliers:
            return False
        matrix, inliers = cv2.estimateAffinePartial2D(
            self.points[good], moved[good], method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=500
        )
        if matrix is None or inliers is None or int(inliers.sum()) < self.min_inliers:
            return False
        matrix[:, 2] /= self.scale
        self.transform = matrix
        return True

    def align(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` warped into the reference's coordinates (the first call makes it the reference).

        When the motion cannot be estimated (too few corners agree), the last transform is kept.
        """
        if self.reference is None:
            self.set_reference(frame)
            return frame
        self.frames += 1
        if self.frames % self.estimate_every == 0 and not self._estimate(self._gray(frame)):
            self.failures += 1
        height, width = frame.shape[:2]
        if np.allclose(self.transform, [[1, 0, 0], [0, 1, 0]], atol=1e-3):
            if self._valid_for is not None or self.valid is None or self.valid.shape != (height, width):
                self.valid, self._valid_for = np.full((height, width), 255, dtype=np.uint8), None
            return frame
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        aligned = cv2.warpAffine(frame, self.transform, (width, height), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        # Where the frame does not cover the reference view, nothing can be seen moving (made again only when
        # the transform changed: a new array, so users may keep what they derived from the last one).
        if self._valid_for is None or not np.array_equal(self._valid_for, self.transform):
            self.valid = cv2.warpAffine(
                np.full((height, width), 255, dtype=np.uint8), self.transform, (width, height), flags=flags
            )
            self._valid_for = self.transform.copy()
        return aligned

    @property
    def shift(self) -> tuple[float, float]:
        """The current translation of the frame relative to the reference, in pixels."""
        return float(self.transform[0, 2]), float(self.transform[1, 2])
