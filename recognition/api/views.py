"""001 face endpoints (``/api/v1/faces``) and Argus's identify and verify."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.audit import actor_of, record_read
from config.api.base import validated
from config.api.contracts import ApiError, FieldError, Kind
from config.api.spa import SpaAPIView, SpaViewSet
from recognition import enrolment
from recognition.api import serializers
from recognition.api.filters import FaceProfileFilterSet
from recognition.engine import FaceEngineUnavailable, get_engine
from recognition.identification import identify_faces, verify_against_profile, verify_images
from recognition.images import read_upload
from recognition.models import FaceImage, FaceProfile


def engine_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """An engine that cannot run (weights absent, unsupported model) is a 503 that says why."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except FaceEngineUnavailable as exc:
            raise ApiError(Kind.UNAVAILABLE, str(exc), code="FACE_ENGINE_UNAVAILABLE") from None

    return wrapper


def _form_fields(request) -> dict:
    """The request's non-file fields as plain values (a multipart QueryDict holds lists)."""
    data = request.data
    if hasattr(data, "getlist"):
        return {key: data.get(key) for key in data if key not in request.FILES}
    return dict(data)


def _audit_view(request, profile: FaceProfile, action: str, message: str) -> None:
    # Face images are biometric: who looked at whose is audited (issue 20), reads included.
    record_read(
        request,
        action=action,
        employee_id=profile.employee_id,
        message=f"{message} of {profile.employee_id} ({profile.name})",
        resource_type="face_profile",
        resource_id=str(profile.pk),
    )


def _images_with_profiles():
    return Prefetch("images", queryset=FaceImage.objects.order_by("created_at", "id"))


class FaceProfileViewSet(mixins.ListModelMixin, SpaViewSet):
    queryset = FaceProfile.objects.prefetch_related(_images_with_profiles()).order_by("name", "employee_id")
    serializer_class = serializers.FaceProfileSerializer
    filterset_class = FaceProfileFilterSet
    not_found = "Face profile {pk} not found"
    audit_resource = "face_profile"
    required_permissions = {
        "list": "faces:read",
        "retrieve": "faces:read",
        "images": "faces:read",
        "create": "faces:write",
        "update": "faces:write",
        "partial_update": "faces:write",
        "destroy": "faces:write",
        "add_images": "faces:write",
        "delete_image": "faces:write",
    }

    def _detail(self, profile: FaceProfile, status_code: int = status.HTTP_200_OK) -> Response:
        profile = self.get_queryset().get(pk=profile.pk)  # fresh, with its images prefetched
        return Response(serializers.FaceProfileDetailSerializer(profile).data, status=status_code)

    @extend_schema(parameters=[OpenApiParameter("search", str), OpenApiParameter("department", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses=serializers.FaceProfileDetailSerializer)
    def retrieve(self, request, pk=None):
        profile = self.get_object()
        _audit_view(request, profile, "face_profile.view", "Viewed the face profile and images")
        return Response(serializers.FaceProfileDetailSerializer(profile).data)

    @extend_schema(
        request={"multipart/form-data": serializers.FaceProfileCreateSchemaSerializer},
        responses={201: serializers.FaceProfileDetailSerializer},
    )
    @engine_errors
    def create(self, request):
        data = validated(serializers.FaceProfileWriteSerializer, _form_fields(request))
        files = request.FILES.getlist("images") if hasattr(request.FILES, "getlist") else []
        profile = enrolment.create_profile(data, files)
        return self._detail(profile, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.FaceProfileWriteSerializer, responses=serializers.FaceProfileDetailSerializer)
    def update(self, request, pk=None):
        profile = self.get_object()
        data = validated(serializers.FaceProfileWriteSerializer, _form_fields(request), partial=True)
        return self._detail(enrolment.update_profile(profile, data))

    partial_update = update

    def destroy(self, request, pk=None):
        actor, role = actor_of(request)
        enrolment.delete_profile(self.get_object(), by=enrolment.Editor(actor, role))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # A list of one profile's images: the profile list's filters are not its query parameters.
    @extend_schema(responses=serializers.FaceImageSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="images", pagination_class=None)  # a profile's few images
    def images(self, request, pk=None):
        profile = self.get_object()
        _audit_view(request, profile, "face_profile.view_images", "Viewed the face images")
        return Response(serializers.FaceImageSerializer(profile.images.all(), many=True).data)

    @extend_schema(
        request={"multipart/form-data": serializers.FaceImagesUploadSerializer},
        responses={201: serializers.FaceImageSerializer(many=True)},
        filters=False,
    )
    @images.mapping.post
    @engine_errors
    def add_images(self, request, pk=None):
        profile = self.get_object()
        files = request.FILES.getlist("images") if hasattr(request.FILES, "getlist") else []
        created = enrolment.add_images(profile, files)
        return Response(serializers.FaceImageSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["delete"], url_path=r"images/(?P<image_id>[^/]+)")
    def delete_image(self, request, pk=None, image_id=None):
        profile = self.get_object()
        try:
            image = profile.images.filter(pk=uuid.UUID(str(image_id))).first()
        except ValueError:
            image = None
        if image is None:
            raise ApiError(Kind.NOT_FOUND, f"Image {image_id} of face profile {profile.pk} not found")
        enrolment.delete_image(image)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _required_image(request, field: str):
    upload = request.FILES.get(field) if hasattr(request.FILES, "get") else None
    if upload is None:
        message = f"{field} is required (multipart file)"
        raise ApiError(Kind.VALIDATION, message, field_errors=[FieldError(field, message)])
    return read_upload(upload, field)


class IdentifyView(SpaAPIView):
    """1:N: every face of the image against every enrolled person."""

    required_permissions = "faces:read"
    audit_enabled = False  # a search changes nothing

    @extend_schema(
        request={"multipart/form-data": serializers.IdentifyRequestSerializer},
        responses=serializers.IdentifyResponseSerializer,
    )
    @engine_errors
    def post(self, request):
        upload = _required_image(request, "image")
        options = validated(serializers.IdentifyOptionsSerializer, _form_fields(request))
        engine = get_engine()
        faces = identify_faces(upload.pixels, limit=options["limit"], engine=engine)
        return Response(
            {
                "faces": [face.as_api() for face in faces],
                "model": engine.model_name,
                "threshold": round(engine.threshold, 4),
            }
        )


class VerifyView(SpaAPIView):
    """1:1: ``image1`` against ``image2``, or against the enrolled images of ``employeeId``."""

    required_permissions = "faces:read"
    audit_enabled = False

    @extend_schema(
        request={"multipart/form-data": serializers.VerifyRequestSerializer},
        responses=serializers.VerifyResponseSerializer,
    )
    @engine_errors
    def post(self, request):
        first = _required_image(request, "image1")
        has_second = hasattr(request.FILES, "get") and request.FILES.get("image2") is not None
        employee_id = (_form_fields(request).get("employee_id") or "").strip()
        if has_second == bool(employee_id):
            message = "Send image2 or employeeId (one of them)"
            raise ApiError(Kind.VALIDATION, message, field_errors=[FieldError("image2", message)])
        if has_second:
            result = verify_images(first.pixels, _required_image(request, "image2").pixels)
        else:
            profile = FaceProfile.objects.filter(employee_id=employee_id).first()
            if profile is None:
                raise ApiError(Kind.NOT_FOUND, f"No face profile for employee {employee_id}")
            result = verify_against_profile(first.pixels, profile)
        return Response(result.as_api())
