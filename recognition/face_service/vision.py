"""004 sessions on the vision pipeline: the cameras of running sessions are watched by the vision workers.

Recognition asks the pipeline (:mod:`cameras.vision.registry`) for the stream of every active camera of an
active session (kind ``session-camera``); a session camera with the same URL as a platform camera shares
its decoder. Its analyzer (:class:`SessionCameraWatch`) looks for faces in the frames where something
moved, at most ``FACE_SERVICE_ANALYSIS_FPS`` a second, and in at least one frame per ``scanInterval``
whatever moved (someone sitting still is still present); each face is matched against the session's
students (:func:`recognition.face_service.scanning.match_faces`). Every ``scanInterval`` seconds it reports
what it saw (:func:`recognition.face_service.scanning.record_report`): a student recognised for the first
time becomes one result, timed at the capture of the frame that matched best, and the callback delivery
is queued. So ``scanInterval`` is the rate results are reported at, no longer how often a frame is taken.

The faces are followed across frames with the camera analysis's tracks (:mod:`recognition.tracking`: box
overlap, then embedding): the model runs for a track's first shot and markedly better ones only, and a track
names a student when its best shots are within the session's threshold and nearer that student than the
runner-up (the top-1/top-2 margin). A student is one result per session, whichever camera and however many
tracks saw them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import connection

from cameras.vision.decoder import DecoderStats
from cameras.vision.registry import AnalysedFrame, StreamDemand, VisionStream
from recognition import quality
from recognition.face_service import conf, scanning
from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.models import SessionCamera, SessionStudent
from recognition.tracking import Candidate, FaceTrack, FaceTracker, Shot
from recognition.vision import MIN_EMBED_WIDTH, video_engine

logger = logging.getLogger("argus.face_service")

# Students kept per embedded shot, for the track's top-1/top-2 decision.
CANDIDATES = 3

SESSION_CAMERA = "session-camera"


def session_camera_demands() -> Iterator[StreamDemand]:
    """Demand provider: every active camera of an active session."""
    cameras = SessionCamera.objects.select_related("session").filter(
        status=SessionCameraStatus.ACTIVE, session__status=SessionStatus.ACTIVE
    )
    for camera in cameras.order_by("pk"):
        session = camera.session
        yield StreamDemand(
            kind=SESSION_CAMERA,
            id=str(camera.pk),
            url=camera.rtsp_url,
            fps=conf.analysis_fps(),
            settings={
                "session": str(session.pk),
                "scan_interval": session.scan_interval,
                "threshold": session.similarity_threshold,
            },
            label=f"slot {session.slot_id} camera {camera.camera_id}",
        )


@dataclass
class Sighting:
    """A student's best match in the current reporting period."""

    similarity: float
    box: dict
    captured_at: float


