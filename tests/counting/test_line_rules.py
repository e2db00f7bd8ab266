"""The counting line and zone: geometry, the crossing rule with its hysteresis, the tracker, interval tallies."""

from __future__ import annotations

import pytest

from counting.video.counter import LineRule, ZoneRule
from counting.video.detection import Detection
from counting.video.geometry import Line, Polygon, polygon_area
from counting.video.runner import IntervalTally
from counting.video.tracking import CentroidTracker, Track

LINE = Line(0, 100, 200, 100)  # left to right: its right-hand side ("in") is below it on the screen


def track_at(track_id: int, x: float, y: float, observed: bool = True) -> Track:
    track = Track(id=track_id, x=x, y=y, box=(0, 0, 1, 1), observed=observed)
    track.last_seen = (x, y)
    return track


def walk(rule, points, track_id: int = 1) -> list[str]:
    directions = []
    for frame, (x, y) in enumerate(points):
        directions += [event.direction for event in rule.update([track_at(track_id, x, y)], frame / 25, frame)]
    return directions


# --- Geometry ---------------------------------------------------------------------------------------


def test_below_a_left_to_right_line_is_its_right_hand_side():
    assert LINE.signed_distance((50, 130)) == pytest.approx(30)
    assert LINE.signed_distance((50, 70)) == pytest.approx(-30)


def test_reversing_a_line_flips_its_sides():
    assert LINE.reversed().signed_distance((50, 130)) == pytest.approx(-30)


def test_a_move_through_the_segment_crosses_it():
    assert LINE.crosses_segment((50, 80), (50, 120))
    assert LINE.crossing_parameter((50, 80), (50, 120)) == pytest.approx(0.25)


def test_a_move_beside_the_segment_does_not_cross_it():
    assert not LINE.crosses_segment((250, 80), (250, 120))
    assert LINE.crossing_parameter((250, 80), (250, 120)) == pytest.approx(1.25)


def test_a_move_parallel_to_the_line_has_no_crossing_point():
    assert LINE.crossing_parameter((10, 80), (90, 80)) is None


def test_polygon_inside_is_positive():
    square = Polygon(((0, 0), (100, 0), (100, 100), (0, 100)))
    assert square.signed_distance((50, 50)) == pytest.approx(50)
    assert square.signed_distance((150, 50)) == pytest.approx(-50)
    assert square.contains((1, 1)) and not square.contains((101, 1))


def test_polygon_area():
    assert polygon_area([(0, 0), (10, 0), (10, 10), (0, 10)]) == 100
    assert polygon_area([(0, 0), (5, 5), (10, 10)]) == 0


# --- The crossing rule --------------------------------------------------------------------------------


def test_walking_down_through_the_line_is_one_in():
    assert walk(LineRule(LINE, band=5, confirm_frames=3), [(50, y) for y in range(60, 150, 4)]) == ["in"]


def test_walking_up_through_the_line_is_one_out():
    assert walk(LineRule(LINE, band=5, confirm_frames=3), [(50, y) for y in range(150, 60, -4)]) == ["out"]


def test_swaying_inside_the_band_counts_nothing():
    points = [(50, 80), *[(50, 100 + (4 if i % 2 else -4)) for i in range(40)]]
    assert walk(LineRule(LINE, band=5, confirm_frames=3), points) == []


def test_brief_excursions_past_the_band_count_nothing():
    # Two frames beyond the band on the far side, then back: the streak of three is never reached.
    points = [(50, 80)] * 3 + [(50, 110)] * 2 + [(50, 80)] * 3 + [(50, 110)] * 2 + [(50, 80)] * 3
    assert walk(LineRule(LINE, band=5, confirm_frames=3), points) == []


def test_a_track_counts_once_per_direction():
    down_up_down = (
        [(50, y) for y in range(60, 150, 5)]
        + [(50, y) for y in range(150, 60, -5)]
        + [(50, y) for y in range(60, 150, 5)]
    )
    assert walk(LineRule(LINE, band=5, confirm_frames=3), down_up_down) == ["in", "out"]


def test_passing_beside_the_segment_counts_nothing():
    assert walk(LineRule(LINE, band=5, confirm_frames=3), [(260, y) for y in range(60, 150, 4)]) == []


def test_coasting_positions_decide_nothing():
    rule = LineRule(LINE, band=5, confirm_frames=1)
    rule.update([track_at(1, 50, 60)], 0, 0)
    assert rule.update([track_at(1, 50, 140, observed=False)], 0.04, 1) == []
    assert [e.direction for e in rule.update([track_at(1, 50, 140)], 0.08, 2)] == ["in"]


def test_a_crossing_under_way_when_the_video_ends_is_counted():
    rule = LineRule(LINE, band=5, confirm_frames=3)
    walk(rule, [(50, 80), (50, 90), (50, 103)])  # last seen past the line, inside the band
    events = rule.finish([track_at(1, 50, 103)], 1.0, 3)
    assert [e.direction for e in events] == ["in"]


def test_zone_entry_is_in_and_exit_is_out():
    zone = ZoneRule(Polygon(((100, 100), (200, 100), (200, 200), (100, 200))), band=5, confirm_frames=3)
    assert walk(zone, [(x, 150) for x in range(50, 260, 5)]) == ["in", "out"]


def test_a_track_born_inside_the_zone_has_not_entered_it():
    zone = ZoneRule(Polygon(((100, 100), (200, 100), (200, 200), (100, 200))), band=5, confirm_frames=3)
    assert walk(zone, [(x, 150) for x in range(150, 260, 5)]) == ["out"]


# --- The tracker -----------------------------------------------------------------------------------------


def blob(x: float, y: float) -> Detection:
    return Detection(x=x, y=y, box=(int(x) - 5, int(y) - 10, 10, 20), area=200)


def test_a_track_keeps_its_id_through_a_short_gap():
    tracker = CentroidTracker(max_distance=20, max_missed=10)
    for step in range(5):
        tracker.update([blob(10 + 4 * step, 50)])
    for _ in range(6):  # hidden for six frames while it keeps walking
        tracker.update([])
    (track,) = tracker.update([blob(10 + 4 * 11, 50)])
    assert track.id == 1 and track.observed and tracker.started == 1


def test_a_track_ends_after_its_gap_runs_out():
    tracker = CentroidTracker(max_distance=20, max_missed=3)
    tracker.update([blob(10, 50)])
    for _ in range(4):
        tracker.update([])
    assert tracker.tracks == [] and [t.id for t in tracker.ended] == [1]


def test_two_walkers_keep_their_own_tracks():
    tracker = CentroidTracker(max_distance=20, max_missed=5)
    for step in range(10):
        tracks = tracker.update([blob(10 + 3 * step, 50), blob(200 - 3 * step, 90)])
    assert {(t.id, round(t.x)) for t in tracks} == {(1, 37), (2, 173)}


# --- Intervals ---------------------------------------------------------------------------------------------


def test_intervals_are_aligned_to_the_origin():
    closed = []
    tally = IntervalTally(60, origin=0.0, on_close=closed.append)
    for moment in (130.0, 150.0, 185.0, 250.0):
        tally.frame(moment)
    tally.finish(251.0)
    assert [(i.start, i.end, i.frames) for i in closed] == [(130.0, 180.0, 2), (180.0, 240.0, 1), (240.0, 251.0, 1)]
