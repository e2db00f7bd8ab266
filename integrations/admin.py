"""Admin for exporters (secrets shown as ***, "test now"), the outbox ("retry now") and the delivery log."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from config.api.contracts import ApiError
from integrations import exporters, outbox, services
from integrations.models import DeliveryAttempt, Exporter, OutboxMessage

_SECTIONS = ("headers", "auth", "config", "retry_config")


class ExporterForm(forms.ModelForm):
    """Edits go through the same validation as the API; a secret left as *** keeps the stored one."""

    class Meta:
        model = Exporter
        fields = ["name", "type", "url", "enabled", "headers", "auth", "config", "retry_config", "metadata"]
        help_texts = {
            "auth": 'REST: {"type": "bearer", "token": "..."}, basic (username, password) or api_key (key, '
            "header_name). Secrets show as ***; leave *** to keep the stored value.",
            "config": 'MQTT: {"topic": "anpr/events", "qos": 1, "username": "...", "password": "..."}',
            "retry_config": "enabled, max_attempts, backoff_strategy (exponential or linear), initial_delay_ms, "
            "max_delay_ms",
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {name: cleaned.get(name) for name in self.Meta.fields}
        for name in ("headers", "auth", "config", "metadata"):
            data[name] = data[name] or {}
        data["retry_config"] = data["retry_config"] or {}
        try:
            services.apply_changes(self.instance, data)
        except ApiError as error:
            for item in error.field_errors:
                top = item.field.split(".", 1)[0]
                self.add_error(top if top in self.fields else None, f"{item.field}: {item.message}")
            return cleaned
        # The model form copies cleaned_data onto the instance after this: give it the stored (masked)
        # forms so that it does not overwrite what apply_changes split into masked values and secrets.
        for name in _SECTIONS:
            cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(Exporter)
class ExporterAdmin(admin.ModelAdmin):
    form = ExporterForm
    list_display = ["id", "name", "type", "url", "enabled", "delivered_count", "failed_count", "last_delivery_at",
                    "failing_since"]  # fmt: skip
    list_filter = ["type", "enabled"]
    search_fields = ["id", "name", "url"]
    readonly_fields = ["id", "delivered_count", "failed_count", "last_delivery_at", "last_error", "last_error_at",
                       "failing_since", "created_at", "updated_at"]  # fmt: skip
    actions = ["test_now", "enable", "disable"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
        else:
            services.insert_exporter(obj)

    def delete_model(self, request, obj):
        services.delete_exporter(obj)

    @admin.action(description="Test now (send a test payload)")
    def test_now(self, request, queryset):
        for exporter in queryset:
            code, body = exporters.test_exporter(exporter)
            if code == 200:
                took = body["response_time_ms"]
                self.message_user(request, f"{exporter.pk}: connection test successful ({took} ms)", messages.SUCCESS)
            else:
                self.message_user(request, f"{exporter.pk}: connection test failed: {body['error']}", messages.ERROR)

    @admin.action(description="Enable selected exporters")
    def enable(self, request, queryset):
        self.message_user(request, f"Enabled {queryset.update(enabled=True)} exporters.", messages.SUCCESS)

    @admin.action(description="Disable selected exporters")
    def disable(self, request, queryset):
        self.message_user(request, f"Disabled {queryset.update(enabled=False)} exporters.", messages.SUCCESS)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "at", "ok", "http_status", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "exporter", "kind", "key", "status", "attempts", "next_attempt_at", "delivered_at",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "exporter", "kind"]
    search_fields = ["key"]
    list_select_related = ["exporter"]
    readonly_fields = ["exporter", "kind", "key", "payload", "status", "attempts", "round_offset", "next_attempt_at",
                       "last_attempt_at", "last_error", "delivered_at", "created_at", "updated_at"]  # fmt: skip
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False  # messages are owed by events, not typed in

    @admin.action(description="Retry now (a new round of attempts)")
    def retry_now(self, request, queryset):
        count = outbox.retry_now(queryset)
        self.message_user(request, f"Sent {count} undelivered messages for delivery.", messages.SUCCESS)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ["message", "number", "at", "ok", "http_status", "error", "duration_ms"]
    list_filter = ["ok", "message__exporter"]
    search_fields = ["message__key"]
    list_select_related = ["message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
