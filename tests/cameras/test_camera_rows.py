"""Camera rows rendered with fields kept per class and made afresh per serializer
(cameras.api.serializers.KeptFieldsMixin) are the rows DRF renders with fields it makes itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from cameras.api.serializers import CameraSerializer, KeptFieldsMixin
from cameras.models import Camera, Zone
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


def _as_drf(serializer_class: type) -> type:
    """``serializer_class`` making its fields as DRF makes them (introspection and deep copies, every time)."""

    class MadeByDrf(serializer_class):
        def get_fields(self):
            return serializers.ModelSerializer.get_fields(self)

        @property
        def _readable_fields(self):
            return serializers.Serializer._readable_fields.fget(self)

    return MadeByDrf


def _drf_row(serializer_class: type, camera) -> dict:
    return _as_drf(serializer_class)().to_representation(camera)


@pytest.fixture(autouse=True)
def still_clock(monkeypatch):
    """Thumbnails are signed URLs that expire from now: both renderings sign at the same second."""
    monkeypatch.setattr("config.storage.time.time", lambda: 1_800_000_000.0)


@pytest.fixture
def cameras() -> list[Camera]:
    zone = Zone.objects.create(id="zone-001", name="Lobby", geometry=[[0, 0], [1, 0], [1, 1]])
    now = timezone.now()
    return [
        CameraFactory(),  # every default: no stream, no thumbnail, nulls
        CameraFactory(
            stream_url="rtsp://viewer:secret@192.0.2.10:8554/main",
            thumbnail="snapshots/CAM/latest.jpg",
            tags=["entrance", "north"],
            metadata={"counting": {"enabled": True, "line": [[0, 0.5], [1, 0.5]]}, "note": None},
            width=1280,
            height=720,
            fps=25.0,
            last_seen=now,
            last_checked=now - timedelta(seconds=30),
            match_threshold=0.065,
            zone=zone,
            recognition_enabled=True,
        ),
        CameraFactory(stream_url="http://192.0.2.11/video.mjpg", enabled=False, location="Yard"),
    ]


def test_each_camera_row_is_drfs_own(cameras):
    serializer = CameraSerializer()
    for camera in Camera.objects.filter(pk__in=[c.pk for c in cameras]).order_by("pk"):
        assert serializer.to_representation(camera) == _drf_row(CameraSerializer, camera)


def test_a_list_of_cameras_renders_as_drf_renders_it(cameras):
    rows = CameraSerializer(Camera.objects.order_by("pk"), many=True).data
    drf = _as_drf(CameraSerializer)(Camera.objects.order_by("pk"), many=True).data

    assert [dict(row) for row in rows] == [dict(row) for row in drf]
    assert [list(row) for row in rows] == [list(row) for row in drf]  # the keys in DRF's order too


class OddSourcesSerializer(KeptFieldsMixin, serializers.ModelSerializer):
    """Fields of every kind of source: a method, a dotted path, a relation, an attribute that is missing (with a
    default, and without one on an optional field)."""

    stream_type_label = serializers.CharField(source="get_stream_type_display", read_only=True)
    zone_name = serializers.CharField(source="zone.name", read_only=True, allow_null=True)
    zone = serializers.PrimaryKeyRelatedField(read_only=True)
    nickname = serializers.CharField(source="no_such_attribute", read_only=True, default="none")
    optional = serializers.CharField(source="no_such_attribute_either", read_only=True, required=False)

    class Meta:
        model = Camera
        fields = ["id", "name", "stream_type_label", "zone_name", "zone", "nickname", "optional", "tags"]


def test_fields_of_every_kind_of_source_render_as_drf_renders_them(cameras):
    serializer = OddSourcesSerializer()
    for camera in Camera.objects.order_by("pk"):
        row = serializer.to_representation(camera)

        assert row == _drf_row(OddSourcesSerializer, camera)
        assert "optional" not in row  # skipped, as DRF skips it
        assert row["nickname"] == "none"
    named = serializer.to_representation(cameras[1])
    assert named["zone_name"] == "Lobby" and named["zone"] == "zone-001"


def test_a_kept_field_is_made_afresh_for_each_serializer():
    first, second = CameraSerializer(), CameraSerializer()

    assert first.fields["name"] is not second.fields["name"]
    assert first.fields["name"].parent is first and second.fields["name"].parent is second
