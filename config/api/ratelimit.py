"""Token-bucket rate limits in Redis, per client and endpoint category (002 and 003).

A bucket holds ``limit`` tokens and refills at ``limit`` per minute; a request takes one. The bucket
lives in Redis and is updated by one Lua script using Redis's own clock, so any number of web
processes on any number of hosts share it exactly.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import redis
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from config import clients
from config.api import quotas
from config.api.contracts import ApiError, Contract, Kind
from config.redis import get_redis

logger = logging.getLogger("argus.ratelimit")

_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * per_ms)
local allowed = 0
if tokens >= cost then tokens = tokens - cost; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return {allowed, tostring(tokens), now}
"""


@dataclass(frozen=True)
class BucketState:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int  # when the bucket is full again
    retry_after: int  # seconds until one token is back (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_epoch),
        }


def take_token(bucket: str, limit_per_minute: int, cost: int = 1) -> BucketState:
    per_ms = limit_per_minute / 60000.0
    script = get_redis().register_script(_TOKEN_BUCKET)
    allowed, tokens_raw, now_ms = script(
        keys=[f"{settings.REDIS_PREFIX}:rl:{bucket}"], args=[limit_per_minute, per_ms, cost]
    )
    tokens = float(tokens_raw)
    missing = limit_per_minute - tokens
    reset_epoch = math.ceil((int(now_ms) + missing / per_ms) / 1000)
    retry_after = 0 if allowed else max(1, math.ceil((cost - tokens) / per_ms / 1000))
    return BucketState(bool(allowed), limit_per_minute, max(0, math.floor(tokens)), reset_epoch, retry_after)


def bucket_status(bucket: str, limit_per_minute: int) -> BucketState:
    """The bucket as it stands, without taking a token (for /api/v1/rate-limit/status)."""
    return take_token(bucket, limit_per_minute, cost=0)


def client_identity(request) -> tuple[str, str | None]:
    """(bucket owner, API key tier or None): an API key, else a user, else the client IP.

    An API key is the credential that carries a ``tier`` (``request.auth`` of the API-key authentication);
    a JWT's access token has none.
    """
    auth = getattr(request, "auth", None)
    tier = getattr(auth, "tier", None)
    if tier:
        return f"key:{auth.pk}", tier
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}", None
    return f"ip:{client_ip(request)}", None


def client_ip(request) -> str:
    return clients.client_ip(request) or "unknown"


def limit_for(category: str, tier: str | None, authenticated: bool) -> int | None:
    if category == "standard" and tier:
        return settings.API_KEY_TIER_LIMITS.get(tier, settings.RATE_LIMITS["standard"])
    if category == "standard" and not authenticated:
        return settings.RATE_LIMITS["anonymous"]
    return settings.RATE_LIMITS.get(category, settings.RATE_LIMITS["standard"])


class TokenBucketThrottle(BaseThrottle):
    """DRF throttle over :func:`take_token`; the view's ``rate_category`` picks the limit."""

    def allow_request(self, request, view) -> bool:
        category = getattr(view, "rate_category", "standard")
        if not settings.RATE_LIMIT_ENABLED or category is None:
            return True
        owner, tier = client_identity(request)
        limit = limit_for(category, tier, owner.startswith(("key:", "user:")))
        if limit is None:
            return True
        try:
            state = take_token(f"{category}:{owner}", limit)
        except redis.RedisError as exc:
            # Fail open: a Redis outage shows in health checks; it must not take the API down with it.
            logger.warning("rate limiter unavailable, request allowed: %s", exc)
            return True
        request._request.argus_ratelimit = state
        if not state.allowed:
            raise rate_limited_error(getattr(view, "contract", Contract.SPA), state)
        overall = settings.RATE_LIMITS.get("global")
        if overall:
            try:
                shared = take_token("global:all", overall)  # 002's global rule: all clients, one bucket
            except redis.RedisError:
                shared = None
            if shared is not None and not shared.allowed:
                raise rate_limited_error(getattr(view, "contract", Contract.SPA), shared)
        quota = quotas.quota_tier(owner, tier)
        if quota is not None:
            # Daily and monthly quotas (002), for keys and people; a request refused above uses none.
            quotas.enforce(owner, quota)
        return True


def rate_limited_error(contract: Contract, state: BucketState) -> ApiError:
    headers = {**state.headers(), "Retry-After": str(state.retry_after)}
    details = {"limit": state.limit, "remaining": state.remaining, "retryAfter": state.retry_after}
    extra = {}
    if contract == Contract.EDGE:
        extra = {"retry_after_seconds": state.retry_after, "limit": state.limit, "window_seconds": 60}
        details = None
    return ApiError(Kind.RATE_LIMITED, "Rate limit exceeded", headers=headers, details=details, extra=extra)
