"""A live counter skips the frames of a still, empty scene (most of a camera's day) and counts exactly as if it
had looked at every one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from counting.video.config import CountingConfig
from counting.video.counter import CounterParams, VideoCounter
from counting.video.geometry import Line
from counting.video.runner import FrameCounting
from counting.video.sources import Frame, VideoFile
from counting.video.synthetic import STANDARD_LINE, short_scene


def frames_of(path: Path) -> list[Frame]:
    video = VideoFile(path)
    try:
        return list(video)
    finally:
        video.close()


def counted(frames: list[Frame], config: CountingConfig, skip_still: bool) -> tuple[VideoCounter, list]:
    first = frames[0].image
    counter = VideoCounter(config, (first.shape[1], first.shape[0]), skip_still=skip_still)
    counter.prime([frame.image for frame in frames[:75:8]])
    events = []
    for frame in frames:
        events.extend(counter.process(frame.image, frame.time))
    events.extend(counter.finish(frames[-1].time))
    return counter, [(event.direction, event.frame, event.track_id) for event in events]


@pytest.fixture(scope="module")
def walkway(tmp_path_factory: pytest.TempPathFactory) -> list[Frame]:
    """4 s of the empty walkway, then 2 walkers in and 1 out (H.264, as a camera sends it)."""
    return frames_of(short_scene(lead_in=4.0).render(tmp_path_factory.mktemp("still") / "walkway.mp4"))


def test_the_empty_walkways_frames_are_skipped_and_the_crossings_counted_the_same(walkway):
    config = CountingConfig(mode="line", line=STANDARD_LINE)

    looking, every_frame = counted(walkway, config, skip_still=False)
    skipping, with_skips = counted(walkway, config, skip_still=True)

    assert with_skips == every_frame
    assert skipping.totals == looking.totals == {"in": 2, "out": 1}
    assert skipping.frames == looking.frames == len(walkway)
    assert skipping.skipped >= 70  # of the lead-in's 100 frames, one in 25 looked at
    assert looking.skipped == 0


def test_the_real_pedestrians_are_counted_the_same_with_still_frames_skipped(shared_data):
    path = shared_data / "video" / "pedestrians.avi"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    frames = frames_of(path)
    config = CountingConfig(mode="line", line=Line(0, 500, 1280, 500))

    looking, every_frame = counted(frames, config, skip_still=False)
    skipping, with_skips = counted(frames, config, skip_still=True)

    assert with_skips == every_frame
    assert skipping.totals == looking.totals


def test_a_still_picture_is_looked_at_once_a_second():
    rng = np.random.default_rng(5)
    floor = rng.integers(60, 200, size=(180, 320, 3), dtype=np.uint8)
    counter = VideoCounter(CountingConfig(mode="line", line=Line(0, 90, 320, 90)), (320, 180), skip_still=True)
    counter.prime([floor] * 5)

    for index in range(250):
        noisy = np.clip(floor.astype(np.int16) + rng.integers(-3, 4, size=floor.shape), 0, 255).astype(np.uint8)
        counter.process(noisy, index / 25)

    assert counter.skipped == 250 - 10 == counter.frames - 10


def test_a_slow_change_of_light_adds_up_until_the_frame_is_looked_at():
    floor = np.full((180, 320, 3), 100, dtype=np.uint8)
    params = CounterParams(still_every=1000)
    config = CountingConfig(mode="line", line=Line(0, 90, 320, 90))
    counter = VideoCounter(config, (320, 180), params=params, skip_still=True)
    counter.process(floor, 0.0)  # the first frame is always looked at

    # 1 grey level a frame: no frame differs from the one before by more than 10, the 11th from the first does.
    for step in range(1, 12):
        counter.process(floor + step, step / 25)

    assert counter.skipped == 10


def test_a_live_run_skips_still_frames():
    run = FrameCounting(CountingConfig(mode="line", line=Line(0, 90, 320, 90)), source_size=(320, 180), live=True)
    floor = np.full((180, 320, 3), 90, dtype=np.uint8)
    for index in range(200):
        run.feed(Frame(image=floor, time=index / 25, index=index))

    assert run.counter is not None and run.counter.skipped > 0
