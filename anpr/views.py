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

from accounts.charts import Series, bar_chart
from accounts.dashboard import paging_query, permission_required
from anpr import search, stats, watchlists
from anpr.choices import BADGE_COLOURS, INTERVAL_SECONDS, ListType, SortField, SortOrder, StatsInterval
from anpr.models import PlateEvent, WatchlistEntry
from config.api.contracts import ApiError
from config.storage import signed_url

PAGE_SIZE = 50
DEFAULT_STATS_WINDOW = timedelta(hours=24)
MAX_FILLED_BUCKETS = 400  # beyond this many buckets the chart shows only those with events
TIMELINE_COLOUR = "blue"
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


def timeline_chart(timeline: list[dict[str, Any]], interval: str) -> dict[str, Any] | None:
    """Events per bucket as a bar chart, with empty buckets filled in between the first and the last when few."""
    if not timeline:
        return None
    step = timedelta(seconds=INTERVAL_SECONDS[StatsInterval(interval)])
    counts = {parse_datetime(item["timestamp"]): item["count"] for item in timeline}
    first, last = min(counts), max(counts)
    if (last - first) / step < MAX_FILLED_BUCKETS:
        moments = [first + step * index for index in range(int((last - first) / step) + 1)]
    else:
        moments = sorted(counts)
    label_format = "%Y-%m-%d" if interval in (StatsInterval.DAY, StatsInterval.WEEK) else "%Y-%m-%d %H:%M"
    return bar_chart(
        [timezone.localtime(moment).strftime(label_format) for moment in moments],
        [Series("Events", TIMELINE_COLOUR, [counts.get(moment, 0) for moment in moments])],
        label_title=str(StatsInterval(interval).label),
        value_title=f"Events per {interval}",
    )


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
        "timeline": timeline_chart(summary["timeline"], interval) if summary else None,
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
