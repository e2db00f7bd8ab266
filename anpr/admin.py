from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from anpr.models import DetectionModel, PlateEvent, WatchlistEntry
from anpr.plates import normalize_plate
from config.storage import signed_url


class NormalizedPlateSearchMixin:
    """The admin search box finds plates the way the API does: abc123 finds ABC-123."""

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        normalized = normalize_plate(search_term)
        if normalized:
            queryset |= self.model.objects.filter(plate_normalized__contains=normalized)
        return queryset, duplicates


@admin.register(PlateEvent)
class PlateEventAdmin(NormalizedPlateSearchMixin, admin.ModelAdmin):
    """Events are records of what an edge worker saw: viewable and deletable, not editable."""

    list_display = ["event_id", "timestamp", "plate_text", "camera_id", "zone_id", "confidence", "watchlist_match"]
    list_filter = ["watchlist_match", "camera_id"]
    search_fields = ["event_id", "camera_id", "zone_id"]
    date_hierarchy = "timestamp"
    ordering = ["-timestamp", "-event_id"]
    show_full_result_count = False  # a COUNT(*) over millions of events on every page is not worth it
    readonly_fields = ["crop_preview", "frame_preview"]
    exclude = ["plate_trigrams"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @admin.display(description="Crop")
    def crop_preview(self, obj: PlateEvent):
        return format_html('<img src="{}" style="max-height:80px">', signed_url(obj.crop_key)) if obj.crop_key else "—"

    @admin.display(description="Frame")
    def frame_preview(self, obj: PlateEvent):
        return (
            format_html('<img src="{}" style="max-width:640px">', signed_url(obj.frame_key)) if obj.frame_key else "—"
        )


@admin.register(DetectionModel)
class DetectionModelAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "type", "version", "weights_path", "updated_at"]
    list_filter = ["type"]
    search_fields = ["id", "name", "weights_path"]


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(NormalizedPlateSearchMixin, admin.ModelAdmin):
    list_display = ["plate_text", "plate_normalized", "list_type", "active", "reason", "created_by", "created_at"]
    list_filter = ["list_type", "active"]
    search_fields = ["reason"]
    readonly_fields = ["plate_normalized", "created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
