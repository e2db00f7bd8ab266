"""Demo data of the counting app: a counting line across the pedestrian camera of ``make run``, so the
Counting page counts the people of the demo footage from the start."""

from __future__ import annotations

from cameras.demo import DEMO_CAMERA_ID
from cameras.models import Camera
from counting import setup

# The demo footage (../shared/data/video/pedestrians.avi) is an overhead view of a hall, 1280x720: a line across
# the whole frame at y = 500, "in" walking down the picture (the line the counting tests count the clip with).
DEMO_LINE = {
    "enabled": True,
    "mode": "line",
    "line": {"x1": 0, "y1": 500, "x2": 1280, "y2": 500},
    "in_side": "right",
    "frame": {"width": 1280, "height": 720},
}


def create_demo_data(command) -> list[str]:
    """The line on the demo pedestrian camera, unless it has a set-up already (one drawn by hand is kept)."""
    camera = Camera.objects.filter(pk=DEMO_CAMERA_ID).first()
    if camera is None:
        return []
    if setup.stored_setup(camera) is None:
        camera = setup.save_setup(camera, DEMO_LINE)
    return [f"counting: line across {camera.pk} at y=500 (see /counting/)"]
