"""Token-bucket rate limits in Redis, per client and endpoint category (002 and 003).

A bucket holds ``limit`` tokens and refills at ``limit`` per minute; a request takes one. The bucket
lives in Redis and is updated by one Lua script using Redis's own clock, so any number of web
processes on any number of hosts share it exactly.
"""

from __future__ import annotations

import functools
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

_BUCKET = """
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
if tokens >= cost then tokens = math.min(capacity, tokens - cost); allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
"""
_TOKEN_BUCKET = _BUCKET + "return {allowed, tostring(tokens), now}\n"
# An API key's request also counts against its daily and monthly quotas (KEYS[2], KEYS[3]; ARGV[4..7] their
# limits and expiry), exactly as config.api.quotas counts them, and only when the bucket let it through: one
# round trip for both. (The platform's one Redis holds every key; on a Cluster they would need one slot.)
_TOKEN_BUCKET_AND_QUOTA = (
    _BUCKET
    + """
if allowed == 0 then return {allowed, tostring(tokens), now} end
local used = {tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(redis.call('GET', KEYS[3]) or '0')}
for i = 1, 2 do
    local limit = tonumber(ARGV[3 + i])
    if limit > 0 and used[i] >= limit then return {allowed, tostring(tokens), now, 0, used[1], used[2]} end
end
for i = 1, 2 do
    used[i] = redis.call('INCR', KEYS[i + 1])
    redis.call('EXPIREAT', KEYS[i + 1], ARGV[5 + i])
end
return {allowed, tostring(tokens), now, 1, used[1], used[2]}
"""
)


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


def _script(source: str):
    """The script on the platform's Redis, made once per client (``register_script`` hashes its source)."""
    return _registered(get_redis(), source)


@functools.cache
def _registered(client: redis.Redis, source: str):
    return client.register_script(source)


def _bucket_key(bucket: str) -> str:
    return f"{settings.REDIS_PREFIX}:rl:{bucket}"


def take_token(bucket: str, limit_per_minute: int, cost: int = 1) -> BucketState:
    per_ms = limit_per_minute / 60000.0
    allowed, tokens_raw, now_ms = _script(_TOKEN_BUCKET)(
        keys=[_bucket_key(bucket)], args=[limit_per_minute, per_ms, cost]
    )
    return _bucket_state(bool(allowed), limit_per_minute, float(tokens_raw), int(now_ms), cost)


def take_token_and_quota(
    bucket: str, limit_per_minute: int, owner: str, tier: str
) -> tuple[BucketState, quotas.QuotaState | None]:
    """:func:`take_token`, then, if the bucket let the request through, :func:`quotas.consume` for ``owner``:
    one round trip. The quota state is None where the bucket refused (no quota counted)."""
    per_ms = limit_per_minute / 60000.0
    plan = quotas.consume_plan(owner, tier)
    if plan.keys is None:  # no quota for this tier: the bucket alone
        return take_token(bucket, limit_per_minute), plan.state(None)
    keys, args = [_bucket_key(bucket), *plan.keys], [limit_per_minute, per_ms, 1, *plan.args]
    reply = _script(_TOKEN_BUCKET_AND_QUOTA)(keys=keys, args=args)
    bucket_state = _bucket_state(bool(reply[0]), limit_per_minute, float(reply[1]), int(reply[2]), 1)
    if not bucket_state.allowed:
        return bucket_state, None
    return bucket_state, plan.state(reply[3:6])


def _bucket_state(allowed: bool, limit_per_minute: int, tokens: float, now_ms: int, cost: int) -> BucketState:
    per_ms = limit_per_minute / 60000.0
    missing = limit_per_minute - tokens
    reset_epoch = math.ceil((now_ms + missing / per_ms) / 1000)
    retry_after = 0 if allowed else max(1, math.ceil((cost - tokens) / per_ms / 1000))
    return BucketState(bool(allowed), limit_per_minute, max(0, math.floor(tokens)), reset_epoch, retry_after)


# --- Taking the token in the authentication's round trip ------------------------------------------------------
#
# Authentication already makes one round trip to Redis per call (accounts.authentication). The token the
# throttle will take is taken in that same round trip, for the bucket the throttle will use; the throttle then
# finds it on the request instead of asking Redis again. A request that never reaches the throttle (refused
# by authentication or permissions) gives its token back, and its quota count, when its usage is recorded
# (the same round trip again): the figures end as if it had never taken one.


