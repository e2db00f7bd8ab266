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

The database may be away (restarted, failing over) while people pass. A shot whose search failed keeps its
embedding and is searched again before its track is decided; a decision whose write failed is written again,
and so is an announcement; retries wait a backoff that doubles up to :data:`RETRY_MAX_SECONDS`. A track that
leaves the picture with work left keeps only that (its embeddings, decision and thumbnail crops, not its
frames) in the process's :data:`PENDING` list, worked off by a thread of its own once the database is back;
the list holds at most :data:`PENDING_MAX_TRACKS` tracks, and past that the oldest is given up, logged as an
error. Writes are idempotent per (camera, track id) (``recognition.detections.record_track``), so a retry after
an unknown outcome finds its detection, and attendance takes a repeated announcement as the same sighting.
"""

from __future__ import annotations

import atexit
import copy
import logging
import threading
import time
from collections import deque

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from cameras.vision.camera_streams import cameras_of
from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, VisionStream
from recognition import detections, matching, quality
from recognition.engine import FaceEngine, shared_engine
from recognition.signals import announce_recognition
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
# Retries of writes that failed because the database (or Redis) was away: first after RETRY_FIRST_SECONDS,
# then twice as long each time, never longer than RETRY_MAX_SECONDS.
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
# Tracks gone from the picture with writes still to do, per worker process. Each keeps its embeddings and face
# crops (some 100 kB); past the bound the oldest is given up (logged as an error: its detection and
# attendance are lost) so that memory stays bounded however long the database is away.
PENDING_MAX_TRACKS = 200
# A failing dependency is logged at most once per this many seconds (per analyzer, and for the pending list).
FAILURE_LOG_SECONDS = 30.0
# Failures that pass: the write is kept and tried again. Any other error is a bug: logged, and not retried.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


class Backoff:
    """When to try the database again after failures: a doubling wait, bounded; the outage is logged once when it
    starts (and at most every FAILURE_LOG_SECONDS while it lasts) and once when it ends."""

    def __init__(self, what: str, clock=time.monotonic) -> None:
        self.what = what
        self.clock = clock
        self.failures = 0
        self.retry_at = 0.0
        self.since: float | None = None
        self._logged_at = -FAILURE_LOG_SECONDS

    def ready(self) -> bool:
        return self.clock() >= self.retry_at

    def failed(self, error: BaseException, doing: str) -> None:
        now = self.clock()
        self.failures += 1
        if self.since is None:
            self.since = now
        # The exponent stops growing long before a long outage's failure count would overflow a float.
        self.retry_at = now + min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** min(self.failures - 1, 20))
        if now - self._logged_at >= FAILURE_LOG_SECONDS:
            self._logged_at = now
            logger.warning(
                "%s: could not %s (%s: %s); kept, retrying (%s failures in %.0f s)",
                self.what,
                doing,
                type(error).__name__,
                str(error).strip().splitlines()[0] if str(error).strip() else "",
                self.failures,
                now - self.since,
            )

    def succeeded(self) -> None:
        if self.failures:
            logger.warning(
                "%s: the database answers again after %s failures in %.0f s; catching up",
                self.what,
                self.failures,
                self.clock() - (self.since or self.clock()),
            )
        self.failures = 0
        self.retry_at = 0.0
        self.since = None


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
        self.backoff = Backoff(f"faces of {', '.join(camera_ids)}")

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

    def pending(self) -> int:
        """Open tracks with writes still to do (retried on their next frames), for tests and logs."""
        return sum(1 for track in self.tracker.tracks.values() if _unsettled(track))

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
        shot.searched = False
        self._search(shot, self.backoff)

    def _search(self, shot: Shot, backoff: Backoff) -> bool:
        """The enrolled people nearest to an embedded shot (pgvector), unless already known. False when the
        database cannot answer now: the shot keeps its embedding and is searched again later."""
        if shot.searched:
            return True
        if not backoff.ready():
            return False
        try:
            close_old_connections()
            matches = matching.identify(shot.embedding, limit=CANDIDATES, engine=self.engine)
        except TRANSIENT_ERRORS as error:
            backoff.failed(error, "search a face")
            return False
        backoff.succeeded()
        shot.candidates = [Candidate(match.profile, match.distance) for match in matches]
        shot.searched = True
        return True

    def _searched(self, track: FaceTrack, backoff: Backoff) -> bool:
        """Whether every embedded shot of the track has its candidates (searching those left over first)."""
        return all(self._search(shot, backoff) for shot in track.embedded)

    def _decide(self, track: FaceTrack) -> None:
        self._announce(track, self.backoff)
        if not self._searched(track, self.backoff):
            return  # a shot not searched yet may name the person: no decision without it
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
        shot = track.best if _has_image(track.best) else track.embedded[-1]
        if decision is not None:
            return Decision(None, decision.distance, decision.margin, shot)
        nearest = sorted(c.distance for s in track.embedded for c in s.candidates)
        margin = nearest[1] - nearest[0] if len(nearest) > 1 else None
        return Decision(None, nearest[0] if nearest else None, margin, shot)

    def _close_tracks(self, now: float) -> None:
        for track in self.tracker.expire(now):
            self._finish(track)

    def _finish(self, track: FaceTrack) -> None:
        """A track left the picture: its last writes (an unknown person's detection gets the track's best crop).
        What the database cannot take now waits in the pending list."""
        if not self._complete(track, self.backoff):
            PENDING.add(self, track)

    def _complete(self, track: FaceTrack, backoff: Backoff) -> bool:
        """Do what a track that left still needs written; True once nothing is left."""
        if not self._announce(track, backoff) or not self._searched(track, backoff):
            return False
        stored = track.state.get("decision")
        decision = track.decide(self.threshold)
        if decision is not None and decision.person is not None:
            if stored is None or stored.person != decision.person:
                return self._store(track, decision, backoff)
            return True
        if stored is None and track.embedded:
            return self._store(track, self._unknown(track, decision), backoff)
        if stored is not None and stored.person is None and _a_better_crop(track.best, stored.shot):
            return self._store(track, Decision(None, stored.distance, stored.margin, track.best), backoff)
        return True

    def _store(self, track: FaceTrack, decision: Decision, backoff: Backoff | None = None) -> bool:
        """Write the track's decision on each camera, then announce it. False when the database cannot take it
        now: what is stored so far stays, and the next attempt starts where this one stopped. Each camera's write
        is idempotent (its detection's id comes from the camera and the track), so a write whose outcome was
        lost is found again rather than doubled."""
        backoff = backoff or self.backoff
        shot = decision.shot
        if not _has_image(shot):
            return True  # nothing to show for it (as before: such a decision is not stored)
        if not backoff.ready():
            return False
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
        key = _decision_key(decision)
        camera_id = None
        try:
            close_old_connections()
            from cameras.models import Camera

            for camera in Camera.objects.filter(pk__in=self.camera_ids):
                camera_id = camera.pk
                if track.state.get(f"stored:{camera.pk}") == key:
                    continue  # written by an earlier attempt
                previous = track.state.get(f"detection:{camera.pk}")
                detection, _ = detections.record_track(
                    camera, shot.pixels, verdict, existing=previous, crop=shot.crop, announce=False
                )
                track.state[f"detection:{camera.pk}"] = detection
                track.state[f"stored:{camera.pk}"] = key
                if decision.person is not None and track.state.get(f"announced:{camera.pk}") != detection.person_id:
                    # The detection as it is now: what attendance hears, however the row changes later.
                    track.state.setdefault("announce", {})[camera.pk] = (camera, copy.copy(detection))
        except TRANSIENT_ERRORS as error:
            if camera_id is not None:
                # The row may or may not hold this attempt: the next one reads it again by its id.
                track.state.pop(f"detection:{camera_id}", None)
            backoff.failed(error, f"store the detection of {track.id}")
            return False
        backoff.succeeded()
        track.state["decision"] = decision
        # Only the stored shot's frame is still needed; the rest of the track's frames can go.
        for other in track.embedded:
            if other is not shot and other is not track.best:
                other.pixels = None
        return self._announce(track, backoff)

    def _announce(self, track: FaceTrack, backoff: Backoff) -> bool:
        """Tell attendance (``recognition.signals``) of the track's stored person, per camera, until it has
        heard it. False while an announcement waits for the database."""
        waiting: dict = track.state.get("announce") or {}
        if not waiting:
            return True
        if not backoff.ready():
            return False
        for camera_id, (camera, detection) in list(waiting.items()):
            close_old_connections()
            failures = announce_recognition(detection, camera, log=False)
            passing = [failure for failure in failures if isinstance(failure, TRANSIENT_ERRORS)]
            for failure in failures:
                if failure not in passing:
                    logger.error(
                        "a subscriber failed on the recognition of %s (detection %s); not retried",
                        detection.person_id,
                        detection.pk,
                        exc_info=(type(failure), failure, failure.__traceback__),
                    )
            if passing:
                backoff.failed(passing[0], f"announce {detection.person_id} ({track.id})")
                return False
            del waiting[camera_id]
            track.state[f"announced:{camera_id}"] = detection.person_id
        backoff.succeeded()
        return True


def _a_better_crop(best: Shot | None, stored: Shot) -> bool:
    return best is not None and best is not stored and _has_image(best)


def _has_image(shot: Shot | None) -> bool:
    return shot is not None and (shot.pixels is not None or shot.crop is not None)


def _decision_key(decision: Decision) -> tuple:
    person = getattr(decision.person, "pk", decision.person)
    return (person, decision.shot.captured_at, decision.shot.box)


def _unsettled(track: FaceTrack) -> bool:
    """Whether a track has a search, a write or an announcement waiting (from a failure)."""
    return bool(track.state.get("announce")) or any(not shot.searched for shot in track.embedded)


def _keep_crops_only(track: FaceTrack) -> None:
    """A track that leaves with writes to do keeps its faces as thumbnail crops, not whole frames."""
    shots = [*track.embedded, track.best]
    decision = track.state.get("decision")
    if decision is not None:
        shots.append(decision.shot)
    for shot in shots:
        if shot is not None and shot.pixels is not None:
            x, y, w, h = shot.box
            crop = detections.face_crop(shot.pixels, {"top": y, "left": x, "width": w, "height": h})
            shot.crop, shot.pixels = crop, None


class PendingTracks:
    """The tracks of this process that left the picture with writes still to do, oldest first, worked off by a
    thread of their own (started when the first one comes, gone when none is left) once the database answers.
    At most ``limit``: past it the oldest is given up and logged as an error."""

    def __init__(self, limit: int = PENDING_MAX_TRACKS) -> None:
        self.limit = limit
        self.items: deque[tuple[FaceAnalyzer, FaceTrack]] = deque()
        self.backoff = Backoff("pending face tracks")
        self.given_up = 0
        self.background = True  # tests turn the thread off and call flush() themselves
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self.items)

    def add(self, analyzer: FaceAnalyzer, track: FaceTrack) -> None:
        _keep_crops_only(track)
        with self._lock:
            if len(self.items) >= self.limit:
                _, lost = self.items.popleft()
                self.given_up += 1
                decision = lost.state.get("decision") or lost.decide(analyzer.threshold)
                logger.error(
                    "gave up the writes of face track %s (cameras %s, %s): %s tracks were waiting for the "
                    "database, the most kept; its detection and attendance are lost (%s given up so far)",
                    lost.id,
                    ", ".join(analyzer.camera_ids),
                    getattr(getattr(decision, "person", None), "employee_id", None) or "not named yet",
                    self.limit,
                    self.given_up,
                )
            self.items.append((analyzer, track))
            if self.background and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="pending face tracks", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Write what the database takes now, oldest first, stopping at the first failure; returns how many
        tracks are left."""
        with self._flushing:
            while True:
                with self._lock:
                    if not self.items:
                        return 0
                    analyzer, track = self.items[0]
                try:
                    done = analyzer._complete(track, self.backoff)
                except Exception:  # a bug, not an outage: logged, and the track is not retried forever
                    logger.exception("could not finish face track %s; given up", track.id)
                    done = True
                with self._lock:
                    if not done:
                        return len(self.items)
                    if self.items and self.items[0][1] is track:
                        self.items.popleft()

    def _run(self) -> None:
        try:
            while True:
                time.sleep(max(0.2, self.backoff.retry_at - time.monotonic()))
                with self._lock:
                    if not self.items:
                        self._thread = None
                        return
                self.flush()
        finally:
            connections.close_all()

    def at_exit(self) -> None:
        """The process ends: one last try, and what is still waiting is logged as lost."""
        if not self.items:
            return
        self.backoff.retry_at = 0.0
        left = self.flush()
        if left:
            logger.error("the process ends with %s face tracks still waiting for the database: lost", left)


#: This process's tracks waiting for the database.
PENDING = PendingTracks()
atexit.register(PENDING.at_exit)


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
