"""The ``/events/stream`` group on the channel layer: every web process's stream consumers listen to it.

An ingest does not wait for its event to reach the group: :func:`publish` hands it to this process's
publisher, one thread with its own event loop that sends the events one after another, in the order they
were handed over (a ``group_send`` is a few Redis round trips, and from a request's thread a hop to an event
loop). What was handed over is sent before the process exits (up to ``FLUSH_SECONDS``).

Nothing is handed over while the group has no member: a ``group_send`` to an empty group still costs two
round trips and about half a millisecond of CPU, a sixth of an ingest's. Whether it has members is a copy
under a stamp (config.stamps, read in the ingest's authentication round trip) that every consumer moves once
it has joined, so the events accepted after a consumer joined reach it; a copy that still says "members"
after the last one left only costs the sends, and any copy is read again after ``MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from typing import Any

import redis
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from config.redis import get_redis
from config.stamps import StampedCopy

logger = logging.getLogger("argus.anpr")

GROUP = "anpr.events"
# Past this many events waiting (Redis stalled), further ones are dropped from the live stream (never from storage).
MAX_WAITING = 10_000
FLUSH_SECONDS = 5.0


class Publisher:
    """A thread with an event loop sending the group messages handed to it, in order."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="anpr-stream-publisher", daemon=True)
        self.thread.start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.queue: asyncio.Queue = asyncio.Queue(MAX_WAITING)
        self.loop.create_task(self._send_all())
        self.ready.set()
        self.loop.run_forever()

    async def _send_all(self) -> None:
        while True:
            message = await self.queue.get()
            try:
                await get_channel_layer().group_send(GROUP, message)
            except Exception:  # a dropped live update must not stop the ones after it (the event is stored)
                logger.exception("could not publish event %s on the stream", message["data"].get("event_id"))
            finally:
                self.queue.task_done()

    def _put(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("stream publisher backed up: event %s not streamed", message["data"].get("event_id"))

    def submit(self, message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self._put, message)

    def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until everything handed over so far is sent."""
        done = threading.Event()
        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(self._mark_flushed(done)))
        done.wait(timeout)

    async def _mark_flushed(self, done: threading.Event) -> None:
        await self.queue.join()
        done.set()


_publisher: Publisher | None = None
_lock = threading.Lock()


def publisher() -> Publisher:
    """This process's publisher, started on first use (again in a forked child: threads do not survive a fork)."""
    global _publisher
    current = _publisher
    if current is not None and current.pid == os.getpid():
        return current
    with _lock:
        if _publisher is None or _publisher.pid != os.getpid():
            _publisher = Publisher()
        return _publisher


@atexit.register
def _flush_at_exit() -> None:
    if _publisher is not None and _publisher.pid == os.getpid():
        _publisher.flush(FLUSH_SECONDS)


def _group_has_members() -> bool:
    """Whether the group has a member (or may have: any doubt counts as one)."""
    layer = get_channel_layer()
    if (
        type(layer) is not RedisChannelLayer
        or len(layer.hosts) != 1
        or layer.hosts[0].get("address") != settings.REDIS_URL
    ):
        return True  # another layer, or another Redis: only its group_send knows
    try:
        # The layer keeps a group as a sorted set of its channels.
        return bool(get_redis().zcard(layer._group_key(GROUP)))
    except redis.RedisError as exc:  # the send will fail as it did before
        logger.warning("could not count the stream's members: %s", exc)
        return True


listeners: StampedCopy[bool] = StampedCopy("anpr:stream-listeners", _group_has_members)


def joined() -> None:
    """A consumer joined the group: every process reads the members again before its next event. (The group
    is in Redis, not the database: no transaction to wait for, and a WebSocket joins with the database down.)"""
    listeners.bump()


def publish(payload: dict[str, Any]) -> None:
    """Send one accepted event (003 representation) to every connected stream, whatever the process."""
    if not listeners.get():
        return
    publisher().submit(
        {
            "type": "anpr.event",
            "camera_id": payload.get("camera_id"),
            "zone_id": payload.get("zone_id"),
            "data": payload,
        }
    )
