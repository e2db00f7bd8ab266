"""The dashboard's charts: what a view puts in the page (``json_script``) for ``static/argus/charts.js``.

Every chart of the dashboard is a bar chart drawn by the vendored Chart.js (``static/vendor/chart.js``):
columns over time (days, hours, stats buckets), or horizontal bars per camera or department. A view builds
the data with :func:`bar_chart`; the page gives it a ``<canvas data-chart="...">``. Series take a badge
colour name (``green``, ``amber``, ``red``, ``blue``: the apps' ``choices.BADGE_COLOURS``), which the script
turns into the stylesheet's colour of that name, so charts follow the theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Series:
    """One bar (or one stacked segment of each bar) per label: its name, badge colour and values."""

    label: str
    colour: str
    values: Sequence[int | float]


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_title: str,
    value_title: str,
    horizontal: bool = False,
) -> dict[str, Any]:
    """The data of one bar chart: a bar per label; several series are stacked, with a legend.

    ``label_title`` names the axis of the labels (days, cameras...), ``value_title`` the axis of the values.
    ``horizontal`` draws the bars sideways, for long labels such as camera names.
    """
    for item in series:
        if len(item.values) != len(labels):
            raise ValueError(f"series {item.label!r} has {len(item.values)} values for {len(labels)} labels")
    return {
        "labels": list(labels),
        "series": [{"label": item.label, "colour": item.colour, "values": list(item.values)} for item in series],
        "labelTitle": label_title,
        "valueTitle": value_title,
        "horizontal": horizontal,
    }
