"""The video counter's accuracy on generated footage with a known answer: it must be exact.

The standard scene (24 s, 640x360, 25 fps, H.264) has 16 walkers: 6 crossings "in" and 7 "out" over a
horizontal line, with people walking parallel to it, passing beside its end, standing near it, overlapping
briefly, passing each other on it, turning back, walking slowly and fast. The expected counts come from the
walkers' paths, not from the counter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from counting.video.config import CountingConfig
from counting.video.counter import VideoCounter
from counting.video.geometry import Polygon
from counting.video.runner import RunResult, count_frames
from counting.video.sources import Frame, VideoFile
from counting.video.synthetic import STANDARD_LINE, STANDARD_ZONE, Scene, jitter_scene, standard_scene


@pytest.fixture(scope="module")
def standard() -> Scene:
    return standard_scene()


@pytest.fixture(scope="module")
def standard_video(standard: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return standard.render(tmp_path_factory.mktemp("synthetic") / "standard.mp4")


def count_file(path: Path, config: CountingConfig, interval: float = 60) -> RunResult:
    video = VideoFile(path)
    try:
        return count_frames(video, config, source_size=(video.width, video.height), interval=interval)
    finally:
        video.close()


def count_scene(scene: Scene, config: CountingConfig) -> RunResult:
    """Straight from the renderer, no video codec in between."""
    frames = (Frame(image, index / scene.fps, index) for index, image in enumerate(scene.frames()))
    return count_frames(frames, config, source_size=(scene.width, scene.height), fps=scene.fps)


def test_the_standard_scene_has_the_crossings_it_was_designed_with(standard):
    assert standard.expected_line_counts() == {"in": 6, "out": 7}
    assert standard.expected_zone_counts() == {"in": 8, "out": 8}


def test_line_counts_are_exact(standard, standard_video):
    result = count_file(standard_video, CountingConfig(mode="line", line=STANDARD_LINE))
    assert result.totals == standard.expected_line_counts() == {"in": 6, "out": 7}


def test_one_track_per_walker(standard, standard_video):
    result = count_file(standard_video, CountingConfig(mode="line", line=STANDARD_LINE))
    # No walker was split into several tracks, none merged into another's for good.
    assert result.tracks == len(standard.walkers)


def test_reversing_the_line_swaps_in_and_out(standard_video):
    result = count_file(standard_video, CountingConfig(mode="line", line=STANDARD_LINE.reversed()))
    assert result.totals == {"in": 7, "out": 6}


def test_in_side_left_swaps_in_and_out(standard_video):
    result = count_file(standard_video, CountingConfig(mode="line", line=STANDARD_LINE, in_side="left"))
    assert result.totals == {"in": 7, "out": 6}


def test_zone_entries_and_exits_are_exact(standard, standard_video):
    result = count_file(standard_video, CountingConfig(mode="zone", zone=STANDARD_ZONE))
    assert result.totals == standard.expected_zone_counts() == {"in": 8, "out": 8}


def test_a_zone_nobody_walks_into_counts_nothing(standard, standard_video):
    corner = Polygon(((5, 200), (60, 200), (60, 250), (5, 250)))
    assert standard.expected_zone_counts(corner) == {"in": 0, "out": 0}
    result = count_file(standard_video, CountingConfig(mode="zone", zone=corner))
    assert result.totals == {"in": 0, "out": 0}


def test_a_short_line_counts_only_what_crosses_it(standard, standard_video):
    from counting.video.geometry import Line

    left_part = Line(40, 180, 230, 180)
    expected = standard.expected_line_counts(left_part)
    assert expected == {"in": 3, "out": 3}  # first, diagonal and U-turn walkers in; U-turn and side-by-side pair out
    result = count_file(standard_video, CountingConfig(mode="line", line=left_part))
    assert result.totals == expected


def test_a_walker_swaying_on_the_line_is_counted_once():
    scene = jitter_scene()
    assert scene.expected_line_counts() == {"in": 1, "out": 0}
    result = count_scene(scene, CountingConfig(mode="line", line=scene.line))
    assert result.totals == {"in": 1, "out": 0}


def test_swaying_at_a_zone_edge_is_one_entry_and_one_exit():
    scene = jitter_scene()
    expected = scene.expected_zone_counts()
    assert expected == {"in": 2, "out": 2}
    result = count_scene(scene, CountingConfig(mode="zone", zone=scene.zone))
    assert result.totals == expected


def test_intervals_add_up_to_the_totals(standard_video):
    result = count_file(standard_video, CountingConfig(mode="line", line=STANDARD_LINE), interval=5)
    assert [round(i.start, 2) for i in result.intervals] == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert sum(i.entered for i in result.intervals) == 6
    assert sum(i.exited for i in result.intervals) == 7
    assert sum(i.frames for i in result.intervals) == result.frames == 600
    assert all(0 < i.confidence <= 1 for i in result.intervals)


def test_coordinates_follow_the_frame_they_were_drawn_on(standard_video):
    # The same line drawn on a 1280x720 snapshot of the camera: the counter scales it to the video.
    doubled = STANDARD_LINE.scaled(2, 2)
    config = CountingConfig(mode="line", line=doubled, frame=(1280, 720))
    assert count_file(standard_video, config).totals == {"in": 6, "out": 7}


def test_large_frames_are_processed_at_320_pixels():
    counter = VideoCounter(CountingConfig(mode="line", line=STANDARD_LINE.scaled(3, 3)), (1920, 1080))
    assert counter.size == (320, 180)
    assert counter.config.line == STANDARD_LINE.scaled(0.5, 0.5)
