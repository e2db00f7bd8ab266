from __future__ import annotations

from django import forms
from django.contrib import admin

from attendance import shifts as shift_rules
from attendance.models import AttendanceLog, AttendanceRecord, ExportJob, ShiftSchedule

WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


class ShiftScheduleForm(forms.ModelForm):
    """Departments as one comma-separated line and weekdays as checkboxes, rather than raw JSON."""

    departments = forms.CharField(
        required=False,
        help_text="Comma-separated department names (any case); empty: the shift applies to everyone.",
        widget=forms.TextInput(attrs={"size": 60}),
    )
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, help_text="Days the shift runs."
    )

    class Meta:
        model = ShiftSchedule
        fields = [
            "id",
            "name",
            "start_time",
            "end_time",
            "grace_minutes",
            "location",
            "departments",
            "weekdays",
            "expected_headcount",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["departments"] = ", ".join(self.instance.departments or [])
        if self.instance.pk is None and "weekdays" not in self.initial:
            self.initial["weekdays"] = self.instance.weekdays

    def clean_departments(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["departments"].split(",")]
        return list(dict.fromkeys(name for name in names if name))

    def clean_weekdays(self) -> list[int]:
        return sorted(set(self.cleaned_data["weekdays"]))


@admin.register(ShiftSchedule)
class ShiftScheduleAdmin(admin.ModelAdmin):
    form = ShiftScheduleForm
    list_display = [
        "id",
        "name",
        "start_time",
        "end_time",
        "grace_minutes",
        "department_list",
        "expected_headcount",
        "compliance",
        "active",
    ]
    list_editable = ["grace_minutes", "active"]
    list_filter = ["active"]
    search_fields = ["id", "name", "location"]
    readonly_fields = ["compliance", "created_at", "updated_at"]

    @admin.display(description="Departments")
    def department_list(self, shift: ShiftSchedule) -> str:
        return ", ".join(shift.departments) or "everyone"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        ShiftSchedule.objects.filter(pk=obj.pk).update(compliance=shift_rules.compliance(obj).percent)


@admin.register(AttendanceLog)
class AttendanceLogAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "employee_id",
        "name",
        "department",
        "date",
        "check_in",
        "check_out",
        "camera",
        "status",
        "manual_override",
        "odoo_status",
    ]
    list_filter = ["status", "odoo_status", "manual_override", "date", "shift"]
    search_fields = ["id", "employee_id", "name", "department"]
    date_hierarchy = "date"
    list_select_related = ["camera"]
    readonly_fields = ["id", "created_at", "updated_at", "odoo_sync_time", "odoo_attendance_id"]
    raw_id_fields = ["camera"]


@admin.register(AttendanceRecord)
class AttendanceRecordAdmin(admin.ModelAdmin):
    """Presence is written by recognition only."""

    list_display = ["person_id", "name", "department", "status", "camera_name", "accuracy", "timestamp"]
    list_filter = ["status"]
    search_fields = ["person_id", "name", "department"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Export jobs are made by the API and filled by the export task: viewable, never edited here."""

    list_display = ["id", "type", "format", "status", "progress", "row_count", "user", "created_at", "expires_at"]
    list_filter = ["type", "format", "status"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
