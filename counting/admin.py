from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from counting.models import CountDaily, CountHourly, CountRecord
from counting.rollups import rebuild_rollups


@admin.register(CountRecord)
class CountRecordAdmin(admin.ModelAdmin):
    """Counts are what a counter reported: viewable and deletable (a bad reading), never edited.

    A deletion rebuilds the rollups of the hours it touches from the raw rows left, so analytics follow.
    Hours whose raw rows retention may already have pruned are refused: their rollups are all that is left.
    """

    list_display = ["id", "camera", "timestamp", "count", "confidence", "source", "zone_id", "created_at"]
    list_filter = ["source", "camera"]
    search_fields = ["camera__id", "camera__name", "zone_id"]
    date_hierarchy = "timestamp"
    ordering = ["-timestamp", "-id"]
    list_select_related = ["camera"]
    show_full_result_count = False  # a COUNT(*) over millions of rows on every page is not worth it

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.delete_queryset(request, CountRecord.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        bounds = queryset.aggregate(first=Min("timestamp"), last=Max("timestamp"))
        if bounds["first"] is None:
            return
        days = settings.RETENTION_COUNTS_DAYS
        # One hour of margin: retention removes rows by moment, so the hour at its cutoff may be partial.
        if days and days > 0 and bounds["first"] < timezone.now() - timedelta(days=days) + timedelta(hours=1):
            self.message_user(
                request,
                "Counts this close to the retention period cannot be deleted: the rollups of their hours "
                "could no longer be rebuilt from raw rows.",
                messages.ERROR,
            )
            return
        start = bounds["first"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        with transaction.atomic():
            queryset.delete()
            rebuild_rollups(start, bounds["last"] + timedelta(microseconds=1))


class RollupAdmin(admin.ModelAdmin):
    """Rollups are derived data, maintained by ingest: read-only here."""

    list_filter = ["camera"]
    search_fields = ["camera__id", "camera__name"]
    list_select_related = ["camera"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CountHourly)
class CountHourlyAdmin(RollupAdmin):
    list_display = ["camera", "hour", "records", "total", "min_count", "max_count", "avg_count", "avg_confidence"]
    date_hierarchy = "hour"
    ordering = ["-hour", "camera"]


@admin.register(CountDaily)
class CountDailyAdmin(RollupAdmin):
    list_display = ["camera", "day", "records", "total", "min_count", "max_count", "avg_count", "avg_confidence"]
    date_hierarchy = "day"
    ordering = ["-day", "camera"]
