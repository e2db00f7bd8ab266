"""A camera's counting set-up: a line with its "in" side, or a zone polygon, and the interval of stored counts.

It lives in the camera's ``metadata["counting"]`` (the cameras app owns the model; this module owns the
shape and its validation)::

    {"enabled": true, "mode": "line",
     "line": {"x1": 100, "y1": 360, "x2": 1180, "y2": 360}, "in_side": "right",
     "frame": {"width": 1280, "height": 720}, "interval": 60}

    {"enabled": true, "mode": "zone",
     "zone": {"type": "polygon", "points": [{"x": 10, "y": 10}, {"x": 300, "y": 10}, {"x": 300, "y": 200}]},
     "frame": {"width": 1280, "height": 720}, "interval": 60}

Coordinates are pixels of the frame named by ``frame`` (the snapshot the set-up was drawn on); the counter
rescales them to whatever size it processes. ``in_side`` says which side of the directed line (first point
to second) a person walks *into* to count as "in": ``right`` (for a line drawn left to right, downwards on
the screen) or ``left``. In zone mode "in" is an entry into the polygon and "out" an exit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from counting.video.geometry import Line, Polygon, polygon_area

METADATA_KEY = "counting"
MODES = ("line", "zone")
IN_SIDES = ("right", "left")
DEFAULT_INTERVAL = 60
MIN_INTERVAL, MAX_INTERVAL = 10, 3600
MAX_ZONE_POINTS = 64
MIN_LINE_LENGTH = 4.0


class ConfigError(ValueError):
    """A set-up that cannot be used; ``errors`` maps each field (``line``, ``zone``, ...) to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


@dataclass(frozen=True)
class CountingConfig:
    """A validated counting set-up (see the module docstring for its stored form)."""

    mode: str = "line"
    line: Line | None = None
    in_side: str = "right"
    zone: Polygon | None = None
    frame: tuple[int, int] | None = None
    interval: int = DEFAULT_INTERVAL
    enabled: bool = False

    def to_metadata(self) -> dict[str, Any]:
        """The JSON stored under ``metadata["counting"]``."""
        data: dict[str, Any] = {"enabled": self.enabled, "mode": self.mode, "interval": self.interval}
        if self.line is not None:
            data["line"] = {"x1": self.line.x1, "y1": self.line.y1, "x2": self.line.x2, "y2": self.line.y2}
            data["in_side"] = self.in_side
        if self.zone is not None:
            data["zone"] = {"type": "polygon", "points": [{"x": x, "y": y} for x, y in self.zone.points]}
        if self.frame is not None:
            data["frame"] = {"width": self.frame[0], "height": self.frame[1]}
        return data

    def oriented_line(self) -> Line | None:
        """The line directed so that its right-hand side is the "in" side."""
        if self.line is None:
            return None
        return self.line if self.in_side == "right" else self.line.reversed()

    def scaled_to(self, width: int, height: int) -> CountingConfig:
        """The set-up in the pixels of a ``width`` x ``height`` frame (from its ``frame``, when known)."""
        if self.frame is None or self.frame == (width, height):
            return CountingConfig(**{**self.__dict__, "frame": (width, height)})
        sx, sy = width / self.frame[0], height / self.frame[1]
        return CountingConfig(
            mode=self.mode,
            line=self.line.scaled(sx, sy) if self.line else None,
            in_side=self.in_side,
            zone=self.zone.scaled(sx, sy) if self.zone else None,
            frame=(width, height),
            interval=self.interval,
            enabled=self.enabled,
        )


def _number(value: Any) -> float:
    # bool is an int in Python; true/false are not coordinates.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a number")
    return float(value)


def _inside(point: tuple[float, float], frame: tuple[int, int] | None) -> bool:
    if point[0] < 0 or point[1] < 0:
        return False
    return frame is None or (point[0] <= frame[0] and point[1] <= frame[1])


def _frame(data: Any) -> tuple[int, int]:
    if not isinstance(data, Mapping):
        raise ValueError("an object {width, height}")
    width, height = data.get("width"), data.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 16384 for v in (width, height)):
        raise ValueError("width and height must be whole numbers of pixels from 16 to 16384")
    return int(width), int(height)


def _parse_line(data: Any, frame: tuple[int, int] | None) -> Line:
    if isinstance(data, Mapping) and "points" in data:
        points = data["points"]
        if not isinstance(points, list) or len(points) != 2:
            raise ValueError("a line needs exactly 2 points")
        data = {
            "x1": _get(points[0], "x"),
            "y1": _get(points[0], "y"),
            "x2": _get(points[1], "x"),
            "y2": _get(points[1], "y"),
        }
    if not isinstance(data, Mapping):
        raise ValueError("a line needs 2 points: {x1, y1, x2, y2}")
    try:
        line = Line(*(_number(data.get(key)) for key in ("x1", "y1", "x2", "y2")))
    except ValueError:
        raise ValueError("a line needs 2 points: x1, y1, x2, y2 must be numbers") from None
    if not (_inside((line.x1, line.y1), frame) and _inside((line.x2, line.y2), frame)):
        where = f" {frame[0]}x{frame[1]}" if frame else ""
        raise ValueError(f"both points of the line must be inside the{where} frame")
    if line.length < MIN_LINE_LENGTH:
        raise ValueError("the line's two points are (almost) the same point")
    return line


