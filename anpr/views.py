"""The ANPR dashboard page (/anpr/): search with filters, statistics with a timeline chart, the live stream
of plates with their crops, and the watchlists.

Thin: the page runs the same search and statistics services as the API. Live plates come from
``/events/stream``, which takes a JWT; the page gets one from the dashboard's token endpoint.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from accounts.dashboard import paging_query, permission_required
from anpr import search, stats, watchlists
from anpr.choices import BADGE_COLOURS, INTERVAL_SECONDS, ListType, SortField, SortOrder, StatsInterval
from anpr.models import PlateEvent, WatchlistEntry
from config.api.contracts import ApiError
from config.storage import signed_url

PAGE_SIZE = 50
DEFAULT_STATS_WINDOW = timedelta(hours=24)
MAX_FILLED_BUCKETS = 400  # beyond this many buckets the chart shows only those with events
CHART_WIDTH, CHART_HEIGHT = 720, 160
FILTER_NAMES = (
    "plate_text",
    "camera_id",
    "zone_id",
    "start_date",
    "end_date",
    "min_confidence",
    "sort_by",
    "sort_order",
)


def _row(event: PlateEvent) -> dict[str, Any]:
    return {
        "event": event,
        "crop_url": signed_url(event.crop_key) if event.crop_key else None,
        "frame_url": signed_url(event.frame_key) if event.frame_key else None,
        "badge": BADGE_COLOURS.get(event.watchlist_match, ""),
    }


def chart_bars(timeline: list[dict[str, Any]], interval: str) -> list[dict[str, Any]]:
    """The timeline as SVG bars, with empty buckets filled in between the first and the last when few."""
    if not timeline:
        return []
    step = timedelta(seconds=INTERVAL_SECONDS[StatsInterval(interval)])
    points = [(parse_datetime(item["timestamp"]), item["count"]) for item in timeline]
    counts = dict(points)
    first, last = points[0][0], points[-1][0]
    if (last - first) / step < MAX_FILLED_BUCKETS:
        moments, moment = [], first
        while moment <= last:
            moments.append(moment)
            moment += step
    else:
        moments = [moment for moment, _ in points]
    peak = max(counts.values())
    width = CHART_WIDTH / len(moments)
    bars = []
    for index, moment in enumerate(moments):
        count = counts.get(moment, 0)
        height = round(count / peak * (CHART_HEIGHT - 20), 1) if peak else 0
        bars.append(
            {
                "x": round(index * width, 2),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(width - 1, 0.5), 2),
                "height": height,
                "count": count,
                "moment": moment,
            }
        )
    return bars


@permission_required("anpr:read")
def events_page(request: HttpRequest) -> HttpResponse:
    filters = {name: request.GET.get(name, "") for name in FILTER_NAMES}
    interval = request.GET.get("interval") or StatsInterval.HOUR
    errors: list[str] = []
    try:
        query = search.parse_query(request.GET)
    except ApiError as error:
        errors = [item.message for item in error.field_errors]
        query = None
    if interval not in StatsInterval.values:
        errors.append(f"interval must be one of {', '.join(StatsInterval.values)}")
        interval = StatsInterval.HOUR
    page = None
    summary = None
    stats_window = ""
    if query is not None:
        page = Paginator(search.search_events(query), PAGE_SIZE).get_page(request.GET.get("page"))
        stats_query = query
        if query.start is None and query.end is None:
            stats_query = replace(query, start=timezone.now() - DEFAULT_STATS_WINDOW)
            stats_window = "last 24 hours"
        summary = stats.event_stats(stats_query, interval)
    entries = WatchlistEntry.objects.filter(active=True).order_by("list_type", "plate_normalized")
    context = {
        "filters": filters,
        "interval": interval,
        "intervals": StatsInterval.choices,
        "sort_fields": SortField.choices,
        "sort_orders": SortOrder.choices,
        "errors": errors,
        "page": page,
        "rows": [_row(event) for event in page] if page else [],
        "summary": summary,
        "stats_window": stats_window,
        "bars": chart_bars(summary["timeline"], interval) if summary else [],
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
        "watchlist": [{"entry": entry, "badge": BADGE_COLOURS.get(entry.list_type, "")} for entry in entries],
        "watchlist_plates": {entry.plate_normalized: entry.list_type for entry in entries},
        "list_types": ListType.choices,
        "list_badges": {list_type: BADGE_COLOURS[list_type] for list_type in ListType.values},
        "can_write": request.user.has_permission("anpr:write"),
        "paging_query": paging_query(request),
    }
    return render(request, "anpr/events.html", context)


@require_POST
@permission_required("anpr:write")
def watchlist_add(request: HttpRequest) -> HttpResponse:
    list_type = request.POST.get("list_type", "")
    if list_type not in ListType.values:
        messages.error(request, "Choose the allow or the deny list.")
        return redirect("anpr:events")
    data = {"plate_text": request.POST.get("plate_text", "").strip()[:32], "list_type": list_type}
    data["reason"] = request.POST.get("reason", "").strip()
    try:
        entry = watchlists.save_entry(None, data, user=request.user)
    except ApiError as error:
        messages.error(request, "; ".join(item.message for item in error.field_errors) or error.text())
    else:
        messages.success(request, f"{entry.plate_text} is on the {entry.get_list_type_display().lower()}.")
    return redirect("anpr:events")


@require_POST
@permission_required("anpr:write")
def watchlist_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(WatchlistEntry, pk=entry_id)
    entry.delete()
    messages.success(request, f"{entry.plate_text} is off the {entry.get_list_type_display().lower()}.")
    return redirect("anpr:events")
