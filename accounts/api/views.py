"""001 auth, users, roles and audit endpoints; the 003 token endpoint."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services, tokens
from accounts.api import serializers
from accounts.api.filters import AuditLogFilterSet, UserFilterSet
from accounts.audit import origin_of
from accounts.models import AuditLog, Role, User
from config.api.base import AUTHENTICATED, PUBLIC, validated
from config.api.contracts import ApiError, Kind
from config.api.edge import EdgeAPIView
from config.api.spa import SpaAPIView, SpaViewSet


def _session_payload(user: User, pair: tokens.TokenPair) -> dict:
    return {
        "access_token": pair.access,
        "refresh_token": pair.refresh,
        "user": serializers.UserSerializer(user).data,
    }


class LoginView(SpaAPIView):
    required_permissions = PUBLIC
    rate_category = "login"
    audit_enabled = False  # the sign-in service records success and failure itself
    authentication_classes = []

    @extend_schema(
        request=serializers.LoginSerializer,
        responses=serializers.SessionSerializer,
        summary="Sign in with email and password",
    )
    def post(self, request):
        data = validated(serializers.LoginSerializer, request.data)
        origin = origin_of(request)
        user, pair = services.sign_in(data["username"], data["password"], ip=origin.ip, user_agent=origin.user_agent)
        return Response(_session_payload(user, pair))


class RefreshView(SpaAPIView):
    required_permissions = PUBLIC
    rate_category = "standard"  # token upkeep must not use up the sign-in allowance
    audit_enabled = False
    authentication_classes = []

    @extend_schema(
        request=serializers.RefreshSerializer,
        responses=serializers.TokenPairSerializer,
        summary="Exchange a refresh token for a new pair",
    )
    def post(self, request):
        data = validated(serializers.RefreshSerializer, request.data)
        origin = origin_of(request)
        pair = tokens.rotate(data["refresh_token"], ip=origin.ip, user_agent=origin.user_agent)
        return Response({"access_token": pair.access, "refresh_token": pair.refresh})


class LogoutView(SpaAPIView):
    required_permissions = PUBLIC  # the refresh token itself is the credential
    audit_resource = "session"
    audit_action = "logout"
    rate_category = "standard"  # token upkeep must not use up the sign-in allowance
    authentication_classes = []

    @extend_schema(request=serializers.RefreshSerializer, responses={204: None}, summary="Revoke a session")
    def post(self, request):
        data = validated(serializers.RefreshSerializer, request.data)
        tokens.revoke(data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterView(SpaAPIView):
    required_permissions = PUBLIC
    audit_resource = "user"
    audit_action = "register"
    rate_category = "login"
    authentication_classes = []

    @extend_schema(
        request=serializers.RegisterSerializer,
        responses={201: serializers.SessionSerializer},
        summary="Create an account (when the site allows it)",
    )
    def post(self, request):
        if not settings.ARGUS_ALLOW_REGISTRATION:
            raise ApiError(Kind.FORBIDDEN, "Self-registration is disabled on this site", code="REGISTRATION_DISABLED")
        data = validated(serializers.RegisterSerializer, request.data)
        name = data.get("name") or data.get("username") or data["email"].split("@")[0]
        user = services.create_user(
            name=name, email=data["email"], role_id=settings.ARGUS_REGISTRATION_ROLE, password=data["password"]
        )
        origin = origin_of(request)
        pair = tokens.issue_tokens(user, ip=origin.ip, user_agent=origin.user_agent)
        return Response(_session_payload(user, pair), status=status.HTTP_201_CREATED)


class MeView(SpaAPIView):
    required_permissions = AUTHENTICATED

    @extend_schema(responses=serializers.MeSerializer, summary="The signed-in user and their permissions")
    def get(self, request):
        if not isinstance(request.user, User):
            raise ApiError(Kind.FORBIDDEN, "API keys have no user profile")
        user = request.user
        return Response({"user": serializers.UserSerializer(user).data, "permissions": user.permission_strings})


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SpaViewSet,
):
    queryset = User.objects.select_related("role").order_by("email")
    serializer_class = serializers.UserSerializer
    filterset_class = UserFilterSet
    not_found = "User not found"
    audit_resource = "user"
    required_permissions = {
        "list": "users:read",
        "retrieve": "users:read",
        "create": "users:write",
        "update": "users:write",
        "partial_update": "users:write",
        "destroy": "users:write",
        "password": AUTHENTICATED,  # own password; someone else's needs users:write (checked below)
    }

    @extend_schema(request=serializers.UserCreateSerializer, responses={201: serializers.UserSerializer})
    def create(self, request):
        data = validated(serializers.UserCreateSerializer, request.data)
        user = services.create_user(**data, by=request.user)
        return Response(serializers.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.UserUpdateSerializer, responses=serializers.UserSerializer)
    def update(self, request, pk=None):
        user = self.get_object()
        data = dict(validated(serializers.UserUpdateSerializer, request.data))
        version = data.pop("version", None)
        user = services.update_user(user, data, expected_version=version, by=request.user)
        return Response(serializers.UserSerializer(user).data)

    partial_update = update

    def destroy(self, request, pk=None):
        services.delete_user(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=serializers.PasswordChangeSerializer, responses={204: None})
    @action(detail=True, methods=["patch"], url_path="password")
    def password(self, request, pk=None):
        if not isinstance(request.user, User):
            raise ApiError(Kind.FORBIDDEN)
        user = self.get_object()
        if user.pk != request.user.pk and not request.user.has_permission("users:write"):
            raise ApiError(Kind.FORBIDDEN)
        data = validated(serializers.PasswordChangeSerializer, request.data)
        services.change_password(
            user, data["new_password"], current_password=data.get("current_password"), by=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleViewSet(mixins.ListModelMixin, SpaViewSet):
    queryset = Role.objects.order_by("id")
    serializer_class = serializers.RoleSerializer
    pagination_class = None
    required_permissions = AUTHENTICATED


class AuditLogViewSet(mixins.ListModelMixin, SpaViewSet):
    queryset = AuditLog.objects.order_by("-timestamp")
    serializer_class = serializers.AuditLogSerializer
    filterset_class = AuditLogFilterSet
    required_permissions = "audit:read"


class EdgeTokenView(EdgeAPIView):
    """003 ``POST /auth/token``: the same sign-in, answered in the ANPR engine's shape."""

    required_permissions = PUBLIC
    rate_category = "login"
    audit_enabled = False
    authentication_classes = []

    @extend_schema(request=serializers.LoginSerializer, responses=serializers.EdgeTokenSerializer)
    def post(self, request):
        data = validated(serializers.LoginSerializer, request.data)
        origin = origin_of(request)
        try:
            _, pair = services.sign_in(data["username"], data["password"], ip=origin.ip, user_agent=origin.user_agent)
        except ApiError as error:
            if error.kind == Kind.UNAUTHENTICATED:
                raise ApiError(Kind.UNAUTHENTICATED, "Invalid credentials") from None
            raise
        return Response({"access_token": pair.access, "token_type": "bearer", "expires_in": pair.access_expires_in})
