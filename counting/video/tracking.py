"""A centroid tracker: blobs of successive frames joined into tracks whose ids survive short gaps.

Each track predicts where it will be next (constant velocity) and takes the nearest detection within a
gate. A track that finds none coasts on its prediction for up to ``max_missed`` frames, so a person hidden
for a moment (merged with another blob, passing behind a pillar) keeps the same id when they reappear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from counting.video.detection import Detection


@dataclass
class Track:
    """One tracked person; ``x, y`` is the last observed centroid, or the prediction while unobserved."""

    id: int
    x: float
    y: float
    box: tuple[int, int, int, int]
    vx: float = 0.0
    vy: float = 0.0
    hits: int = 1
    age: int = 1
    missed: int = 0
    observed: bool = True
    last_seen: tuple[float, float] = (0.0, 0.0)

    @property
    def quality(self) -> float:
        """Share of its frames in which the track was actually seen (1.0: never lost)."""
        return self.hits / self.age if self.age else 0.0

    def predicted(self) -> tuple[float, float]:
        """Where the track should be in the next frame."""
        return self.x + self.vx, self.y + self.vy


class CentroidTracker:
    """Greedy nearest-neighbour tracker with constant-velocity prediction.

    ``max_distance`` is the gate in pixels for one frame; it widens while a track is unobserved, since its
    prediction grows less certain. ``max_missed`` is how many frames a track may go unseen before it ends.
    """

    def __init__(self, max_distance: float, max_missed: int, velocity_smoothing: float = 0.5) -> None:
        self.max_distance = max_distance
        self.max_missed = max_missed
        self.smoothing = velocity_smoothing
        self.tracks: list[Track] = []
        self.ended: list[Track] = []
        self.started = 0

    def _gate(self, track: Track) -> float:
        # A little wider for each frame unseen (the prediction drifts), but never more than twice the gate:
        # a wide gate lets a lost track snatch someone else's blob.
        return self.max_distance * min(2.0, 1.0 + 0.1 * track.missed)

    def update(self, detections: Sequence[Detection]) -> list[Track]:
        """Match ``detections`` to the live tracks; return the tracks alive after this frame.

        Tracks that ended in this frame are left in ``ended`` (cleared on the next call).
        """
        self.ended = []
        pairs = []
        for ti, track in enumerate(self.tracks):
            px, py = track.predicted()
            gate = self._gate(track)
            for di, detection in enumerate(detections):
                distance = math.hypot(detection.x - px, detection.y - py)
                if distance <= gate:
                    pairs.append((distance, ti, di))
        pairs.sort()
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        for _distance, ti, di in pairs:
            if ti in matched_tracks or di in matched_detections:
                continue
            matched_tracks.add(ti)
            matched_detections.add(di)
            self._observe(self.tracks[ti], detections[di])
        survivors = []
        for ti, track in enumerate(self.tracks):
            if ti not in matched_tracks:
                track.missed += 1
                track.age += 1
                track.observed = False
                # Coasting: the prediction stands in for the position, so the next gate is centred on it.
                track.x, track.y = track.predicted()
            if track.missed > self.max_missed:
                self.ended.append(track)
            else:
                survivors.append(track)
        for di, detection in enumerate(detections):
            if di not in matched_detections:
                survivors.append(self._start(detection))
        self.tracks = survivors
        return self.tracks

    def _observe(self, track: Track, detection: Detection) -> None:
        steps = track.missed + 1
        # The last observed position is where coasting started: velocity from it, over the frames between.
        last_x, last_y = track.last_seen
        vx, vy = (detection.x - last_x) / steps, (detection.y - last_y) / steps
        if track.hits == 1:
            track.vx, track.vy = vx, vy
        else:
            track.vx = self.smoothing * track.vx + (1 - self.smoothing) * vx
            track.vy = self.smoothing * track.vy + (1 - self.smoothing) * vy
        track.x, track.y, track.box = detection.x, detection.y, detection.box
        track.hits += 1
        track.age += 1
        track.missed = 0
        track.observed = True
        track.last_seen = (detection.x, detection.y)

    def _start(self, detection: Detection) -> Track:
        self.started += 1
        track = Track(id=self.started, x=detection.x, y=detection.y, box=detection.box)
        track.last_seen = (detection.x, detection.y)
        return track

    def finish(self) -> list[Track]:
        """End every live track (the video is over); returns them."""
        self.ended, self.tracks = self.tracks, []
        return self.ended
