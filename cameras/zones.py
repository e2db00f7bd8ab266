"""Zone polygons and sensor configurations: what makes them valid."""

from __future__ import annotations

from numbers import Real
from typing import Any

from cameras.choices import SensorType


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _area(points: list[tuple[float, float]]) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def _segments_cross(a, b, c, d) -> bool:
    def orient(p, q, r):
        value = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return (value > 0) - (value < 0)

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def validate_geometry(geometry: Any, frame: tuple[int, int] | None) -> dict[str, Any]:
    """A polygon of at least 3 points, with area, not crossing itself, inside ``frame`` (w, h) when known.

    Returns the geometry in its canonical form; raises ValueError saying what is wrong.
    """
    if not isinstance(geometry, dict):
        raise ValueError('geometry must be {"type": "polygon", "points": [{"x": .., "y": ..}, ...]}')
    if geometry.get("type", "polygon") != "polygon":
        raise ValueError("geometry.type must be polygon")
    raw_points = geometry.get("points")
    if not isinstance(raw_points, list) or len(raw_points) < 3:
        raise ValueError("a polygon needs at least 3 points")
    points: list[tuple[float, float]] = []
    for index, point in enumerate(raw_points):
        if not isinstance(point, dict) or not _number(point.get("x")) or not _number(point.get("y")):
            raise ValueError(f"point {index} must be an object with numeric x and y")
        x, y = float(point["x"]), float(point["y"])
        if x < 0 or y < 0:
            raise ValueError(f"point {index} ({x:g}, {y:g}) is outside the frame")
        if frame and (x > frame[0] or y > frame[1]):
            raise ValueError(f"point {index} ({x:g}, {y:g}) is outside the {frame[0]}x{frame[1]} frame")
        points.append((x, y))
    # Crossing first: a symmetric bow-tie's two lobes cancel out to zero signed area, and it must be
    # reported as crossing itself, not as points on one line.
    edges = list(zip(points, points[1:] + points[:1], strict=True))
    for i, (a, b) in enumerate(edges):
        for j, (c, d) in enumerate(edges):
            if abs(i - j) > 1 and {i, j} != {0, len(edges) - 1} and _segments_cross(a, b, c, d):
                raise ValueError("the polygon crosses itself")
    if _area(points) == 0:
        raise ValueError("the polygon has no area (its points are on one line)")
    return {"type": "polygon", "points": [{"x": p["x"], "y": p["y"]} for p in raw_points]}


_SENSOR_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    SensorType.TPMS: {"sensor_port": str, "baudrate": int, "threshold": dict},
    SensorType.BARRIER: {"relay_pin": int, "pulse_duration_ms": int, "require_plate": bool},
    SensorType.RFID: {"reader_port": str, "protocol": str, "baudrate": int},
}


def validate_sensor_config(sensor_type: str, config: Any) -> dict[str, Any]:
    """Known keys of each sensor type must have the right type; other keys pass through."""
    if sensor_type not in SensorType.values:
        raise ValueError(f"type must be one of {', '.join(SensorType.values)}")
    if not isinstance(config, dict):
        raise ValueError("config must be an object")
    for key, expected in _SENSOR_FIELDS[sensor_type].items():
        if key not in config:
            continue
        value = config[key]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"config.{key} must be an integer")
        if not isinstance(value, expected):
            raise ValueError(f"config.{key} must be {expected.__name__}")
    if sensor_type == SensorType.TPMS and "threshold" in config:
        threshold = config["threshold"]
        for key in ("pressure_min", "pressure_max", "temperature_max"):
            if key in threshold and not _number(threshold[key]):
                raise ValueError(f"config.threshold.{key} must be a number")
        if (
            _number(threshold.get("pressure_min"))
            and _number(threshold.get("pressure_max"))
            and (threshold["pressure_min"] >= threshold["pressure_max"])
        ):
            raise ValueError("config.threshold.pressure_min must be below pressure_max")
    if sensor_type == SensorType.BARRIER and config.get("pulse_duration_ms", 1) <= 0:
        raise ValueError("config.pulse_duration_ms must be positive")
    return config
