"""000's count models, plain snake_case JSON. The ingest body is validated by ``counting.ingest`` (one set
of rules for the API and the video counter); the request serializers here document it in the schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from counting.models import CountRecord, CountSource


class CountDataInSerializer(serializers.Serializer):
    """000 ``CountData`` as a counter sends it."""

    camera_id = serializers.CharField(required=False, help_text="The path's camera, if given at all")
    count = serializers.IntegerField(min_value=0, help_text="Number of people (objects) counted")
    timestamp = serializers.DateTimeField(help_text="When, ISO 8601 with a time zone")
    confidence = serializers.FloatField(min_value=0, max_value=1, help_text="Detection confidence (0-1)")
    image_url = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=500)
    zone_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=50, help_text="Zone or line"
    )


class CountBatchInSerializer(serializers.Serializer):
    counts = CountDataInSerializer(many=True)


class CountDataSerializer(serializers.ModelSerializer):
    """000 ``CountDataResponse``, with the stored row's id, source and zone."""

    camera_id = serializers.CharField(read_only=True)
    image_url = serializers.SerializerMethodField()
    zone_id = serializers.SerializerMethodField()
    source = serializers.ChoiceField(choices=CountSource.choices, read_only=True)

    class Meta:
        model = CountRecord
        fields = ["id", "camera_id", "count", "timestamp", "confidence", "image_url", "zone_id", "source", "created_at"]
        read_only_fields = fields

    def get_image_url(self, record: CountRecord) -> str | None:
        return record.image_url or None

    def get_zone_id(self, record: CountRecord) -> str | None:
        return record.zone_id or None


class CountBatchSerializer(serializers.Serializer):
    counts = CountDataSerializer(many=True)


class RealtimeCountSerializer(serializers.Serializer):
    camera_id = serializers.CharField()
    camera_name = serializers.CharField()
    status = serializers.CharField(help_text="active, inactive or maintenance")
    count = serializers.IntegerField(allow_null=True, help_text="Latest count; null when the camera has none")
    confidence = serializers.FloatField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    image_url = serializers.CharField(allow_null=True)
    zone_id = serializers.CharField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    total_records = serializers.IntegerField(help_text="Count records in the range")
    total_count = serializers.IntegerField(help_text="Sum of the counts")
    avg_count = serializers.FloatField(allow_null=True, help_text="total_count / total_records")
    min_count = serializers.IntegerField(allow_null=True)
    max_count = serializers.IntegerField(allow_null=True)
    avg_confidence = serializers.FloatField(allow_null=True)


class CameraFiguresSerializer(FiguresSerializer):
    camera_id = serializers.CharField()
    camera_name = serializers.CharField(allow_null=True)


class DailyFiguresSerializer(FiguresSerializer):
    date = serializers.DateField(help_text="UTC day")


class HourlyFiguresSerializer(FiguresSerializer):
    hour = serializers.DateTimeField(help_text="Start of the UTC hour")


class AnalyticsSerializer(serializers.Serializer):
    """``GET /api/v1/counts/analytics``. Buckets with no counts are left out."""

    camera_id = serializers.CharField(allow_null=True, help_text="The camera asked for; null for every camera")
    start_date = serializers.DateTimeField(help_text="Start of the range covered (the first whole hour)")
    end_date = serializers.DateTimeField(help_text="End of the range covered, exclusive (a whole hour)")
    granularity = serializers.CharField(help_text="Always 'hour': the range is widened to whole UTC hours")
    summary = FiguresSerializer(help_text="Every camera asked for, over the whole range")
    cameras = CameraFiguresSerializer(many=True, help_text="Per camera, over the whole range")
    daily = DailyFiguresSerializer(many=True, help_text="Per UTC day (of the cameras asked for)")
    hourly = HourlyFiguresSerializer(
        many=True, allow_null=True, help_text="Per UTC hour; null for ranges longer than 31 days (configurable)"
    )


def count_payload(records: list[CountRecord]) -> list[dict[str, Any]]:
    return CountDataSerializer(records, many=True).data
