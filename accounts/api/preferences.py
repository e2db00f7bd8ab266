"""001 settings: ``GET /i18n/languages``, ``GET /settings/timezones``, ``GET|PUT /settings/preferences``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts import preferences
from accounts.choices import GridMode, Theme
from accounts.models import User
from accounts.validators import validate_extras, validate_language, validate_timezone
from config.api.base import AUTHENTICATED, PUBLIC
from config.api.contracts import ApiError, Kind
from config.api.spa import SpaAPIView


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only: ``"no"`` or ``0`` for a switch is more likely a client bug than intent."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class PreferencesSerializer(serializers.Serializer):
    """Every field optional: a PUT changes what it sends. ``preferences`` (the extras) is replaced whole."""

    # Fields a client may send back unchanged from a GET; they are ignored rather than refused.
    ECHOED = frozenset({"updated_at"})

    theme = serializers.ChoiceField(choices=Theme.choices, required=False)
    grid_mode = serializers.ChoiceField(choices=GridMode.choices, required=False)
    auto_rotate = StrictBooleanField(required=False)
    language = serializers.CharField(max_length=10, required=False, validators=[validate_language])
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    preferences = serializers.JSONField(
        required=False, validators=[validate_extras], help_text="Free-form JSON object of the client (≤ 16 KB)"
    )
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # A misspelt key ("gridmode") would otherwise be dropped silently and the PUT look successful.
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - self.ECHOED)
            if unknown:
                raise serializers.ValidationError({name: ["Unknown preference"] for name in unknown})
        return super().to_internal_value(data)


class LanguageSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    native_name = serializers.CharField()


class TimezoneSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="IANA name, e.g. Asia/Ho_Chi_Minh")
    offset = serializers.CharField(help_text="UTC offset now, e.g. +07:00")
    label = serializers.CharField()


def _person(request) -> User:
    if not isinstance(request.user, User):
        raise ApiError(Kind.FORBIDDEN, "API keys have no preferences; sign in as a user")
    return request.user


class LanguagesView(SpaAPIView):
    # Public: a sign-in page offers the language before anyone has signed in.
    required_permissions = PUBLIC

    @extend_schema(responses=LanguageSerializer(many=True), summary="Languages the platform offers")
    def get(self, request):
        return Response(preferences.languages())


class TimezonesView(SpaAPIView):
    required_permissions = AUTHENTICATED

    @extend_schema(responses=TimezoneSerializer(many=True), summary="IANA time zones with their UTC offset now")
    def get(self, request):
        return Response(preferences.timezones())


class PreferencesView(SpaAPIView):
    required_permissions = AUTHENTICATED
    audit_resource = "preferences"

    @extend_schema(responses=PreferencesSerializer, summary="Your preferences (the defaults until you save some)")
    def get(self, request):
        return Response(PreferencesSerializer(preferences.preferences_of(_person(request))).data)

    @extend_schema(
        request=PreferencesSerializer, responses=PreferencesSerializer, summary="Change your preferences (partial)"
    )
    def put(self, request):
        user = _person(request)
        serializer = PreferencesSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(PreferencesSerializer(preferences.update_preferences(user, serializer.validated_data)).data)
