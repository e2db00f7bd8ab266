"""Query filters of the attendance logs (001 ``GET /attendance/logs``), shared by the log list, the
dashboard page, statistics and the export task so that a filter means the same everywhere."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field

from attendance.choices import AttendanceStatus, OdooStatus
from attendance.models import AttendanceLog
from config.api.filters import QueryAliases

# 001 spells query parameters in camelCase; an export job's stored filters (parsed from a JSON body)
# and the dashboard's form use snake_case. Both spellings are accepted.
SNAKE_ALIASES = {
    "camera_id": "cameraId",
    "date_from": "dateFrom",
    "date_to": "dateTo",
    "odoo_status": "odooStatus",
    "employee_id": "employeeId",
}
FILTER_PARAMS = ("search", "cameraId", "dateFrom", "dateTo", "odooStatus", "status", "department", "employeeId")


class SiteDateField(forms.Field):
    """A day as ``YYYY-MM-DD``, or a moment (ISO 8601) taken as its day in the site's time zone."""

    default_error_messages = {"invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."}

    def to_python(self, value) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            day = parse_date(text)
            if day is not None:
                return day
            moment = parse_datetime(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return timezone.localtime(moment).date()


# Documented as a day; a date-time is read as its site-local day too.
@extend_schema_field({"type": "string", "format": "date"})
class SiteDateFilter(django_filters.Filter):
    field_class = SiteDateField


class AttendanceLogFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        day_from, day_to = cleaned.get("dateFrom"), cleaned.get("dateTo")
        if day_from and day_to and day_from > day_to:
            self.add_error("dateTo", "dateTo must be on or after dateFrom.")
        return cleaned


class AttendanceLogFilterSet(QueryAliases, django_filters.FilterSet):
    """001's ``search``, ``cameraId``, ``dateFrom``, ``dateTo``, ``odooStatus``, plus ``status``,
    ``department`` and ``employeeId``. Dates are site-local days, inclusive at both ends."""

    search = django_filters.CharFilter(method="filter_search", help_text="Name, employee id, department or log id")
    cameraId = django_filters.CharFilter(field_name="camera_id", help_text="Camera of the log")
    dateFrom = SiteDateFilter(field_name="date", lookup_expr="gte", help_text="First day (YYYY-MM-DD)")
    dateTo = SiteDateFilter(field_name="date", lookup_expr="lte", help_text="Last day (YYYY-MM-DD)")
    odooStatus = django_filters.ChoiceFilter(field_name="odoo_status", choices=OdooStatus.choices)
    status = django_filters.ChoiceFilter(choices=AttendanceStatus.choices)
    department = django_filters.CharFilter(field_name="department", lookup_expr="iexact")
    employeeId = django_filters.CharFilter(field_name="employee_id", lookup_expr="iexact")

    class Meta:
        model = AttendanceLog
        fields = list(FILTER_PARAMS)
        form = AttendanceLogFilterForm

    query_aliases = SNAKE_ALIASES

    def __init__(self, data=None, queryset=None, *args, **kwargs):
        if queryset is None:
            queryset = AttendanceLog.objects.select_related("camera")
        super().__init__(data, queryset, *args, **kwargs)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(employee_id__icontains=value)
            | Q(department__icontains=value)
            | Q(id__icontains=value)
        )
