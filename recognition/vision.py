"""The faces analyzer of the vision pipeline: cameras with recognition on are watched continuously.

On each analysed frame that moves (and while a face track is open, since a person standing still makes no
motion), YuNet finds the faces (``recognition.yunet``, whatever ``ARGUS_FACE_DETECTOR`` says for photos: it is
the detector fast enough for every frame); a :class:`~recognition.tracking.FaceTracker` follows them; each
face gets the quality score of ``recognition.quality``; the Dlib embedding and the pgvector search run only
for a track's first shot and for markedly better ones. Each track's decision (best shots, top-1/top-2 margin)
becomes one ``Detection``: created at the first confident decision, updated when a better shot arrives, its
timestamp the capture time of that shot's frame; an unknown track gives one unknown detection (at its first
embedded shot, so the live view shows strangers at once) that ends with the track's best crop. Attendance
hears each track once (``recognition.signals``). Runs inside the vision worker process.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections

from cameras.vision.camera_streams import cameras_of
from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, VisionStream
from recognition import detections, matching, quality
from recognition.engine import FaceEngine, shared_engine
from recognition.tracking import Candidate, Decision, FaceTrack, FaceTracker, Shot

logger = logging.getLogger("argus.recognition")

# Candidates kept per shot from the pgvector search (top-1/top-2 and a few more for the per-track ranking).
CANDIDATES = 3
# A decided track's detection is updated when a shot this much better (quality) than its stored one comes.
UPDATE_MARGIN = 0.05
# A track named at this share of the threshold or nearer needs no more evidence: its better shots still
# become its thumbnail, without running the model again (the CPU goes to new faces instead).
CONFIDENT_SHARE = 0.75
# Faces narrower than this (frame pixels) are tracked but not embedded: too little detail for the model.
MIN_EMBED_WIDTH = 40
# Faces are searched only where the picture moves and around the open tracks: the bounding box of those, grown
# by SEARCH_PADDING of the frame's width each way (a head sits above the moving body, a face at the edge of a
# motion region must be whole) and at least SEARCH_MIN_SIDE of it. When that covers more than
# WHOLE_FRAME_SHARE of the frame, the whole frame is searched (a cut saves little then).
SEARCH_PADDING = 0.08
SEARCH_MIN_SIDE = 0.25
WHOLE_FRAME_SHARE = 0.6


def video_engine() -> FaceEngine:
    """The process's engine with YuNet as its detector and the configured recognition model."""
    return shared_engine(
        settings.ARGUS_FACE_MODEL,
        "yunet",
        str(settings.DEEPFACE_HOME),
        settings.ARGUS_FACE_DETECT_MAX_SIDE,
        settings.ARGUS_FACE_MIN_CONFIDENCE,
    )


