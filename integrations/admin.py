"""Admin for exporters (secrets shown as ***, "test now"), the outbox ("retry now") and the delivery log; the
Odoo configuration ("test connection", "sync now") and the Odoo sync log."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from config.api.contracts import ApiError
from integrations import exporters, outbox, services
from integrations.models import DeliveryAttempt, Exporter, OdooConfig, OdooSyncLog, OutboxMessage
from integrations.odoo import config as odoo_config
from integrations.tasks import queue_odoo_sync

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
        changed = queryset.update(enabled=True)
        outbox.exporters_changed()  # a queryset update sends no post_save
        self.message_user(request, f"Enabled {changed} exporters.", messages.SUCCESS)

    @admin.action(description="Disable selected exporters")
    def disable(self, request, queryset):
        changed = queryset.update(enabled=False)
        outbox.exporters_changed()  # a queryset update sends no post_save
        self.message_user(request, f"Disabled {changed} exporters.", messages.SUCCESS)


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


_ODOO_FIELDS = ["base_url", "database", "company", "username", "employee_match_field", "auto_sync",
                "failure_alert_threshold"]  # fmt: skip


class OdooConfigForm(forms.ModelForm):
    """The API key is write-only: the page never shows it, and leaving the box empty keeps the stored one."""

    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored key. Odoo: Preferences > Account Security > New API Key.",
    )
    clear_api_key = forms.BooleanField(required=False, help_text="Remove the stored API key")
    base_url = forms.URLField(
        required=False, max_length=2000, assume_scheme="https", help_text="e.g. https://odoo.example.com"
    )

    class Meta:
        model = OdooConfig
        fields = _ODOO_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # Not Meta.fields: the admin's form factory puts the read-only fields in there too.
        changes = {name: cleaned.get(name) for name in _ODOO_FIELDS}
        if cleaned.get("clear_api_key"):
            changes["api_key"] = ""
        elif cleaned.get("api_key"):
            changes["api_key"] = cleaned["api_key"]
        try:
            self.instance = odoo_config.update_config(changes)
        except ApiError as error:
            for item in error.field_errors:
                self.add_error(item.field if item.field in self.fields else None, item.message)
            if not error.field_errors:
                self.add_error(None, error.text())
        return cleaned


@admin.register(OdooConfig)
class OdooConfigAdmin(admin.ModelAdmin):
    form = OdooConfigForm
    list_display = ["__str__", "username", "status", "auto_sync", "last_sync", "pending_count", "failure_count"]
    readonly_fields = ["status", "server_version", "last_sync", "last_error", "pending_count", "failure_count",
                       "version", "created_at", "updated_at"]  # fmt: skip
    actions = ["test_connection", "sync_now"]

    def has_add_permission(self, request):
        return not OdooConfig.objects.exists()  # a singleton

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # the form saved it through odoo_config.update_config (version, reconnect, validation)

    @admin.action(description="Test the connection")
    def test_connection(self, request, queryset):
        try:
            report = odoo_config.test_connection()
        except ApiError as error:
            self.message_user(request, error.text(), messages.ERROR)
            return
        level = messages.SUCCESS if report["status"] == "connected" else messages.ERROR
        self.message_user(request, report["message"], level)

    @admin.action(description="Sync pending attendance logs now")
    def sync_now(self, request, queryset):
        try:
            run_id = queue_odoo_sync()
        except odoo_config.OdooNotConfigured:
            self.message_user(request, "Configure Odoo first.", messages.ERROR)
            return
        self.message_user(request, f"Sync queued (run {run_id}); see the Odoo sync log.", messages.SUCCESS)


@admin.register(OdooSyncLog)
class OdooSyncLogAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "employee_id", "attendance_log_id", "action", "result", "odoo_attendance_id",
                    "message", "run_id"]  # fmt: skip
    list_filter = ["result", "action"]
    search_fields = ["employee_id", "attendance_log_id", "run_id", "message"]
    date_hierarchy = "timestamp"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
