"""Face tracks across video frames, and the per-track decision on their best shots. Needs no Django.

A :class:`FaceTracker` takes each analysed frame's faces and keeps one :class:`FaceTrack` per person in
view: a face joins the track whose last box it overlaps most (IoU), or, when none overlaps (a jump between
analysed frames), the track whose embedding is nearest; either only across a gap of a few searched frames,
since people cross the same spots and the same person may come back. Each track keeps its best shots by quality and
asks for an embedding only while it is new or a markedly better shot arrives, so the expensive model
runs a few times per passing, not once per frame. Its decision reads the nearest enrolled person of every
embedded shot: the person whose best distance is at most the threshold, with the gap to the runner-up
(top-1/top-2 margin) kept as evidence. Used by the camera analyzer (``recognition.vision``) and meant for
the face-service sessions too.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# A face overlapping a track's last box at least this much continues it.
MIN_IOU = 0.25
# Without overlap, a face whose embedding is this close to a track's continues it. Looser than the match
# threshold (0.07 for Dlib): it only joins two shots of one passing, and the track's own decision names the person.
MAX_EMBEDDING_JUMP = 0.08
# Boxes and embeddings continue a track only if it was seen in one of the last MAX_GAP_FRAMES searched frames
# (counted in frames, not seconds: a busy worker analyses fewer frames a second): a face appearing where
# someone was seen longer ago is someone new until its own shots say who (people cross the same spots).
MAX_GAP_FRAMES = 3
# A track that has not been seen for this long (and in more than MAX_GAP_FRAMES searched frames) has left.
TRACK_TIMEOUT_SECONDS = 2.0
# A new shot is embedded when its quality beats the best embedded shot by this much.
BETTER_SHOT_MARGIN = 0.05
# At most this many embeddings per track (the first, then better shots only).
MAX_EMBEDDINGS = 6
# A track with this many embedded shots and no match is an unknown person.
UNKNOWN_AFTER_SHOTS = 3
# A recognised person's top-1 must be nearer than the runner-up person by at least this (cosine distance).
MIN_MARGIN = 0.005


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Candidate:
    """One enrolled person's distance to a shot."""

    person: Any  # the caller's key (a profile)
    distance: float


@dataclass
class Shot:
    """One face of one frame in a track: where, when, how good, and (once embedded) who it is near."""

    box: tuple[int, int, int, int]
    captured_at: float
    quality: float
    face: Any = None  # the detector's face, for the embedding
    pixels: np.ndarray | None = None  # the frame, kept only for the track's best shot
    embedding: np.ndarray | None = None
    candidates: list[Candidate] = field(default_factory=list)
    # False while an embedded shot's search for enrolled people is still to run (the caller's store was away):
    # its candidates are not known yet, so the track is not decided on without them.
    searched: bool = True
    crop: Any = None  # what the caller kept of the frame instead of ``pixels`` (its thumbnail), if anything


@dataclass
class Decision:
    """A track's verdict: the person (None: unknown), distance and margin to the runner-up, and the shot."""

    person: Any
    distance: float | None
    margin: float | None
    shot: Shot


@dataclass
class FaceTrack:
    """One face followed across frames."""

    id: str
    box: tuple[int, int, int, int]
    first_seen: float
    last_seen: float
    first_frame: int = 0
    last_frame: int = 0
    best: Shot | None = None  # the best shot by quality (thumbnail)
    embedded: list[Shot] = field(default_factory=list)
    embedding: np.ndarray | None = None  # of the best embedded shot, for re-association
    decision: Decision | None = None
    state: dict[str, Any] = field(default_factory=dict)  # the caller's (e.g. its stored detection)
    # A shot that continued this track by overlap after missed frames: someone else may stand where this face
    # was. The caller checks its embedding against the track's (:meth:`FaceTracker.confirm` or ``split``).
    unconfirmed: Shot | None = None
    _before: tuple[tuple[int, int, int, int], float, int] | None = None

    def wants_embedding(self, shot: Shot) -> bool:
        """Whether ``shot`` is worth the model: the first, or one markedly better than every embedded one."""
        if len(self.embedded) >= MAX_EMBEDDINGS:
            return False
        if not self.embedded:
            return True
        return shot.quality >= max(s.quality for s in self.embedded) + BETTER_SHOT_MARGIN

    def add_embedded(self, shot: Shot) -> None:
        self.embedded.append(shot)
        if self.embedding is None or shot.quality >= max(s.quality for s in self.embedded):
            self.embedding = shot.embedding

    def decide(self, threshold: float) -> Decision | None:
        """The person of this track from every embedded shot, or None while undecided.

        Per person the nearest distance over the shots; the nearest person is the track's when within
        ``threshold`` and nearer than the runner-up by ``MIN_MARGIN``. After ``UNKNOWN_AFTER_SHOTS`` shots
        without such a person, the track is unknown (its best shot stands for it).
        """
        best: dict[Any, float] = {}
        for shot in self.embedded:
            for candidate in shot.candidates:
                if candidate.distance < best.get(candidate.person, float("inf")):
                    best[candidate.person] = candidate.distance
        ranked = sorted(best.items(), key=lambda item: item[1])
        if ranked and ranked[0][1] <= threshold:
            margin = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else None
            if margin is None or margin >= MIN_MARGIN:
                person, distance = ranked[0]
                shot = min(
                    (s for s in self.embedded if any(c.person == person for c in s.candidates)),
                    key=lambda s: next(c.distance for c in s.candidates if c.person == person),
                )
                return Decision(person, distance, margin, shot)
        if len(self.embedded) >= UNKNOWN_AFTER_SHOTS:
            top = ranked[0][1] if ranked else None
            margin = ranked[1][1] - ranked[0][1] if len(ranked) > 1 else None
            return Decision(None, top, margin, self.best or self.embedded[-1])
        return None


