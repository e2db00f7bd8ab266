"""`make run`'s demo sets a counting line on the pedestrian camera, so the Counting page counts from the start."""

from __future__ import annotations

import pytest

from cameras import demo as cameras_demo
from cameras.models import Camera
from counting import demo, setup

pytestmark = pytest.mark.django_db


def test_the_demo_counts_the_pedestrian_camera_across_a_line():
    cameras_demo.create_demo_data(None)

    lines = demo.create_demo_data(None)

    camera = Camera.objects.get(pk=cameras_demo.DEMO_CAMERA_ID)
    stored = setup.stored_setup(camera)
    assert stored["enabled"] is True and stored["mode"] == "line"
    assert setup.setup_problem(camera) == ""
    assert lines and "counting" in lines[0]


def test_the_demo_keeps_a_line_drawn_by_hand():
    cameras_demo.create_demo_data(None)
    camera = Camera.objects.get(pk=cameras_demo.DEMO_CAMERA_ID)
    drawn = {**demo.DEMO_LINE, "line": {"x1": 0, "y1": 300, "x2": 1280, "y2": 300}}
    setup.save_setup(camera, drawn)

    demo.create_demo_data(None)

    assert setup.stored_setup(Camera.objects.get(pk=camera.pk))["line"]["y1"] == 300
