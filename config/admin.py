from __future__ import annotations

from django.contrib import admin

from config.models import BannerMessage, SystemMetric, SystemService, UsageMinute


@admin.register(UsageMinute)
class UsageMinuteAdmin(admin.ModelAdmin):
    """Per-minute API usage, folded from Redis every minute: a record, read-only."""

    list_display = ["minute", "client_id", "method", "path", "requests", "errors", "avg_ms"]
    list_filter = ["method"]
    search_fields = ["client_id", "path"]
    date_hierarchy = "minute"
    ordering = ["-minute", "client_id", "path"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Average ms")
    def avg_ms(self, obj: UsageMinute) -> str:
        return f"{obj.avg_ms:.2f}"


@admin.register(SystemMetric)
class SystemMetricAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "category", "label", "value", "unit", "limit_value"]
    list_filter = ["category"]
    search_fields = ["label"]
    date_hierarchy = "timestamp"


@admin.register(SystemService)
class SystemServiceAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "status", "version", "uptime", "last_checked", "last_restart"]
    list_filter = ["status"]


@admin.register(BannerMessage)
class BannerMessageAdmin(admin.ModelAdmin):
    list_display = ["message", "level", "active", "starts_at", "expires_at", "created_by"]
    list_filter = ["level", "active"]
    search_fields = ["message"]
