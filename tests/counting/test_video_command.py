"""``manage.py count_video``: totals on a generated video, per-interval output, storing, and refusals."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cameras import services
from counting.models import CountRecord
from counting.video.synthetic import short_scene

BASE_DIR = Path(__file__).resolve().parents[2]
LINE = "40,180,600,180"  # the short scene's line: 2 walkers cross it downwards ("in"), 1 upwards
ZONE = "150,120;480,110;500,260;170,270"


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return short_scene().render(tmp_path_factory.mktemp("count-video") / "short.mp4")


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("count_video", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refusal(*args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(*args)
    return caught.value


def test_it_prints_in_and_out_totals(video):
    out, _err = run(str(video), "--line", LINE, "--no-progress")
    assert "in: 2\n" in out
    assert "out: 1\n" in out
    assert "total: 3\n" in out


def test_it_shows_a_progress_bar_over_the_frames(video):
    _out, err = run(str(video), "--line", LINE)
    assert "250/250" in err
    assert "frame" in err


def test_verbose_prints_each_interval_and_crossing(video):
    out, _err = run(str(video), "--line", LINE, "--interval", "5", "--verbose", "--no-progress")
    assert "00:00:00.0 - 00:00:05.0  in    1  out    1" in out
    assert "00:00:05.0 - 00:00:10.0  in    1  out    0" in out
    assert out.count("  track ") == 3  # one line per crossing


def test_in_side_left_swaps_the_totals(video):
    out, _err = run(str(video), "--line", LINE, "--in-side", "left", "--no-progress")
    assert "in: 1\n" in out and "out: 2\n" in out


def test_zone_mode_counts_entries_and_exits(video):
    out, _err = run(str(video), "--zone", ZONE, "--no-progress")
    assert "in: 2\n" in out and "out: 2\n" in out


def test_a_bad_line_is_a_usage_error(video):
    error = refusal(str(video), "--line", "40,180,600")
    assert error.returncode == 2
    assert "x1,y1,x2,y2" in str(error)


def test_a_line_outside_the_frame_is_a_usage_error(video):
    error = refusal(str(video), "--line", "40,180,700,180")
    assert error.returncode == 2
    assert "inside the 640x360 frame" in str(error)


def test_line_and_zone_together_are_refused(video):
    assert refusal(str(video), "--line", LINE, "--zone", ZONE).returncode == 2


def test_neither_line_nor_zone_is_refused(video):
    assert "--line" in str(refusal(str(video)))


def test_a_missing_file_fails_with_exit_code_1(tmp_path):
    error = refusal(str(tmp_path / "nothing.mp4"), "--line", LINE)
    assert error.returncode == 1
    assert "does not exist" in str(error)


def test_a_file_that_is_not_a_video_fails_with_exit_code_1(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    assert refusal(str(junk), "--line", LINE).returncode == 1


def test_store_needs_a_camera(video):
    assert "--camera" in str(refusal(str(video), "--line", LINE, "--store"))


@pytest.mark.django_db
def test_an_unknown_camera_is_refused(video):
    assert refusal(str(video), "--line", LINE, "--camera", "CAM-99").returncode == 2


@pytest.mark.django_db
def test_store_writes_one_count_per_interval_through_record_counts(video):
    camera = services.create_camera({"id": "CAM-31", "name": "Walkway"})
    out, _err = run(
        str(video), "--line", LINE, "--camera", "CAM-31", "--store", "--interval", "5",
        "--start", "2024-05-01T08:00:00Z", "--no-progress",
    )  # fmt: skip
    assert "stored 2 interval count(s) for CAM-31" in out
    records = list(CountRecord.objects.filter(camera=camera).order_by("timestamp"))
    assert [(r.timestamp, r.count, r.source, r.zone_id) for r in records] == [
        (datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC), 2, "video", "line"),
        (datetime(2024, 5, 1, 8, 0, 5, tzinfo=UTC), 1, "video", "line"),
    ]
    assert all(0 < r.confidence <= 1 for r in records)


@pytest.mark.django_db
def test_a_naive_start_is_refused(video):
    services.create_camera({"id": "CAM-32", "name": "Walkway"})
    error = refusal(str(video), "--line", LINE, "--camera", "CAM-32", "--store", "--start", "2024-05-01T08:00:00")
    assert error.returncode == 2 and "time zone" in str(error)


@pytest.mark.django_db
def test_the_cameras_stored_set_up_is_used_without_line_or_zone(video):
    services.create_camera(
        {
            "id": "CAM-33",
            "name": "Walkway",
            "metadata": {"counting": {"mode": "line", "line": {"x1": 40, "y1": 180, "x2": 600, "y2": 180},
                                      "in_side": "left", "frame": {"width": 640, "height": 360}}},
        }
    )  # fmt: skip
    out, _err = run(str(video), "--camera", "CAM-33", "--no-progress")
    assert "in: 1\n" in out and "out: 2\n" in out


def test_the_real_command_line_exits_with_2_on_a_bad_line(video):
    done = subprocess.run(
        [sys.executable, "manage.py", "count_video", str(video), "--line", "1,2,3"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "x1,y1,x2,y2" in done.stderr
