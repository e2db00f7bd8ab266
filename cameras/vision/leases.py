"""Which vision worker holds which stream: leases in Redis, renewed by heartbeat.

A worker holds a stream while its lease key (``SET NX PX``) names it; it renews all its leases every beat,
and a lease it fails to renew (taken over, or expired while the worker stalled) is given up at once. A worker
that dies simply stops renewing: its leases lapse after :data:`LEASE_SECONDS` and live workers take the
streams over. Workers also beat in a shared roster, so each knows how many live workers share the streams and
claims no more than its fair share.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import redis
from django.conf import settings

from config.redis import get_redis

LEASE_SECONDS = 15.0

# Renew the leases (KEYS) this worker (ARGV[1]) still holds for ARGV[2] ms; answer those it no longer holds.
_RENEW = """
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    table.insert(lost, key)
  end
end
return lost
"""
# Delete the lease (KEYS[1]) only if this worker (ARGV[1]) holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _prefix() -> str:
    return f"{settings.REDIS_PREFIX}:vision"


def lease_key(stream_key: str) -> str:
    return f"{_prefix()}:lease:{stream_key}"


def roster_key() -> str:
    return f"{_prefix()}:workers"


class LeaseBook:
    """One worker's leases: claim, renew, release, and the roster of live workers."""

    def __init__(self, worker_id: str, lease_seconds: float = LEASE_SECONDS, client: redis.Redis | None = None):
        self.worker_id = worker_id
        self.lease_ms = int(lease_seconds * 1000)
        self.client = client or get_redis()
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def claim(self, stream_key: str) -> bool:
        """Take the stream if nobody holds it."""
        return bool(self.client.set(lease_key(stream_key), self.worker_id, nx=True, px=self.lease_ms))

    def renew(self, stream_keys: Iterable[str]) -> set[str]:
        """Extend the leases still held; returns the stream keys that are held no more."""
        keys = [lease_key(key) for key in stream_keys]
        if not keys:
            return set()
        lost = self._renew(keys=keys, args=[self.worker_id, self.lease_ms])
        prefix = lease_key("")
        return {_text(key).removeprefix(prefix) for key in lost}

    def release(self, stream_key: str) -> None:
        self._release(keys=[lease_key(stream_key)], args=[self.worker_id])

    def holders(self, stream_keys: Iterable[str]) -> dict[str, str | None]:
        """Who holds each stream now (None: nobody)."""
        keys = list(stream_keys)
        if not keys:
            return {}
        values = self.client.mget([lease_key(key) for key in keys])
        return {key: _text(value) for key, value in zip(keys, values, strict=True)}

    # --- The roster ---------------------------------------------------------------------------------------

    def beat(self) -> None:
        """Say this worker is alive now (and forget workers silent for longer than a lease)."""
        now_ms = int(time.time() * 1000)
        pipe = self.client.pipeline()
        pipe.zadd(roster_key(), {self.worker_id: now_ms})
        pipe.zremrangebyscore(roster_key(), 0, now_ms - self.lease_ms)
        pipe.execute()

    def leave(self) -> None:
        self.client.zrem(roster_key(), self.worker_id)

    def live_workers(self) -> list[str]:
        now_ms = int(time.time() * 1000)
        members = self.client.zrangebyscore(roster_key(), now_ms - self.lease_ms, "+inf")
        return sorted(_text(member) for member in members)

    def fair_share(self, streams: int) -> int:
        """How many of ``streams`` this worker should hold: an even split among the live workers, rounded up."""
        workers = max(1, len(set(self.live_workers()) | {self.worker_id}))
        return math.ceil(streams / workers)


def stream_holders(stream_keys: Iterable[str]) -> dict[str, str | None]:
    """Who holds each stream now, for readers that hold no lease themselves (health checks, the supervisor)."""
    keys = list(stream_keys)
    if not keys:
        return {}
    values = get_redis().mget([lease_key(key) for key in keys])
    return {key: _text(value) for key, value in zip(keys, values, strict=True)}
