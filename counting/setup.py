"""Saving and removing a camera's counting set-up, for the API and the Counting page.

The set-up (its shape and validation: :mod:`counting.video.config`) lives in the camera's metadata, which the
cameras app owns: it is written through :func:`cameras.services.update_camera`, so the camera's version moves
with it, a change based on a stale version is refused (409) and the camera's other metadata is kept.
"""

from __future__ import annotations

from typing import Any

from cameras import services
from cameras.models import Camera
from config.api.contracts import ApiError, FieldError, Kind
from counting.video.config import METADATA_KEY, ConfigError, parse_config


def camera_frame(camera: Camera) -> tuple[int, int] | None:
    """The camera's frame size, when it is known (the set-up's coordinates are checked against it)."""
    return (camera.width, camera.height) if camera.width and camera.height else None


def stored_setup(camera: Camera) -> dict[str, Any] | None:
    """The set-up as stored in the camera's metadata, or None."""
    return (camera.metadata or {}).get(METADATA_KEY)


def setup_problem(camera: Camera) -> str:
    """Why the stored set-up cannot be used ("" when it can, or when there is none)."""
    raw = stored_setup(camera)
    if raw is None:
        return ""
    try:
        parse_config(raw, camera_frame(camera))
    except ConfigError as exc:
        return str(exc)
    return ""


def save_setup(camera: Camera, data: Any, *, expected_version: int | None = None) -> Camera:
    """Validate ``data`` (the set-up as stored, see :mod:`counting.video.config`) and store it in the camera.

    Raises :class:`ApiError`: validation, listing every field in error; conflict when ``expected_version``
    is not the camera's version. Returns the camera as saved.
    """
    try:
        config = parse_config(data, camera_frame(camera))
    except ConfigError as exc:
        field_errors = [FieldError(field, message) for field, message in exc.errors.items()]
        raise ApiError(Kind.VALIDATION, "Invalid counting set-up", field_errors=field_errors) from None
    metadata = {**(camera.metadata or {}), METADATA_KEY: config.to_metadata()}
    return services.update_camera(camera, {"metadata": metadata}, expected_version=expected_version)


def remove_setup(camera: Camera, *, expected_version: int | None = None) -> Camera:
    """Take the set-up out of the camera's metadata (the camera is no longer counted)."""
    metadata = {key: value for key, value in (camera.metadata or {}).items() if key != METADATA_KEY}
    return services.update_camera(camera, {"metadata": metadata}, expected_version=expected_version)