class SessionCameraWatch:
    """One session camera's face analysis on its stream's frames, reported every ``scanInterval``.

    The faces are searched in a thread of the watch's own: a search takes far longer than a frame lasts, and
    the stream's other analyzers (counting wants every frame) must not wait for it. The stream's thread only
    picks the frames to search and hands over the newest; one picked while a search runs replaces the one
    waiting.
    """

    def __init__(self, demand: StreamDemand) -> None:
        self.camera_pk = int(demand.id)
        self.session_id = str(demand.settings["session"])
        self.interval = max(1.0, float(demand.settings["scan_interval"]))
        self.session_threshold = float(demand.settings["threshold"])
        self.min_gap = 1.0 / max(0.1, demand.fps)
        self.engine = None
        self.threshold = 1.0
        # The students are fixed for the session's life: read once, here (the search thread reads no database).
        self.students = [
            (pk, np.asarray(vector, dtype=np.float32))
            for pk, vector in SessionStudent.objects.filter(session_id=self.session_id).values_list("pk", "embedding")
        ]
        matrix = np.stack([vector for _, vector in self.students]) if self.students else np.zeros((0, 1))
        self._matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        self.tracker = FaceTracker()
        self.picked_at = 0.0  # capture time of the last frame picked for a search
        self.reported_at = time.time()
        self.period = scanning.Period()
        self.sightings: dict[int, Sighting] = {}
        self._lock = threading.Lock()
        self._waiting: tuple[np.ndarray, float] | None = None
        self._busy = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_frame(self, frame: AnalysedFrame) -> None:
        captured = frame.captured_at
        since = captured - self.picked_at
        # Where something moved, at the analysis rate; and once per interval whatever moved.
        if since < self.min_gap or not (frame.motion.active or since >= self.interval):
            return
        self.picked_at = captured
        with self._lock:
            self._waiting = (frame.pixels, captured)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"faces session camera {self.camera_pk}")
            self._thread.daemon = True
            self._thread.start()
        self._wake.set()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Whether every frame handed over has been searched, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._waiting is None and not self._busy:
                    return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(0.5)
                self._wake.clear()
                with self._lock:
                    waiting, self._waiting = self._waiting, None
                    self._busy = waiting is not None
                if waiting is None:
                    continue
                try:
                    self._search(*waiting)
                except Exception:  # one frame's failure must not end the camera's analysis
                    logger.exception("face search of session camera %s failed", self.camera_pk)
                finally:
                    with self._lock:
                        self._busy = False
        finally:
            connection.close()

    def _search(self, pixels: np.ndarray, captured: float) -> None:
        if self.engine is None:
            # In the search thread, on the first frame: loading the model must not hold up the worker's beat.
            self.engine = video_engine()
            self.threshold = scanning.effective_threshold(self.session_threshold, self.engine)
        started = time.perf_counter()
        faces = self.engine.detect(pixels)
        shots = [
            Shot(
                box=(face.box.x, face.box.y, face.box.w, face.box.h),
                captured_at=captured,
                quality=quality.quality(pixels, face, subject="Video")["score"],
                face=face,
            )
            for face in faces
        ]
        named: list[FaceTrack] = []
        for shot, track in zip(shots, self.tracker.update(shots), strict=True):
            embeddable = shot.box[2] >= MIN_EMBED_WIDTH
            if track.unconfirmed is shot:
                # The face continues a track seen a few frames ago: the model says whether it is still them.
                if embeddable:
                    self._embed(shot, pixels)
                    other = self.tracker.confirm(track, shot)
                    if other is not track or track.wants_embedding(shot):
                        other.add_embedded(shot)
                    track = other
                else:
                    track.unconfirmed = None
            # The model runs for a track's first shot and for markedly better ones only, not once per frame.
            elif embeddable and track.wants_embedding(shot) and track.state.get("student") is None:
                self._embed(shot, pixels)
                track.add_embedded(shot)
                track = self.tracker.rejoin(track)
            decision = track.decide(1.0 - self.threshold)
            if decision is not None and decision.person is not None:
                track.state["student"] = decision
                named.append(track)
        self.tracker.expire(captured)
        with self._lock:
            self.period.add(faces=len(faces), matched=len(named), seconds=time.perf_counter() - started, at=captured)
            for track in named:
                decision = track.state["student"]
                similarity = 1.0 - decision.distance
                best = self.sightings.get(decision.person)
                if best is None or similarity > best.similarity:
                    box = decision.shot.face.box.as_api()
                    self.sightings[decision.person] = Sighting(similarity, box, decision.shot.captured_at)

    def _embed(self, shot: Shot, pixels: np.ndarray) -> None:
        shot.embedding = self.engine.embed(pixels, shot.face)
        shot.candidates = self._candidates(shot.embedding)

    def _candidates(self, embedding: np.ndarray) -> list[Candidate]:
        """The session's students nearest to ``embedding`` (cosine distance), for the track's decision."""
        if not self.students:
            return []
        unit = embedding / max(float(np.linalg.norm(embedding)), 1e-12)
        distances = 1.0 - self._matrix @ unit
        nearest = np.argsort(distances)[:CANDIDATES]
        return [Candidate(self.students[i][0], float(distances[i])) for i in nearest]

    def tick(self, now: float, stats: DecoderStats) -> None:
        if now - self.reported_at >= self.interval:
            self._report(now, stats)

    def close(self) -> None:
        self.wait_idle(timeout=5.0)  # what was seen before the stream was let go is still reported
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
        self._report(time.time(), None)

    def _report(self, now: float, stats: DecoderStats | None) -> None:
        self.reported_at = now
        with self._lock:
            period, self.period = self.period, scanning.Period()
            sightings, self.sightings = self.sightings, {}
        error = ""
        if stats is not None and not period.frames and not stats.connected:
            error = stats.last_error or "no frame from the camera"
        scanning.record_report(
            self.camera_pk,
            period,
            [
                scanning.FaceMatch(student_id, sighting.similarity, sighting.box, sighting.captured_at)
                for student_id, sighting in sightings.items()
            ],
            error=error,
        )


class SessionCameras:
    """The analyzer of one stream: the watch of every session camera on it."""

    def __init__(self, watches: list[SessionCameraWatch]) -> None:
        self.watches = watches

    def on_frame(self, frame: AnalysedFrame) -> None:
        for watch in self.watches:
            watch.on_frame(frame)

    def tick(self, now: float, stats: DecoderStats) -> None:
        for watch in self.watches:
            watch.tick(now, stats)

    def close(self) -> None:
        for watch in self.watches:
            watch.close()


def watch_session_cameras(stream: VisionStream) -> SessionCameras | None:
    """Analyzer factory: the session cameras on ``stream``; None when there are none."""
    watches = [SessionCameraWatch(demand) for demand in stream.demands_of(SESSION_CAMERA)]
    return SessionCameras(watches) if watches else None


def register() -> None:
    """Called from recognition's ``ready()``: session cameras are watched by the vision workers."""
    from cameras.vision import registry

    registry.register_demands("face-service-sessions", session_camera_demands)
    registry.register_analyzer("face-service-sessions", watch_session_cameras, order=60)
