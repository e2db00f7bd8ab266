"""002 gateway endpoints: ``GET /api/v1/rate-limit/status`` and ``GET /api/v1/stats/usage``."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import redis
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from config.api import quotas, usage
from config.api.base import AUTHENTICATED
from config.api.contracts import ApiError, FieldError, Kind, utc_iso
from config.api.plain import GatewayAPIView
from config.api.ratelimit import bucket_status, client_identity, limit_for
from config.metrics import route_of

WINDOW_MS = 60_000  # token buckets refill over a minute
DEFAULT_TIME_RANGE = "24h"
MAX_TIME_RANGE = timedelta(days=366)
_DURATION = re.compile(r"^(\d{1,6})\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# Response shapes, for the OpenAPI document only (the views answer with dicts).
class _LimitsSerializer(serializers.Serializer):
    requests = serializers.IntegerField(help_text="Requests per window")
    remaining = serializers.IntegerField()
    reset = serializers.DateTimeField(help_text="When the bucket is full again")
    window = serializers.IntegerField(help_text="Window in milliseconds")


class _QuotaSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="null: no quota")
    reset = serializers.DateTimeField()


class _QuotasSerializer(serializers.Serializer):
    daily = _QuotaSerializer()
    monthly = _QuotaSerializer()


class RateLimitStatusSerializer(serializers.Serializer):
    clientId = serializers.CharField(help_text="key:<id>, user:<id> or ip:<address>")
    limits = _LimitsSerializer()
    quotas = _QuotasSerializer(
        allow_null=True, help_text="null for anonymous callers, and for people when no user quota tier is set"
    )


class _EndpointUsageSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Route pattern")
    method = serializers.CharField()
    requests = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Responses with status 400 or above")
    avgResponseTime = serializers.FloatField(help_text="Milliseconds")


class _TimeRangeSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class UsageStatsSerializer(serializers.Serializer):
    timeRange = _TimeRangeSerializer()
    totalRequests = serializers.IntegerField()
    successfulRequests = serializers.IntegerField()
    failedRequests = serializers.IntegerField()
    averageResponseTime = serializers.FloatField(help_text="Milliseconds")
    endpoints = _EndpointUsageSerializer(many=True)


class RateLimitStatusView(GatewayAPIView):
    """The caller's standard bucket (read, not taken) and the daily and monthly quotas (API keys by their
    tier, people by ``API_USER_QUOTA_TIER``)."""

    required_permissions = AUTHENTICATED
    # Reading the status takes no token and uses no quota: a client may poll it while throttled.
    rate_category = None

    @extend_schema(operation_id="rate_limit_status", responses={200: RateLimitStatusSerializer})
    def get(self, request):
        owner, tier = client_identity(request)
        limit = limit_for("standard", tier, authenticated=True)
        try:
            state = bucket_status(f"standard:{owner}", limit)
            quota = quotas.quota_tier(owner, tier)
            quota_state = quotas.status(owner, quota) if quota else None
        except redis.RedisError:
            raise ApiError(Kind.UNAVAILABLE, "Rate limit store unavailable") from None
        return Response(
            {
                "clientId": owner,
                "limits": {
                    "requests": limit,
                    "remaining": state.remaining,
                    "reset": utc_iso(datetime.fromtimestamp(state.reset_epoch, UTC)),
                    "window": WINDOW_MS,
                },
                "quotas": quota_state.as_dict() if quota_state else None,
            }
        )


def _plus_offset(text: str) -> str:
    """A "+07:00" offset sent unencoded in a query string arrives as " 07:00"."""
    if len(text) > 6 and text[-6] == " " and text[-5:-3].isdigit() and text[-3] == ":":
        return f"{text[:-6]}+{text[-5:]}"
    return text


def parse_time_range(raw: str | None, now: datetime) -> tuple[datetime, datetime]:
    """``15m``, ``1h``, ``24h``, ``7d``, ``2w`` (up to now), or an ISO 8601 interval ``<start>/<end>``."""
    text = (raw or DEFAULT_TIME_RANGE).strip()
    error = ApiError(
        Kind.VALIDATION,
        "Invalid value for field: timeRange",
        field_errors=[FieldError("timeRange", "a duration such as 1h, 24h, 7d, or <ISO start>/<ISO end>")],
    )
    match = _DURATION.match(text)
    if match:
        span = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        start, end = now - span, now
    elif "/" in text:
        first, _, second = text.partition("/")
        try:
            start, end = (datetime.fromisoformat(_plus_offset(part.strip())) for part in (first, second))
        except ValueError:
            raise error from None
        start, end = (m.replace(tzinfo=UTC) if timezone.is_naive(m) else m for m in (start, end))
    else:
        raise error
    if not start < end or end - start > MAX_TIME_RANGE:
        raise ApiError(
            Kind.VALIDATION,
            "Invalid value for field: timeRange",
            field_errors=[FieldError("timeRange", f"must be a non-empty range of at most {MAX_TIME_RANGE.days} days")],
        )
    return start, end


def parse_endpoint(raw: str | None) -> tuple[str | None, str | None]:
    """(method, route pattern) of an ``endpoint`` filter: a pattern or a concrete path, optionally after a
    method (``GET /api/v1/cameras/cam-1/counts``). A concrete path is matched by the route that serves it."""
    text = (raw or "").strip()
    if not text:
        return None, None
    method = None
    head, _, rest = text.partition(" ")
    if rest and head.isalpha():
        method, text = head.upper(), rest.strip()
    if "<" not in text:
        # A path that is no route of this site stays as given: it matches nothing, which is the true answer.
        with contextlib.suppress(Resolver404):
            text = route_of(SimpleNamespace(resolver_match=resolve(text)))
    return method, text


class UsageStatsView(GatewayAPIView):
    """Requests, successes, failures and response times per endpoint over a time range."""

    required_permissions = AUTHENTICATED

    @extend_schema(
        operation_id="usage_stats",
        parameters=[
            OpenApiParameter(
                "timeRange", str, description="1h, 24h (default), 7d, 15m, 2w, or an ISO interval <start>/<end>"
            ),
            OpenApiParameter(
                "endpoint", str, description="A route pattern or path, optionally after a method: GET /api/v1/health"
            ),
            OpenApiParameter(
                "clientId",
                str,
                description="key:<id>, user:<id> or ip:<address>. Without gateway:read, only the caller's own.",
            ),
        ],
        responses={200: UsageStatsSerializer, 403: OpenApiResponse(description="Another client's usage")},
    )
    def get(self, request):
        now = timezone.now()
        start, end = parse_time_range(request.query_params.get("timeRange"), now)
        method, path = parse_endpoint(request.query_params.get("endpoint"))
        own, _ = client_identity(request)
        asked = (request.query_params.get("clientId") or "").strip() or None
        if not request.user.has_permission("gateway:read"):
            # Without gateway:read a caller sees its own usage only, and asking for another's is refused.
            if asked not in (None, own):
                raise ApiError(Kind.FORBIDDEN, "Only your own usage: gateway:read is needed for other clients")
            asked = own
        return Response(usage.usage_stats(start, end, client_id=asked, path=path, method=method))
