"""A camera's counting set-up (``metadata["counting"]``): what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from counting.video.config import (
    ConfigError,
    CountingConfig,
    camera_config,
    parse_config,
    parse_line_argument,
    parse_zone_argument,
)
from counting.video.geometry import Line

FRAME = (1280, 720)
LINE = {"x1": 100, "y1": 360, "x2": 1180, "y2": 360}
ZONE = {"type": "polygon", "points": [{"x": 10, "y": 10}, {"x": 300, "y": 10}, {"x": 300, "y": 200}]}


def errors_of(data, frame=FRAME) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, frame)
    return caught.value.errors


def test_a_line_set_up():
    config = parse_config({"enabled": True, "mode": "line", "line": LINE, "in_side": "left", "interval": 30}, FRAME)
    assert config == CountingConfig(
        mode="line", line=Line(100, 360, 1180, 360), in_side="left", frame=FRAME, interval=30, enabled=True
    )


def test_a_line_given_as_two_points():
    config = parse_config({"mode": "line", "line": {"points": [{"x": 0, "y": 5}, {"x": 50, "y": 5}]}}, FRAME)
    assert config.line == Line(0, 5, 50, 5)


def test_defaults():
    config = parse_config({"line": LINE}, FRAME)
    assert (config.mode, config.in_side, config.interval, config.enabled) == ("line", "right", 60, False)


def test_a_zone_set_up():
    config = parse_config({"mode": "zone", "zone": ZONE}, FRAME)
    assert config.zone is not None and config.zone.points == ((10, 10), (300, 10), (300, 200))


def test_stored_form_reads_back_the_same():
    config = parse_config({"enabled": True, "mode": "zone", "zone": ZONE, "frame": {"width": 640, "height": 360}})
    assert parse_config(config.to_metadata()) == config


def test_a_line_point_outside_the_frame_is_refused():
    assert "inside" in errors_of({"mode": "line", "line": {**LINE, "x2": 1281}})["line"]
    assert "inside" in errors_of({"mode": "line", "line": {**LINE, "y1": -1}})["line"]


def test_a_line_needs_two_points():
    assert "2 points" in errors_of({"mode": "line", "line": {"x1": 1, "y1": 2}})["line"]
    assert "2 points" in errors_of({"mode": "line", "line": {"points": [{"x": 1, "y": 2}]}})["line"]
    assert "2 points" in errors_of({"mode": "line"})["line"]


def test_a_line_of_one_point_twice_is_refused():
    assert "same point" in errors_of({"mode": "line", "line": {"x1": 5, "y1": 5, "x2": 6, "y2": 5}})["line"]


def test_coordinates_must_be_numbers():
    assert "numbers" in errors_of({"mode": "line", "line": {**LINE, "x1": "100"}})["line"]
    assert "numbers" in errors_of({"mode": "line", "line": {**LINE, "x1": True}})["line"]


def test_a_zone_needs_three_points():
    assert "at least 3" in errors_of({"mode": "zone", "zone": {"points": ZONE["points"][:2]}})["zone"]


def test_a_zone_on_one_line_is_refused():
    flat = {"points": [{"x": 0, "y": 0}, {"x": 10, "y": 10}, {"x": 20, "y": 20}]}
    assert "no area" in errors_of({"mode": "zone", "zone": flat})["zone"]


def test_a_zone_point_outside_the_frame_is_refused():
    outside = {"points": [*ZONE["points"], {"x": 2000, "y": 10}]}
    assert "inside" in errors_of({"mode": "zone", "zone": outside})["zone"]


def test_mode_side_interval_and_enabled_are_checked():
    errors = errors_of({"mode": "circle", "in_side": "up", "interval": 5, "enabled": "yes", "line": LINE})
    assert set(errors) == {"mode", "in_side", "interval", "enabled"}


def test_the_frame_the_set_up_was_drawn_on_takes_precedence():
    # Drawn on a 1920x1080 snapshot: a point at x=1500 is inside it, though the camera says 1280x720.
    config = parse_config({"line": {**LINE, "x2": 1500}, "frame": {"width": 1920, "height": 1080}}, FRAME)
    assert config.frame == (1920, 1080)


def test_without_a_frame_only_negative_coordinates_are_refused():
    assert parse_config({"line": {**LINE, "x2": 5000}}).line.x2 == 5000
    assert "inside" in errors_of({"line": {**LINE, "x2": -1}}, None)["line"]


def test_a_camera_without_a_set_up_has_none():
    assert camera_config({}) is None
    assert camera_config({"counting": {"mode": "line", "line": LINE}}).mode == "line"


def test_command_line_arguments():
    assert parse_line_argument("0, 500,1280,500") == Line(0, 500, 1280, 500)
    assert parse_zone_argument("0,0;100,0;100,100").points == ((0, 0), (100, 0), (100, 100))
    for bad in ("0,500,1280", "a,b,c,d", "1,2,3,4,5", "", "nan,1,2,3"):
        with pytest.raises(ValueError):
            parse_line_argument(bad)
    for bad in ("0,0;100,0", "0,0;1;2,2", "0,0;10,10;20,20"):
        with pytest.raises(ValueError):
            parse_zone_argument(bad)