@dataclass
class Prefetch:
    bucket: str
    limit: int
    owner: str
    tier: str | None
    plan: quotas.ConsumePlan | None = None
    state: BucketState | None = None
    quota: quotas.QuotaState | None = None
    used: bool = False  # the throttle took it over


def prefetch_for(request, owner: str, tier: str | None) -> Prefetch | None:
    """What the throttle of ``request``'s view will take for ``owner``, or None when it takes nothing (no
    limit, limits off) or cannot be known here. ``request`` is DRF's, during authentication."""
    if not settings.RATE_LIMIT_ENABLED or settings.CACHES["default"].get("LOCATION") != settings.REDIS_URL:
        return None  # the authentication's round trip goes to the cache's Redis: only when it is this one
    view = (getattr(request, "parser_context", None) or {}).get("view")
    throttles = getattr(view, "throttle_classes", None) or ()
    if not any(isinstance(cls, type) and issubclass(cls, TokenBucketThrottle) for cls in throttles):
        return None
    category = getattr(view, "rate_category", "standard")
    limit = limit_for(category, tier, True) if category is not None else None
    if limit is None:
        return None
    return Prefetch(f"{category}:{owner}", limit, owner, tier)


def queue_prefetch(pipe, prefetch: Prefetch) -> None:
    """Add the take (and the quota count of an API key) to ``pipe``; :func:`read_prefetch` reads its reply."""
    per_ms = prefetch.limit / 60000.0
    quota_tier = quotas.quota_tier(prefetch.owner, prefetch.tier)  # people have quotas too (002)
    if quota_tier is not None:
        prefetch.plan = quotas.consume_plan(prefetch.owner, quota_tier)
    if prefetch.plan is not None and prefetch.plan.keys is not None:
        keys = [_bucket_key(prefetch.bucket), *prefetch.plan.keys]
        pipe.eval(_TOKEN_BUCKET_AND_QUOTA, len(keys), *keys, prefetch.limit, per_ms, 1, *prefetch.plan.args)
    else:
        pipe.eval(_TOKEN_BUCKET, 1, _bucket_key(prefetch.bucket), prefetch.limit, per_ms, 1)


def read_prefetch(request, prefetch: Prefetch, reply) -> None:
    prefetch.state = _bucket_state(bool(reply[0]), prefetch.limit, float(reply[1]), int(reply[2]), 1)
    if prefetch.state.allowed and prefetch.plan is not None:
        prefetch.quota = prefetch.plan.state(reply[3:6] if prefetch.plan.keys is not None else None)
    request._request.argus_prefetch = prefetch


def queue_refund(pipe, request) -> None:
    """Give back what authentication took for a request that never reached its throttle (see above)."""
    prefetch = getattr(request, "argus_prefetch", None)
    if prefetch is None or prefetch.used or prefetch.state is None or not prefetch.state.allowed:
        return
    per_ms = prefetch.limit / 60000.0
    pipe.eval(_TOKEN_BUCKET, 1, _bucket_key(prefetch.bucket), prefetch.limit, per_ms, -1)
    if prefetch.quota is not None and prefetch.quota.allowed and prefetch.plan.keys is not None:
        for key in prefetch.plan.keys:
            pipe.decr(key)


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
        quota = None
        quota_tier = quotas.quota_tier(owner, tier)
        prefetch = getattr(request._request, "argus_prefetch", None)
        try:
            if (
                prefetch is not None
                and not prefetch.used
                and (prefetch.bucket, prefetch.limit, prefetch.tier) == (f"{category}:{owner}", limit, tier)
            ):
                # Taken in the authentication's round trip (see prefetch_for).
                prefetch.used = True
                state, quota = prefetch.state, prefetch.quota
            elif quota_tier is None:
                state = take_token(f"{category}:{owner}", limit)
            else:
                # Daily and monthly quotas (002), for keys and people; a request the bucket refuses uses none.
                state, quota = take_token_and_quota(f"{category}:{owner}", limit, owner, quota_tier)
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
        if quota is not None and not quota.allowed:
            raise quotas.quota_error(quota)
        return True


def rate_limited_error(contract: Contract, state: BucketState) -> ApiError:
    headers = {**state.headers(), "Retry-After": str(state.retry_after)}
    details = {"limit": state.limit, "remaining": state.remaining, "retryAfter": state.retry_after}
    extra = {}
    if contract == Contract.EDGE:
        extra = {"retry_after_seconds": state.retry_after, "limit": state.limit, "window_seconds": 60}
        details = None
    return ApiError(Kind.RATE_LIMITED, "Rate limit exceeded", headers=headers, details=details, extra=extra)
