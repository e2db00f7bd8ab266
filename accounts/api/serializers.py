from __future__ import annotations

from rest_framework import serializers

from accounts.choices import UserStatus
from accounts.models import AuditLog, Role, User


class UserSerializer(serializers.ModelSerializer):
    role_id = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "email", "role_id", "status", "last_active", "created_at", "updated_at", "version"]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    email = serializers.EmailField()
    role_id = serializers.CharField(max_length=50)
    password = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=128)
    status = serializers.ChoiceField(choices=UserStatus.choices, required=False)


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    email = serializers.EmailField(required=False)
    role_id = serializers.CharField(max_length=50, required=False)
    status = serializers.ChoiceField(choices=UserStatus.choices, required=False)
    version = serializers.IntegerField(required=False, min_value=1, help_text="Send to refuse stale updates (409)")


class PasswordChangeSerializer(serializers.Serializer):
    new_password = serializers.CharField(max_length=128, required=False)
    password = serializers.CharField(max_length=128, required=False, help_text="Alias of newPassword")
    current_password = serializers.CharField(max_length=128, required=False)

    def validate(self, attrs):
        new = attrs.get("new_password") or attrs.get("password")
        if not new:
            raise serializers.ValidationError({"new_password": "This field is required."})
        attrs["new_password"] = new
        return attrs


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "name", "permissions", "description"]


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=255, help_text="The account's email address")
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    username = serializers.CharField(max_length=100, required=False, allow_blank=True)


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = [
            "id",
            "actor",
            "actor_role",
            "action",
            "resource_type",
            "resource_id",
            "message",
            "context",
            "severity",
            "ip_address",
            "user_agent",
            "request_id",
            "timestamp",
        ]


# --- Response shapes, for the OpenAPI document only: the views answer with dicts of these fields. ---


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class SessionSerializer(TokenPairSerializer):
    user = UserSerializer()


class MeSerializer(serializers.Serializer):
    user = UserSerializer()
    permissions = serializers.ListField(child=serializers.CharField())


class EdgeTokenSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires")
