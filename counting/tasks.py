"""Celery tasks of the counting app.

Counting from video: Beat runs ``counting.run_counting`` every minute (schedule "Count people from
video", created by a migration, editable in Admin); it starts one bounded ``counting.count_camera_stream``
run per camera marked for counting (see :mod:`counting.video.live`).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from counting.video import live


# A run ends at its own deadline (at most an hour); the platform's 10-minute task limits would cut it short.
@shared_task(
    name=live.RUN_TASK,
    soft_time_limit=live.MAX_RUN_SECONDS + 120,
    time_limit=live.MAX_RUN_SECONDS + 180,
)
def count_camera_stream(camera_id: str, seconds: float = 300, lock_token: str | None = None) -> dict[str, Any]:
    """Count people on ``camera_id``'s stream for ``seconds`` (at most an hour), storing per-interval counts.

    Returns the run's figures (status, in, out, intervals stored, frames, why it stopped).
    """
    return live.run_camera(camera_id, seconds, lock_token=lock_token)


@shared_task(name="counting.run_counting", ignore_result=True)
def run_counting(seconds: float | None = None) -> dict[str, Any]:
    """Start a counting run for every camera marked for counting that is not being counted already."""
    return live.dispatch(seconds)
