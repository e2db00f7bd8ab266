"""API key quotas (002): requests per UTC day and per UTC month, by the key's tier.

Counters live in Redis, one per key and period, named by the period (``...:d:20240301``, ``...:m:202403``)
so a new period simply starts a new counter; ``EXPIREAT`` removes the old one a day after its period
ends. One Lua script checks both counters and increments both only when neither is spent, so a refused
request uses no quota, and concurrent requests on any number of web processes cannot overshoot.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone

from config.api.contracts import ApiError, Kind, utc_iso
from config.redis import get_redis

logger = logging.getLogger("argus.ratelimit")

PERIODS = ("daily", "monthly")
# Counters outlive their period by this much: a web host whose clock runs a little behind still finds them.
GRACE = timedelta(days=1)

_CONSUME = """
local used = {tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0')}
for i = 1, 2 do
    local limit = tonumber(ARGV[i])
    if limit > 0 and used[i] >= limit then return {0, used[1], used[2]} end
end
for i = 1, 2 do
    used[i] = redis.call('INCR', KEYS[i])
    redis.call('EXPIREAT', KEYS[i], ARGV[i + 2])
end
return {1, used[1], used[2]}
"""


@dataclass(frozen=True)
class QuotaState:
    allowed: bool
    used: dict[str, int]
    limits: dict[str, int]  # 0: no quota for that period
    resets: dict[str, datetime]

    @property
    def exceeded(self) -> str | None:
        """The period whose quota is spent (daily first), or None."""
        for period in PERIODS:
            if self.limits[period] and self.used[period] >= self.limits[period]:
                return period
        return None

    def as_dict(self) -> dict[str, dict]:
        """002's ``quotas`` object: ``{daily: {used, limit, reset}, monthly: {...}}`` (limit null: none)."""
        return {
            period: {
                "used": self.used[period],
                "limit": self.limits[period] or None,
                "reset": utc_iso(self.resets[period]),
            }
            for period in PERIODS
        }


def quota_tier(owner: str, key_tier: str | None) -> str | None:
    """The tier whose quotas count ``owner``'s requests: an API key's own, a person's the configured one
    (``API_USER_QUOTA_TIER``: Bearer callers have quotas too, 002), none for anonymous callers."""
    if key_tier:
        return key_tier
    if owner.startswith("user:"):
        return settings.API_USER_QUOTA_TIER or None
    return None


def limits_for(tier: str) -> dict[str, int]:
    configured = settings.API_KEY_TIER_QUOTAS.get(tier) or {}
    return {period: int(configured.get(period) or 0) for period in PERIODS}


def period_resets(now: datetime) -> dict[str, datetime]:
    """When the current UTC day and month end."""
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = midnight.replace(day=1)
    next_month = (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )
    return {"daily": midnight + timedelta(days=1), "monthly": next_month}


def _keys(owner: str, now: datetime) -> list[str]:
    now = now.astimezone(UTC)
    # The hash tag keeps both counters of a client in one Redis Cluster slot (the script touches both).
    base = f"{settings.REDIS_PREFIX}:quota:{{{owner}}}"
    return [f"{base}:d:{now:%Y%m%d}", f"{base}:m:{now:%Y%m}"]


@dataclass(frozen=True)
class ConsumePlan:
    """What counting one request takes: the counters' keys and the script's arguments (None: no quota)."""

    keys: list[str] | None
    args: list[int]
    limits: dict[str, int]
    resets: dict[str, datetime]

    def state(self, reply) -> QuotaState:
        """The quotas after the script's ``(allowed, daily, monthly)`` reply (None: nothing to count)."""
        if reply is None:
            return QuotaState(True, dict.fromkeys(PERIODS, 0), self.limits, self.resets)
        allowed, daily, monthly = reply
        return QuotaState(bool(allowed), {"daily": int(daily), "monthly": int(monthly)}, self.limits, self.resets)


def consume_plan(owner: str, tier: str, now: datetime | None = None) -> ConsumePlan:
    now = now or timezone.now()
    limits = limits_for(tier)
    resets = period_resets(now)
    if not any(limits.values()):
        return ConsumePlan(None, [], limits, resets)
    expire = [int((resets[period] + GRACE).timestamp()) for period in PERIODS]
    return ConsumePlan(_keys(owner, now), [limits["daily"], limits["monthly"], *expire], limits, resets)


@functools.cache
def _registered(client, source: str):
    return client.register_script(source)  # once per client: register_script hashes the source each call


def consume(owner: str, tier: str, now: datetime | None = None) -> QuotaState:
    """Count one request against ``owner``'s quotas, unless one is spent (then nothing is counted)."""
    plan = consume_plan(owner, tier, now)
    if plan.keys is None:
        return plan.state(None)
    return plan.state(_registered(get_redis(), _CONSUME)(keys=plan.keys, args=plan.args))


def status(owner: str, tier: str, now: datetime | None = None) -> QuotaState:
    """The quotas as they stand, without counting a request."""
    now = now or timezone.now()
    daily, monthly = get_redis().mget(_keys(owner, now))
    used = {"daily": int(daily or 0), "monthly": int(monthly or 0)}
    limits = limits_for(tier)
    allowed = not any(limits[p] and used[p] >= limits[p] for p in PERIODS)
    return QuotaState(allowed, used, limits, period_resets(now))


def enforce(owner: str, tier: str) -> None:
    """Count the request, or refuse it with 403 (RATE_002 in 001/002) once a quota is spent."""
    try:
        state = consume(owner, tier)
    except redis.RedisError as exc:
        # Fail open, like the rate limiter: a Redis outage shows in health checks, not as refused calls.
        logger.warning("quota counter unavailable, request allowed: %s", exc)
        return
    if not state.allowed:
        raise quota_error(state)


def quota_error(state: QuotaState) -> ApiError:
    period = state.exceeded or "daily"
    reset = state.resets[period]
    retry_after = max(1, int((reset - timezone.now()).total_seconds()))
    return ApiError(
        Kind.QUOTA_EXCEEDED,
        f"API quota exceeded: {state.limits[period]} requests per {'day' if period == 'daily' else 'month'}",
        details={
            "quota": period,
            "limit": state.limits[period],
            "used": state.used[period],
            "reset": utc_iso(reset),
        },
        headers={"Retry-After": str(retry_after)},
    )
