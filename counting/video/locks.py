"""Which cameras are being counted now: a Redis lock per camera, with an expiry and an owner token.

The vision worker that counts a camera takes its lock when it starts (:func:`take`: the vision leases
already make sure one worker analyses a camera at a time, so a lock left by a killed worker is simply taken
over), renews it while it counts and releases it when it lets the camera go; a killed worker's lock expires
on its own. Owner-checked extend and release (small Lua scripts) mean a worker never extends or drops a lock
that has since passed to another.
"""

from __future__ import annotations

import secrets

from django.conf import settings

from config.redis import get_redis

_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lock_key(camera_id: str) -> str:
    """The Redis key of ``camera_id``'s lock (under this deployment's prefix)."""
    return f"{settings.REDIS_PREFIX}:counting:lock:{camera_id}"


def acquire(camera_id: str, seconds: float) -> str | None:
    """Take the camera's lock for ``seconds``; its owner token, or None when someone holds it."""
    token = secrets.token_hex(16)
    taken = get_redis().set(lock_key(camera_id), token, nx=True, px=max(1000, int(seconds * 1000)))
    return token if taken else None


def take(camera_id: str, seconds: float) -> str:
    """Hold the camera's lock for ``seconds`` whoever held it; the new owner token."""
    token = secrets.token_hex(16)
    get_redis().set(lock_key(camera_id), token, px=max(1000, int(seconds * 1000)))
    return token


def extend(camera_id: str, token: str, seconds: float) -> bool:
    """Push the lock's expiry to ``seconds`` from now, if ``token`` still owns it."""
    return bool(get_redis().eval(_EXTEND, 1, lock_key(camera_id), token, max(1000, int(seconds * 1000))))


def release(camera_id: str, token: str) -> bool:
    """Drop the lock, if ``token`` still owns it."""
    return bool(get_redis().eval(_RELEASE, 1, lock_key(camera_id), token))


def owner(camera_id: str) -> str | None:
    """The token holding the camera's lock, or None."""
    value = get_redis().get(lock_key(camera_id))
    return value.decode() if isinstance(value, bytes) else value


def held(camera_ids: list[str]) -> set[str]:
    """Which of ``camera_ids`` are being counted right now."""
    if not camera_ids:
        return set()
    values = get_redis().mget([lock_key(camera_id) for camera_id in camera_ids])
    return {camera_id for camera_id, value in zip(camera_ids, values, strict=True) if value is not None}
