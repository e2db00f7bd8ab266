"""Export job requests and status (001 envelope; the renderer turns these snake_case names into camelCase)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attendance import exports
from attendance.choices import ExportFormat, ExportStatus, ExportType
from attendance.models import ExportJob
from config.api.fields import SignedUrlField


class ExportRequestSerializer(serializers.Serializer):
    """``format`` plus the export's filters; the filters are checked by the export's own filter set.

    The declared filter fields document the body; any other key the export does not know is refused.
    """

    export_type: str = ExportType.ATTENDANCE
    format = serializers.ChoiceField(choices=ExportFormat.choices)

    def validate(self, attrs):
        raw = {key: value for key, value in self.initial_data.items() if key != "format"}
        nested = raw.pop("filters", None)
        if nested is not None:
            if not isinstance(nested, dict):
                raise serializers.ValidationError({"filters": ["Must be an object of filter parameters."]})
            # ``filters`` is a free-form document (its keys are not renamed): take them in either spelling.
            raw = {**nested, **raw}
        raw.update(self.fixed_filters())
        try:
            filters = exports.source_for(self.export_type).clean(raw)
        except exports.ExportFilterError as error:
            raise serializers.ValidationError(error.errors) from None
        return {"format": attrs["format"], "filters": filters}

    def fixed_filters(self) -> dict[str, str]:
        """Filters that come from the request's path rather than its body."""
        return {}


class AttendanceExportRequestSerializer(ExportRequestSerializer):
    export_type = ExportType.ATTENDANCE
    search = serializers.CharField(required=False, help_text="Name, employee id, department or log id")
    camera_id = serializers.CharField(required=False)
    date_from = serializers.CharField(required=False, help_text="First day (YYYY-MM-DD), inclusive")
    date_to = serializers.CharField(required=False, help_text="Last day (YYYY-MM-DD), inclusive")
    odoo_status = serializers.CharField(required=False, help_text="synced, pending or failed")
    status = serializers.CharField(required=False, help_text="present, late or missed")
    department = serializers.CharField(required=False)
    employee_id = serializers.CharField(required=False)


class AuditExportRequestSerializer(ExportRequestSerializer):
    export_type = ExportType.AUDIT
    actor = serializers.CharField(required=False)
    action = serializers.CharField(required=False, help_text="Action prefix")
    severity = serializers.CharField(required=False, help_text="info, warning or critical")
    resource_type = serializers.CharField(required=False)
    resource_id = serializers.CharField(required=False)
    date_from = serializers.CharField(required=False, help_text="ISO 8601 date-time (also ``from``)")
    date_to = serializers.CharField(required=False, help_text="ISO 8601 date-time (also ``to``)")
    search = serializers.CharField(required=False)


class HistoryExportRequestSerializer(ExportRequestSerializer):
    """The person comes from the path; ``employeeId`` in the body is refused."""

    export_type = ExportType.HISTORY
    date_from = serializers.CharField(required=False, help_text="First day (YYYY-MM-DD), inclusive")
    date_to = serializers.CharField(required=False, help_text="Last day (YYYY-MM-DD), inclusive")
    camera_id = serializers.CharField(required=False)

    def validate(self, attrs):
        if "employee_id" in self.initial_data or "employeeId" in self.initial_data:
            raise serializers.ValidationError({"employeeId": ["The person is the one in the path."]})
        return super().validate(attrs)

    def fixed_filters(self) -> dict[str, str]:
        return {"employeeId": self.context["employee_id"]}


class ExportAcceptedSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)


class ExportJobSerializer(serializers.ModelSerializer):
    """A job's status. ``id``/``error`` repeat ``jobId``/``errorMessage`` under the names DESIGN.md uses."""

    job_id = serializers.UUIDField(source="id", read_only=True)
    id = serializers.UUIDField(read_only=True)
    row_count = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()
    error_message = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "job_id",
            "id",
            "type",
            "format",
            "status",
            "progress",
            "row_count",
            "download_url",
            "error_message",
            "error",
            "created_at",
            "completed_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(SignedUrlField(allow_null=True))
    def get_download_url(self, job: ExportJob) -> str | None:
        return exports.download_url(job)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error_message(self, job: ExportJob) -> str | None:
        return job.error_message or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, job: ExportJob) -> str | None:
        return job.error_message or None
