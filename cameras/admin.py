from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from cameras import alerting, services, streams
from cameras.models import Alert, Camera, Sensor, Snapshot, Zone
from config.api.contracts import ApiError


class CameraForm(forms.ModelForm):
    stream_address = forms.CharField(
        required=False,
        label="Stream URL",
        help_text="Include the password to change it; a *** password keeps the stored one.",
        widget=forms.TextInput(attrs={"size": 80}),
    )

    class Meta:
        model = Camera
        fields = [
            "id",
            "name",
            "location",
            "stream_type",
            "enabled",
            "status",
            "tags",
            "recognition_enabled",
            "analysis_fps",
            "detect_width",
            "detect_height",
            "ip_address",
            "width",
            "height",
            "zone",
            "detection_model",
            "ocr_models",
            "metadata",
            "match_threshold",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.fields["stream_address"].initial = services.stream_url_for_client(self.instance)

    def clean_match_threshold(self):
        value = self.cleaned_data.get("match_threshold")
        ceiling = services.match_threshold_ceiling()
        if value is not None and value > ceiling:
            raise forms.ValidationError(f"At most {ceiling} (twice the face model's default threshold)")
        return value

    def clean(self):
        cleaned = super().clean()
        try:
            services.set_stream_url(
                self.instance,
                cleaned.get("stream_address", ""),
                cleaned.get("stream_type") or self.instance.stream_type,
            )
        except ApiError as error:
            raise forms.ValidationError({"stream_address": [e.message for e in error.field_errors]}) from None
        if not cleaned.get("ip_address") and self.instance.stream_url:
            # As the API does: the address comes from the URL. The form would otherwise write its empty
            # ip_address field over the one set_stream_url took from the URL.
            cleaned["ip_address"] = streams.ip_address_of(self.instance.stream_url)
        return cleaned


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraForm
    list_display = [
        "id",
        "name",
        "location",
        "stream_type",
        "status",
        "enabled",
        "resolution",
        "fps",
        "last_seen",
        "last_checked",
    ]
    list_filter = ["status", "enabled", "recognition_enabled", "stream_type", "zone"]
    search_fields = ["id", "name", "location", "ip_address"]
    readonly_fields = [
        "fps",
        "latency",
        "bitrate",
        "codec",
        "last_seen",
        "last_checked",
        "last_error",
        "offline_since",
        "thumbnail",
        "version",
        "created_at",
        "updated_at",
    ]
    actions = ["enable", "disable"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)

    @admin.action(description="Enable selected cameras")
    def enable(self, request, queryset):
        self.message_user(request, f"Enabled {queryset.update(enabled=True)} cameras.", messages.SUCCESS)

    @admin.action(description="Disable selected cameras")
    def disable(self, request, queryset):
        self.message_user(request, f"Disabled {queryset.update(enabled=False)} cameras.", messages.SUCCESS)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "camera", "type", "updated_at"]
    list_filter = ["type", "camera"]
    search_fields = ["id", "name"]


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "type", "camera", "zone", "updated_at"]
    list_filter = ["type", "camera"]
    search_fields = ["id", "name"]


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_at", "camera", "storage_key", "width", "height", "size_bytes"]
    list_filter = ["camera"]
    date_hierarchy = "taken_at"
    readonly_fields = ["camera", "storage_key", "width", "height", "size_bytes", "taken_at"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "timestamp", "level", "title", "camera", "acknowledged", "muted", "resolved_at"]
    list_filter = ["level", "acknowledged", "muted", ("resolved_at", admin.EmptyFieldListFilter), "camera"]
    search_fields = ["id", "title", "description", "source"]
    date_hierarchy = "timestamp"
    readonly_fields = ["source", "created_at", "updated_at"]
    actions = ["acknowledge", "mute"]

    @admin.action(description="Acknowledge selected alerts")
    def acknowledge(self, request, queryset):
        for alert in queryset:
            alerting.acknowledge(alert)
        self.message_user(request, "Acknowledged.", messages.SUCCESS)

    @admin.action(description="Mute selected alerts")
    def mute(self, request, queryset):
        for alert in queryset:
            alerting.mute(alert)
        self.message_user(request, "Muted.", messages.SUCCESS)
