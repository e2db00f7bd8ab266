"""Face tracks across frames and the per-track decision (recognition.tracking), without a camera."""

from __future__ import annotations

import numpy as np

from recognition.choices import FACE_MODELS
from recognition.tracking import (
    MAX_EMBEDDINGS,
    MAX_GAP_FRAMES,
    UNKNOWN_AFTER_SHOTS,
    Candidate,
    FaceTracker,
    Shot,
)

THRESHOLD = FACE_MODELS["Dlib"].threshold


def shot(x: int, at: float, quality: float = 0.5, y: int = 100, size: int = 80, **extra) -> Shot:
    return Shot(box=(x, y, size, size), captured_at=at, quality=quality, **extra)


def test_a_face_moving_a_little_stays_on_its_track():
    tracker = FaceTracker()

    first = tracker.update([shot(100, 0.0)])[0]
    second = tracker.update([shot(110, 0.2)])[0]

    assert first is second and len(tracker.tracks) == 1


def test_two_faces_side_by_side_keep_two_tracks():
    tracker = FaceTracker()
    left, right = tracker.update([shot(100, 0.0), shot(400, 0.0)])

    again = tracker.update([shot(405, 0.2), shot(95, 0.2)])

    assert again == [right, left]


def test_a_face_far_from_every_track_starts_a_new_one():
    tracker = FaceTracker()
    first = tracker.update([shot(100, 0.0)])[0]

    other = tracker.update([shot(500, 0.2)])[0]

    assert other is not first and len(tracker.tracks) == 2


def test_a_face_where_someone_was_seen_frames_ago_starts_a_new_track():
    tracker = FaceTracker()
    earlier = tracker.update([shot(100, 0.0)])[0]
    for _ in range(MAX_GAP_FRAMES):
        tracker.update([])

    later = tracker.update([shot(100, 1.0)])[0]

    assert later is not earlier and len(tracker.tracks) == 2


def test_a_face_missed_in_a_frame_or_two_keeps_its_track():
    tracker = FaceTracker()
    first = tracker.update([shot(100, 0.0)])[0]
    tracker.update([])

    assert tracker.update([shot(105, 3.0)])[0] is first


def test_a_new_track_does_not_rejoin_a_track_lost_frames_before():
    tracker = FaceTracker()
    vector = np.ones(8, dtype=np.float32)
    older = tracker.update([shot(100, 0.0, embedding=vector)])[0]
    older.add_embedded(older.best)
    for _ in range(MAX_GAP_FRAMES):
        tracker.update([])
    later = tracker.update([shot(600, 1.5, embedding=vector)])[0]
    later.add_embedded(later.best)

    assert tracker.rejoin(later) is later


def test_a_track_not_seen_for_the_timeout_and_a_few_frames_expires():
    tracker = FaceTracker(timeout=2.0)
    track = tracker.update([shot(100, 10.0)])[0]
    assert tracker.expire(12.5) == []  # no frame searched since: a slow worker, not a face gone
    for _ in range(MAX_GAP_FRAMES + 1):
        tracker.update([])

    assert tracker.expire(11.5) == []
    assert tracker.expire(12.5) == [track]
    assert tracker.tracks == {}


def test_a_new_track_with_the_embedding_of_an_older_one_rejoins_it():
    tracker = FaceTracker()
    vector = np.ones(8, dtype=np.float32)
    older = tracker.update([shot(100, 0.0, embedding=vector)])[0]
    older.add_embedded(older.best)
    jumped = tracker.update([shot(600, 0.2, embedding=vector * 1.01)])[0]
    jumped.add_embedded(jumped.best)

    assert tracker.rejoin(jumped) is older
    assert list(tracker.tracks) == [older.id] and older.box[0] == 600


def test_a_new_track_with_another_embedding_stays_apart():
    tracker = FaceTracker()
    older = tracker.update([shot(100, 0.0, embedding=np.array([1.0, 0.0], np.float32))])[0]
    older.add_embedded(older.best)
    other = tracker.update([shot(600, 0.2, embedding=np.array([0.0, 1.0], np.float32))])[0]
    other.add_embedded(other.best)

    assert tracker.rejoin(other) is other and len(tracker.tracks) == 2


def test_only_the_first_and_markedly_better_shots_are_embedded():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0, quality=0.6)])[0]
    assert track.wants_embedding(track.best)
    track.add_embedded(track.best)

    assert not track.wants_embedding(shot(100, 0.2, quality=0.62))
    assert track.wants_embedding(shot(100, 0.4, quality=0.7))


def test_a_track_stops_asking_for_embeddings_after_the_cap():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0, quality=0.1)])[0]
    for index in range(MAX_EMBEDDINGS):
        track.add_embedded(shot(100, index, quality=0.1 + index * 0.1))

    assert not track.wants_embedding(shot(100, 9.0, quality=1.0))


def test_the_decision_is_the_nearest_person_within_the_threshold_with_the_margin_as_evidence():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0)])[0]
    track.add_embedded(shot(100, 0.0, candidates=[Candidate("ann", 0.10), Candidate("bob", 0.20)]))
    track.add_embedded(shot(100, 0.2, quality=0.9, candidates=[Candidate("ann", 0.05), Candidate("bob", 0.15)]))

    decision = track.decide(THRESHOLD)

    assert decision.person == "ann" and decision.distance == 0.05
    assert round(decision.margin, 3) == 0.10
    assert decision.shot.captured_at == 0.2


def test_a_track_is_undecided_until_enough_shots_miss():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0)])[0]
    for index in range(UNKNOWN_AFTER_SHOTS - 1):
        track.add_embedded(shot(100, index, candidates=[Candidate("ann", 0.3)]))
    assert track.decide(THRESHOLD) is None

    track.add_embedded(shot(100, 5.0, candidates=[Candidate("ann", 0.3)]))
    decision = track.decide(THRESHOLD)

    assert decision.person is None and decision.distance == 0.3


def test_two_people_equally_near_are_not_decided_between():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0)])[0]
    track.add_embedded(shot(100, 0.0, candidates=[Candidate("ann", 0.050), Candidate("bob", 0.052)]))

    assert track.decide(THRESHOLD) is None


def test_a_face_resuming_a_track_with_its_embedding_stays_on_it():
    tracker = FaceTracker()
    vector = np.ones(8, dtype=np.float32)
    track = tracker.update([shot(100, 0.0, embedding=vector)])[0]
    track.add_embedded(track.best)
    tracker.update([])
    resumed = shot(105, 0.4, quality=0.9, embedding=vector)

    assert tracker.update([resumed])[0] is track and track.unconfirmed is resumed
    assert tracker.confirm(track, resumed) is track and track.best is resumed


def test_someone_else_where_a_track_was_a_frame_ago_starts_a_new_track():
    tracker = FaceTracker()
    track = tracker.update([shot(100, 0.0, embedding=np.array([1.0, 0.0], np.float32))])[0]
    track.add_embedded(track.best)
    tracker.update([])
    stranger = shot(105, 0.4, embedding=np.array([0.0, 1.0], np.float32))
    tracker.update([stranger])

    other = tracker.confirm(track, stranger)

    assert other is not track and other.best is stranger and track.box == (100, 100, 80, 80)
    assert len(tracker.tracks) == 2
