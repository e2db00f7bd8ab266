"""Where frames come from: a video file (OpenCV); a frame's time is its position in the video.

Live streams are not read here: the vision workers decode each camera once and hand its frames to the
counting analyzer (:mod:`counting.video.live`), whose frames' times are their capture times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class SourceError(Exception):
    """The video could not be opened or stopped delivering frames; ``str(exc)`` says why."""


@dataclass
class Frame:
    """One decoded frame: the image (BGR), its time in seconds and its index in the source."""

    image: np.ndarray
    time: float
    index: int


class VideoFile:
    """The frames of a video file, in order, with their times in the video (seconds from its start)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"{self.path} does not exist")
        self.capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise SourceError(f"{self.path} is not a video OpenCV can read")
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = max(0, int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        # Container headers can disagree with the stream (an AVI may declare 50 fps and 682 frames for
        # 341 frames at 25 fps); the duration they imply is the reliable figure.
        self.duration = self.frame_count / self.fps if self.fps else 0.0
        if not (self.width and self.height):
            self.close()
            raise SourceError(f"{self.path} has no video stream")

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        last = -1.0
        while True:
            ok, image = self.capture.read()
            if not ok or image is None:
                break
            position = self.capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            # Positions are the frame's end on some backends and repeat on broken files: keep them rising.
            moment = position if position > last else last + (1.0 / self.fps if self.fps else 0.04)
            last = moment
            yield Frame(image=image, time=moment, index=index)
            index += 1

    def measured_fps(self, first: Frame, second: Frame) -> float:
        """The frame rate the stream really has, from two consecutive frames' times (0 if unknown)."""
        step = second.time - first.time
        return round(1.0 / step, 3) if step > 0 else 0.0

    def close(self) -> None:
        """Release the file."""
        self.capture.release()