class FaceAnalyzer:
    """Face tracks and per-track detections for the cameras of one stream with recognition on."""

    def __init__(
        self,
        stream: VisionStream,
        camera_ids: list[str],
        engine: FaceEngine | None = None,
        threshold: float | None = None,
    ) -> None:
        self.stream = stream
        self.camera_ids = camera_ids
        self.engine = engine or video_engine()
        # The cameras' own match threshold, else the model's (recognition.matching.threshold_for).
        self.threshold = threshold if threshold is not None else self.engine.threshold
        self.tracker = FaceTracker()
        self.frames_searched = 0
        self.embeddings = 0
        # Faces are searched at the cameras' own analysis rate, whatever rate the stream is decoded at (counting
        # asks for 25 fps on the same decoder): a face search costs tens of milliseconds, a counted frame little.
        rates = [demand.fps for demand in cameras_of(stream) if demand.id in camera_ids]
        self.period = 1.0 / max(rates) if rates and max(rates) > 0 else 0.0
        self._last_searched: float | None = None

    # --- Analyzer protocol -------------------------------------------------------------------------------

    def on_frame(self, frame: AnalysedFrame) -> None:
        if not self._due(frame.captured_at):
            return
        if not frame.motion.active and not self.tracker.tracks:
            return
        self._last_searched = frame.captured_at
        pixels = frame.pixels
        faces = self.engine.detect(pixels, within=self._search_region(frame))
        self.frames_searched += 1
        shots = [
            Shot(
                box=(face.box.x, face.box.y, face.box.w, face.box.h),
                captured_at=frame.captured_at,
                quality=quality.quality(pixels, face, subject="Video")["score"],
                face=face,
            )
            for face in faces
        ]
        tracks = self.tracker.update(shots)
        for shot, track in zip(shots, tracks, strict=True):
            embeddable = shot.box[2] >= MIN_EMBED_WIDTH
            if track.unconfirmed is shot:
                # The face continues a track seen a few frames ago: the model says whether it is still them.
                if embeddable:
                    shot.pixels = pixels
                    self._embed(shot)
                    other = self.tracker.confirm(track, shot)
                    if other is not track or track.wants_embedding(shot):
                        other.add_embedded(shot)
                    track = other
                else:
                    track.unconfirmed = None
            elif embeddable and track.wants_embedding(shot) and not self._confident(track):
                shot.pixels = pixels
                self._embed(shot)
                track.add_embedded(shot)
                track = self.tracker.rejoin(track)
            if track.best is shot:
                shot.pixels = pixels
            self._decide(track)
        self._close_tracks(frame.captured_at)

    def tick(self, now: float, stats: DecoderStats) -> None:
        self._close_tracks(now)

    def close(self) -> None:
        for track in list(self.tracker.tracks.values()):
            self._finish(track)
        self.tracker.tracks.clear()

    # --- Work --------------------------------------------------------------------------------------------

    def _due(self, captured_at: float) -> bool:
        """Whether a frame captured then falls at the analysis rate (a tenth of a period early is on time: the
        decoder's frames come at its own rate, a little unevenly)."""
        last = self._last_searched
        return last is None or captured_at < last or captured_at - last >= 0.9 * self.period

    def _search_region(self, frame: AnalysedFrame) -> tuple[int, int, int, int] | None:
        """Where to look for faces in this frame (x, y, width, height), or None for the whole frame."""
        boxes = list(frame.motion.regions) + [track.box for track in self.tracker.tracks.values()]
        height, width = frame.pixels.shape[:2]
        if not boxes:
            # Motion without regions (a gate that reports none): the whole frame, as before.
            return None
        x0 = min(box[0] for box in boxes)
        y0 = min(box[1] for box in boxes)
        x1 = max(box[0] + box[2] for box in boxes)
        y1 = max(box[1] + box[3] for box in boxes)
        pad = SEARCH_PADDING * width
        minimum = SEARCH_MIN_SIDE * width
        grow_x = max(pad, (minimum - (x1 - x0)) / 2)
        grow_y = max(pad, (minimum - (y1 - y0)) / 2)
        x0, x1 = max(0, int(x0 - grow_x)), min(width, int(x1 + grow_x + 1))
        y0, y1 = max(0, int(y0 - grow_y)), min(height, int(y1 + grow_y + 1))
        if (x1 - x0) * (y1 - y0) > WHOLE_FRAME_SHARE * width * height:
            return None
        return (x0, y0, x1 - x0, y1 - y0)

    def _embed(self, shot: Shot) -> None:
        shot.embedding = self.engine.embed(shot.pixels, shot.face)
        self.embeddings += 1
        matches = matching.identify(shot.embedding, limit=CANDIDATES, engine=self.engine)
        shot.candidates = [Candidate(match.profile, match.distance) for match in matches]

    def _decide(self, track: FaceTrack) -> None:
        decision = track.decide(self.threshold)
        stored = track.state.get("decision")
        if decision is None or decision.person is None:
            # Nobody enrolled is near the first shot: the track is an unknown person for now, at once (the
            # live view shows the stranger without waiting for them to leave); a later, better shot that names
            # someone turns this same detection into theirs.
            if stored is None and track.embedded:
                self._store(track, self._unknown(track, decision))
            return
        if stored is None or stored.person != decision.person:
            self._store(track, decision)
            return
        best = track.best
        if best is not None and best.pixels is not None and best.quality >= stored.shot.quality + UPDATE_MARGIN:
            # A better shot of the same person: the detection takes it (thumbnail, box, capture time).
            self._store(track, Decision(stored.person, decision.distance, decision.margin, best))

    def _confident(self, track: FaceTrack) -> bool:
        stored = track.state.get("decision")
        return (
            stored is not None
            and stored.person is not None
            and stored.distance is not None
            and stored.distance <= CONFIDENT_SHARE * self.threshold
        )

    def _unknown(self, track: FaceTrack, decision: Decision | None) -> Decision:
        shot = track.best if track.best is not None and track.best.pixels is not None else track.embedded[-1]
        if decision is not None:
            return Decision(None, decision.distance, decision.margin, shot)
        nearest = sorted(c.distance for s in track.embedded for c in s.candidates)
        margin = nearest[1] - nearest[0] if len(nearest) > 1 else None
        return Decision(None, nearest[0] if nearest else None, margin, shot)

    def _close_tracks(self, now: float) -> None:
        for track in self.tracker.expire(now):
            self._finish(track)

    def _finish(self, track: FaceTrack) -> None:
        """A track left the picture: an unknown person's detection gets the track's best crop."""
        stored = track.state.get("decision")
        if stored is None and track.embedded:
            self._store(track, self._unknown(track, track.decide(self.threshold)))
        elif stored is not None and stored.person is None and _a_better_crop(track.best, stored.shot):
            self._store(track, Decision(None, stored.distance, stored.margin, track.best))

    def _store(self, track: FaceTrack, decision: Decision) -> None:
        shot = decision.shot
        if shot.pixels is None:
            return
        x, y, w, h = shot.box
        confidence = (1.0 - decision.distance) * 100 if decision.person is not None else shot.face.confidence * 100
        verdict = detections.TrackVerdict(
            track_id=track.id,
            profile=decision.person,
            distance=decision.distance,
            margin=decision.margin,
            confidence=max(0.0, min(100.0, confidence)),
            box={"top": y, "left": x, "width": w, "height": h},
            captured_at=shot.captured_at,
            shots=len(track.embedded),
            threshold=self.threshold,
            # Only an unknown track needs these (its cluster, recognition.unknowns): no model run, no copy.
            embedding=track.embedding if decision.person is None else None,
            quality=shot.quality,
        )
        close_old_connections()
        from cameras.models import Camera

        for camera in Camera.objects.filter(pk__in=self.camera_ids):
            previous = track.state.get(f"detection:{camera.pk}")
            detection, _ = detections.record_track(camera, shot.pixels, verdict, existing=previous)
            track.state[f"detection:{camera.pk}"] = detection
        track.state["decision"] = decision
        # Only the stored shot's frame is still needed; the rest of the track's frames can go.
        for other in track.embedded:
            if other is not shot and other is not track.best:
                other.pixels = None


def _a_better_crop(best: Shot | None, stored: Shot) -> bool:
    return best is not None and best is not stored and best.pixels is not None


def face_analyzer(stream: VisionStream) -> FaceAnalyzer | None:
    """The analyzer factory: streams with at least one camera that has recognition on."""
    demands = [demand for demand in cameras_of(stream) if demand.settings.get("recognition_enabled")]
    if not demands:
        return None
    # Cameras sharing one stream share its tracks and their decisions: the strictest of their thresholds holds.
    own = [demand.settings["match_threshold"] for demand in demands if demand.settings.get("match_threshold")]
    analyzer = FaceAnalyzer(stream, [demand.id for demand in demands], threshold=min(own) if own else None)
    # Loading the model takes seconds: in the background, so the worker's beat (its leases) is not held up;
    # the first frame with motion waits for it on the engine's lock.
    threading.Thread(target=_load_quietly, args=(analyzer.engine,), name="face engine load", daemon=True).start()
    return analyzer


def _load_quietly(engine: FaceEngine) -> None:
    try:
        engine.load()
    except Exception:  # the first frame's detection raises it again, where the pipeline logs it
        logger.exception("the face engine could not load")