def _get(point: Any, key: str) -> Any:
    return point.get(key) if isinstance(point, Mapping) else None


def _parse_zone(data: Any, frame: tuple[int, int] | None) -> Polygon:
    points = data.get("points") if isinstance(data, Mapping) else data
    if not isinstance(points, list) or len(points) < 3:
        raise ValueError("a zone needs at least 3 points")
    if len(points) > MAX_ZONE_POINTS:
        raise ValueError(f"a zone has at most {MAX_ZONE_POINTS} points")
    try:
        parsed = tuple((_number(_get(p, "x")), _number(_get(p, "y"))) for p in points)
    except ValueError:
        raise ValueError("every zone point needs numeric x and y") from None
    if not all(_inside(p, frame) for p in parsed):
        where = f" {frame[0]}x{frame[1]}" if frame else ""
        raise ValueError(f"every zone point must be inside the{where} frame")
    if polygon_area(parsed) < 16.0:
        raise ValueError("the zone's points enclose no area (all on one line?)")
    return Polygon(parsed)


def parse_config(data: Any, frame: tuple[int, int] | None = None) -> CountingConfig:
    """Validate a stored or submitted set-up and return it; raise ``ConfigError`` listing every problem.

    ``frame`` is the camera's frame size when the caller knows it; a ``frame`` in ``data`` (the snapshot the
    set-up was drawn on) takes precedence, since the coordinates refer to it.
    """
    if not isinstance(data, Mapping):
        raise ConfigError({"counting": "must be an object"})
    errors: dict[str, str] = {}
    if "frame" in data and data["frame"] is not None:
        try:
            frame = _frame(data["frame"])
        except ValueError as exc:
            errors["frame"] = str(exc)
    mode = data.get("mode", "line")
    if mode not in MODES:
        errors["mode"] = f"one of {', '.join(MODES)}"
    in_side = data.get("in_side", "right")
    if in_side not in IN_SIDES:
        errors["in_side"] = f"one of {', '.join(IN_SIDES)}"
    interval = data.get("interval", DEFAULT_INTERVAL)
    if isinstance(interval, bool) or not isinstance(interval, int) or not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        errors["interval"] = f"whole seconds from {MIN_INTERVAL} to {MAX_INTERVAL}"
    enabled = data.get("enabled", False)
    if not isinstance(enabled, bool):
        errors["enabled"] = "true or false"
    line = zone = None
    if mode == "line" or data.get("line") is not None:
        try:
            line = _parse_line(data.get("line"), frame)
        except ValueError as exc:
            errors["line"] = str(exc)
    if mode == "zone" or data.get("zone") is not None:
        try:
            zone = _parse_zone(data.get("zone"), frame)
        except ValueError as exc:
            errors["zone"] = str(exc)
    if errors:
        raise ConfigError(errors)
    return CountingConfig(
        mode=mode, line=line, in_side=in_side, zone=zone, frame=frame, interval=interval, enabled=enabled
    )


def camera_config(metadata: Mapping[str, Any] | None, frame: tuple[int, int] | None = None) -> CountingConfig | None:
    """The camera's set-up from its metadata; None when it has none. Raises ``ConfigError`` when it is broken."""
    data = (metadata or {}).get(METADATA_KEY)
    if data is None:
        return None
    return parse_config(data, frame)


def parse_line_argument(text: str) -> Line:
    """``"x1,y1,x2,y2"`` (the command line's ``--line``) as a line; ValueError when it is not four numbers."""
    parts = [part.strip() for part in (text or "").split(",")]
    if len(parts) != 4:
        raise ValueError(f"--line needs four numbers x1,y1,x2,y2, got {text!r}")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise ValueError(f"--line needs four numbers x1,y1,x2,y2, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"--line needs four finite numbers, got {text!r}")
    return Line(*values)


def parse_zone_argument(text: str) -> Polygon:
    """``"x,y;x,y;x,y;..."`` (the command line's ``--zone``) as a polygon of at least three points."""
    points = []
    for pair in (text or "").split(";"):
        if not pair.strip():
            continue
        parts = pair.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"--zone needs points x,y;x,y;x,y, got {text!r}") from None
        points.append((x, y))
    if len(points) < 3:
        raise ValueError("--zone needs at least three points x,y;x,y;x,y")
    if polygon_area(points) < 16.0:
        raise ValueError("--zone points enclose no area")
    return Polygon(tuple(points))
