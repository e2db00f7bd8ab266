"""The unknown-face review queue (``/api/v1/unknown-faces``, issue 20): list, detail, enrol, assign, merge,
ignore, delete. Permissions as the face API's (``faces:read`` / ``faces:write``); every action is audited by
the service (``unknown_face.*``) and every read of crops with ``record_read``, as face images are."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.audit import actor_of, record_read
from config.api.base import validated
from config.api.contracts import ApiError, FieldError, Kind
from config.api.spa import SpaViewSet
from recognition import enrolment, unknown_review
from recognition.api import serializers as face_serializers
from recognition.api import unknown_serializers as serializers
from recognition.api.filters import UnknownClusterFilterSet
from recognition.models import FaceProfile, UnknownCluster, UnknownSighting


def crops_prefetch() -> Prefetch:
    """The crops a cluster keeps, best first, as ``cluster.crops`` (one query for a whole page)."""
    return Prefetch(
        "sightings",
        queryset=UnknownSighting.objects.exclude(storage_key="").order_by("-quality", "-seen_at"),
        to_attr="crops",
    )


def _editor(request) -> enrolment.Editor:
    actor, role = actor_of(request)
    return enrolment.Editor(actor, role)


class UnknownFaceViewSet(mixins.ListModelMixin, SpaViewSet):
    queryset = UnknownCluster.objects.prefetch_related(crops_prefetch()).order_by("-last_seen", "id")
    serializer_class = serializers.UnknownClusterSerializer
    filterset_class = UnknownClusterFilterSet
    not_found = "Unknown face {pk} not found"
    audit_enabled = False  # the services write one entry per action, with what it did
    required_permissions = {
        "list": "faces:read",
        "retrieve": "faces:read",
        "destroy": "faces:write",
        "enrol": "faces:write",
        "assign": "faces:write",
        "merge": "faces:write",
        "ignore": "faces:write",
    }

    def _answer(self, cluster: UnknownCluster, status_code: int = status.HTTP_200_OK) -> Response:
        cluster = self.get_queryset().get(pk=cluster.pk)
        return Response(serializers.UnknownClusterDetailSerializer(cluster).data, status=status_code)

    def list(self, request, *args, **kwargs):  # its filters are documented from the filterset
        response = super().list(request, *args, **kwargs)
        # The page shows a face crop per cluster: biometric data, so the read is audited.
        record_read(
            request,
            action="unknown_face.list",
            employee_id="",
            message="Viewed the unknown-face queue",
            resource_type="unknown_face",
        )
        return response

    @extend_schema(responses=serializers.UnknownClusterDetailSerializer)
    def retrieve(self, request, pk=None):
        cluster = self.get_object()
        record_read(
            request,
            action="unknown_face.view",
            employee_id=cluster.employee_id,
            message=f"Viewed the crops of unknown face {cluster.pk}",
            resource_type="unknown_face",
            resource_id=str(cluster.pk),
        )
        return Response(serializers.UnknownClusterDetailSerializer(cluster).data)

    def destroy(self, request, pk=None):
        unknown_review.delete_cluster(self.get_object(), by=_editor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=serializers.UnknownEnrolSerializer, responses={201: face_serializers.FaceProfileDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        cluster = self.get_object()
        data = validated(serializers.UnknownEnrolSerializer, request.data)
        profile = unknown_review.enrol(cluster, data, by=_editor(request))
        return _profile(profile, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.UnknownAssignSerializer, responses=face_serializers.FaceProfileDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        cluster = self.get_object()
        data = validated(serializers.UnknownAssignSerializer, request.data)
        if data.get("profile_id"):
            profile = FaceProfile.objects.filter(pk=data["profile_id"]).first()
            field, value = "profile_id", data["profile_id"]
        else:
            profile = FaceProfile.objects.filter(employee_id=data["person_id"]).first()
            field, value = "person_id", data["person_id"]
        if profile is None:
            message = f"No face profile {value}"
            raise ApiError(Kind.NOT_FOUND, message, field_errors=[FieldError(field, message)])
        return _profile(unknown_review.assign(cluster, profile, by=_editor(request)))

    @extend_schema(request=serializers.UnknownMergeSerializer, responses=serializers.UnknownClusterDetailSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        source = self.get_object()
        data = validated(serializers.UnknownMergeSerializer, request.data)
        target = UnknownCluster.objects.filter(pk=data["into"]).first()
        if target is None:
            message = f"Unknown face {data['into']} not found"
            raise ApiError(Kind.NOT_FOUND, message, field_errors=[FieldError("into", message)])
        return self._answer(unknown_review.merge(source, target, by=_editor(request)))

    @extend_schema(request=None, responses=serializers.UnknownClusterDetailSerializer)
    @action(detail=True, methods=["post"])
    def ignore(self, request, pk=None):
        return self._answer(unknown_review.ignore(self.get_object(), by=_editor(request)))


def _profile(profile: FaceProfile, status_code: int = status.HTTP_200_OK) -> Response:
    profile = FaceProfile.objects.prefetch_related("images").get(pk=profile.pk)
    return Response(face_serializers.FaceProfileDetailSerializer(profile).data, status=status_code)
