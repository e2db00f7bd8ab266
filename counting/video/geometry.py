"""Plane geometry of counting: which side of a line a point is on, where a move crosses it, polygons.

Coordinates are image pixels: x to the right, y *down*. A line is directed from its first point to its
second; "right of the line" means on the right hand of someone walking along it on the screen, so for
a line drawn left to right the right-hand side is below it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]


@dataclass(frozen=True)
class Line:
    """A directed line segment from ``(x1, y1)`` to ``(x2, y2)``."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def length(self) -> float:
        """Length of the segment in pixels."""
        return math.hypot(self.x2 - self.x1, self.y2 - self.y1)

    def reversed(self) -> Line:
        """The same segment drawn the other way (its right-hand side becomes its left)."""
        return Line(self.x2, self.y2, self.x1, self.y1)

    def scaled(self, sx: float, sy: float) -> Line:
        """The segment with x multiplied by ``sx`` and y by ``sy`` (to a resized frame)."""
        return Line(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def signed_distance(self, point: Point) -> float:
        """Distance of ``point`` from the (infinite) line: positive on its right-hand side, negative on its left."""
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        # z of the cross product (b - a) x (p - a); with y pointing down, positive is the right-hand side.
        cross = dx * (point[1] - self.y1) - dy * (point[0] - self.x1)
        return cross / (self.length or 1.0)

    def crossing_parameter(self, start: Point, end: Point) -> float | None:
        """Where the move ``start -> end`` meets the infinite line, as a position along the segment.

        0 is the first point and 1 the second; a value outside 0..1 means the move passed beside the segment.
        None when the move runs parallel to the line.
        """
        d0, d1 = self.signed_distance(start), self.signed_distance(end)
        if d0 == d1:
            return None
        share = d0 / (d0 - d1)
        hit = (start[0] + share * (end[0] - start[0]), start[1] + share * (end[1] - start[1]))
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        return ((hit[0] - self.x1) * dx + (hit[1] - self.y1) * dy) / ((dx * dx + dy * dy) or 1.0)

    def crosses_segment(self, start: Point, end: Point) -> bool:
        """True when the move ``start -> end`` goes from one side to the other through the segment itself."""
        d0, d1 = self.signed_distance(start), self.signed_distance(end)
        if d0 == 0 or d1 == 0 or (d0 > 0) == (d1 > 0):
            return False
        position = self.crossing_parameter(start, end)
        return position is not None and 0.0 <= position <= 1.0


@dataclass(frozen=True)
class Polygon:
    """A closed polygon (a zone), its vertices in order."""

    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        # OpenCV wants a contiguous float32 array; made once, the polygon is tested every frame.
        object.__setattr__(self, "_contour", np.array(self.points, dtype=np.float32).reshape(-1, 1, 2))

    def scaled(self, sx: float, sy: float) -> Polygon:
        """The polygon with x multiplied by ``sx`` and y by ``sy``."""
        return Polygon(tuple((x * sx, y * sy) for x, y in self.points))

    def signed_distance(self, point: Point) -> float:
        """Distance of ``point`` from the polygon's outline: positive inside, negative outside."""
        return float(cv2.pointPolygonTest(self._contour, (float(point[0]), float(point[1])), True))

    def contains(self, point: Point) -> bool:
        """True when ``point`` is strictly inside."""
        return self.signed_distance(point) > 0


def polygon_area(points: Sequence[Point]) -> float:
    """Unsigned area (shoelace formula); 0 for fewer than three points or collinear ones."""
    if len(points) < 3:
        return 0.0
    total = 0.0
    for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True):
        total += x0 * y1 - x1 * y0
    return abs(total) / 2.0