class FaceTracker:
    """Tracks faces of one camera across frames. Feed it each analysed frame's faces in capture order with
    :meth:`update`; :meth:`expire` hands back the tracks that left the picture."""

    def __init__(self, timeout: float = TRACK_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self.tracks: dict[str, FaceTrack] = {}
        self.frame = 0  # searched frames so far

    def update(self, shots: Sequence[Shot]) -> list[FaceTrack]:
        """One searched frame's faces (an empty list too: a frame without faces counts for the gaps): each shot
        joins the recent track whose last box it overlaps most, or a new track; returns the track of each shot."""
        assigned: list[FaceTrack | None] = [None] * len(shots)
        self.frame += 1
        free = {key: track for key, track in self.tracks.items() if self.frame - track.last_frame <= MAX_GAP_FRAMES}
        pairs = sorted(
            (
                (iou(shot.box, track.box), i, key)
                for (i, shot), (key, track) in itertools.product(enumerate(shots), free.items())
            ),
            reverse=True,
        )
        for overlap, i, key in pairs:
            if overlap < MIN_IOU:
                break
            if assigned[i] is None and key in free:
                assigned[i] = free.pop(key)
        result = []
        for shot, track in zip(shots, assigned, strict=True):
            resumed = track is not None and self.frame - track.last_frame > 1 and track.embedding is not None
            if resumed:
                track._before = (track.box, track.last_seen, track.last_frame)
            if track is None:
                track = FaceTrack(
                    id=f"TRACK-{uuid.uuid4().hex[:12]}",
                    box=shot.box,
                    first_seen=shot.captured_at,
                    last_seen=0.0,
                    first_frame=self.frame,
                )
                self.tracks[track.id] = track
            track.box, track.last_seen, track.last_frame = shot.box, shot.captured_at, self.frame
            track.unconfirmed = shot if resumed else None
            if not resumed and (track.best is None or shot.quality > track.best.quality):
                track.best = shot
            result.append(track)
        return result

    def confirm(self, track: FaceTrack, shot: Shot) -> FaceTrack:
        """The resumed track's face is still its person (``shot`` embedded): the shot joins it as usual, or,
        when its embedding is further than MAX_EMBEDDING_JUMP from the track's, it starts a track of its own
        and the old track goes back to where it was. Returns the shot's track."""
        track.unconfirmed = None
        if (
            shot.embedding is None
            or track.embedding is None
            or _distance(shot.embedding, track.embedding) <= (MAX_EMBEDDING_JUMP)
        ):
            if track.best is None or shot.quality > track.best.quality:
                track.best = shot
            return track
        if track._before is not None:
            track.box, track.last_seen, track.last_frame = track._before
        other = FaceTrack(
            id=f"TRACK-{uuid.uuid4().hex[:12]}",
            box=shot.box,
            first_seen=shot.captured_at,
            last_seen=shot.captured_at,
            first_frame=self.frame,
            last_frame=self.frame,
            best=shot,
        )
        self.tracks[other.id] = other
        return other

    def rejoin(self, track: FaceTrack) -> FaceTrack:
        """A new track whose first embedding is near an older track not seen in this frame is that face
        again (it moved further between analysed frames than boxes overlap): the older track continues with
        this one's box, and the new one goes. Returns the track that goes on."""
        if track.embedding is None or len(track.embedded) != 1:
            return track
        near = [
            (_distance(track.embedding, other.embedding), other)
            for other in self.tracks.values()
            if other is not track
            and other.embedding is not None
            and other.last_frame < track.first_frame
            and track.first_frame - other.last_frame <= MAX_GAP_FRAMES
        ]
        if not near:
            return track
        distance, older = min(near, key=lambda item: item[0])
        if distance > MAX_EMBEDDING_JUMP:
            return track
        del self.tracks[track.id]
        older.box, older.last_seen, older.last_frame = track.box, track.last_seen, track.last_frame
        if older.best is None or (track.best is not None and track.best.quality > older.best.quality):
            older.best = track.best
        if len(older.embedded) < MAX_EMBEDDINGS:
            older.add_embedded(track.embedded[0])
        return older

    def expire(self, now: float) -> list[FaceTrack]:
        """Remove and return the tracks not seen for ``timeout`` seconds."""
        gone = [
            track
            for track in self.tracks.values()
            if now - track.last_seen > self.timeout
            # Missed in enough searched frames, or the frames stopped coming (the stream ended) for long.
            and (self.frame - track.last_frame > MAX_GAP_FRAMES or now - track.last_seen > 3 * self.timeout)
        ]
        for track in gone:
            del self.tracks[track.id]
        return gone


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 1.0 if denominator == 0.0 else 1.0 - float(np.dot(a, b)) / denominator
