"""Process-local copies of small tables that rarely change, each valid while its *stamp* in Redis is unchanged.

The busiest endpoint (ANPR ingest, once per machine event) consults tables that change a few times a day: the
watchlist, the exporters. A query per event costs a database round trip each; a copy per process costs nothing,
but must follow every change, whichever process makes it. So each copy has a stamp, a counter in Redis that
every change bumps: at once, and again once the change commits (a process that read the old rows in between
cached them under the first bump). A reader fetches the stamps it needs in one ``MGET`` (:func:`prefetched`
fetches every copy's at once) and reloads a copy whose stamp moved; ``MAX_AGE_SECONDS`` bounds what a change
that announced nothing (raw SQL) may leave behind. With Redis down, every read goes to the database, as before.

:class:`StampedValues` does the same for answers a reader works out itself (the live detections, the realtime
counts: lists polled by every open dashboard), kept by key with a short TTL of their own; their stamps are
bumped once the rows they are made of commit, by whichever process stored them (web, vision worker, Celery).
A view that sets ``prefetch_stamps`` gets every stamp in authentication's round trip (accounts.authentication).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import redis
from django.db import transaction

from config.cache import cache_client, made_key

logger = logging.getLogger("argus.stamps")

T = TypeVar("T")

MAX_AGE_SECONDS = 30
STAMP_TTL_SECONDS = 86_400  # a stamp nobody bumped for a day is dropped: a missing one reads as another stamp
_UNREAD = object()
UNAVAILABLE = object()  # the stamp could not be read: use the database
_registry: dict[str, StampedCopy | StampedValues] = {}
_scope = threading.local()


def _stamp_key(name: str) -> str:
    # Read on every request that prefetches the stamps: made once per name (and cache prefix and version).
    return made_key(f"stamp:{name}")


def bump_key(key: str, what: str) -> None:
    """Move the stamp at ``key`` on (and renew its life). A Redis failure is logged, never raised: the change it
    announces must not fail with Redis, and every copy kept under a stamp ages out by itself."""
    try:
        pipe = cache_client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, STAMP_TTL_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not announce a change of %s: %s", what, exc)


class StampedCopy(Generic[T]):
    """What ``load()`` returns, kept by this process while the stamp ``name`` is unchanged (thread-safe)."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self.name = name
        self._load = load
        self._entry: tuple[object, float, T] | None = None  # (stamp, loaded at, value)
        _registry[name] = self

    def get(self) -> T:
        """The copy, loaded again when the stamp moved (read now, or by the enclosing :func:`prefetched`)."""
        stamps = getattr(_scope, "stamps", None)
        stamp = stamps.get(self.name, _UNREAD) if stamps is not None else _UNREAD
        if stamp is _UNREAD:
            stamp = read_stamps([self.name])[0]
        if stamp is UNAVAILABLE:
            return self._load()
        entry = self._entry
        if entry is not None and entry[0] == stamp and time.monotonic() - entry[1] <= MAX_AGE_SECONDS:
            return entry[2]
        # Loaded after the stamp was read: a change committing meanwhile bumps it again, so it is seen next time.
        value = self._load()
        self._entry = (stamp, time.monotonic(), value)
        return value

    def forget(self) -> None:
        self._entry = None

    def changed(self) -> None:
        """Announce a change of the rows this copy holds, to this process and (through the stamp) every other:
        now, and again once the transaction commits (a process reloading in between read the old rows)."""
        self.bump()
        transaction.on_commit(self.bump)

    def bump(self) -> None:
        """Announce a change that is visible already (no transaction to wait for, no database touched)."""
        self.forget()
        bump_key(_stamp_key(self.name), self.name)


class StampedValues(Generic[T]):
    """Values this process keeps by key (several lists, each as its answer is sent), each valid while the stamp
    ``name`` is unchanged and for at most ``max_age`` seconds since it was computed (thread-safe).

    Unlike :class:`StampedCopy` the values are worked out by their reader (:meth:`put`), and the stamp is bumped
    by whoever changes what they are made of, once the change is committed (:meth:`bump`); a reader reads the
    stamp (:meth:`stamp`: prefetched in the request's first round trip when the view asks for it) before it
    reads the rows, so what it keeps under a stamp is never older than that stamp."""

    def __init__(self, name: str, max_age: float, max_keys: int = 256) -> None:
        self.name = name
        self.max_age = max_age
        self.max_keys = max_keys  # past it the copies start again empty
        self._values: dict[object, tuple[object, float, T]] = {}  # key: (stamp, computed at (monotonic), value)
        _registry[name] = self  # its stamp is read with the copies' stamps; forgotten with them

    def stamp(self) -> object:
        """The stamp now (the enclosing :func:`prefetched` block's, else read), or :data:`UNAVAILABLE`."""
        stamps = getattr(_scope, "stamps", None)
        stamp = stamps.get(self.name, _UNREAD) if stamps is not None else _UNREAD
        if stamp is _UNREAD:
            stamp = read_stamps([self.name])[0]
        return stamp

    def get(self, key: object, stamp: object) -> T | None:
        """The value kept for ``key`` under ``stamp`` and young enough, else None."""
        if stamp is UNAVAILABLE:
            return None
        entry = self._values.get(key)
        if entry is not None and entry[0] == stamp and time.monotonic() - entry[1] <= self.max_age:
            return entry[2]
        return None

    def put(self, key: object, stamp: object, value: T, age: float = 0.0) -> T:
        """Keep ``value`` (computed ``age`` seconds ago, under ``stamp``) for ``key``; returns it."""
        if stamp is not UNAVAILABLE:
            if len(self._values) >= self.max_keys:
                self._values = {}
            self._values[key] = (stamp, time.monotonic() - age, value)
        return value

    def forget(self) -> None:
        self._values = {}

    def bump(self) -> None:
        """Announce a committed change: every process's values are stale from now on."""
        self.forget()
        bump_key(_stamp_key(self.name), self.name)


def read_stamps(names: list[str]) -> list[object]:
    """The stamps of ``names`` in one round trip (:data:`UNAVAILABLE` for each when Redis cannot answer)."""
    try:
        return list(cache_client().mget([_stamp_key(name) for name in names]))
    except redis.RedisError as exc:
        logger.warning("stamps unavailable, reading from the database: %s", exc)
        return [UNAVAILABLE] * len(names)


@contextlib.contextmanager
def prefetched(read: dict[str, object] | None = None) -> Iterator[None]:
    """Within the block, every copy's stamp is the one read once at its start (one round trip for all), or the
    one in ``read`` (from :func:`queue_read`'s round trip, made before the block)."""
    if getattr(_scope, "stamps", None) is not None:  # nested: the outer block's stamps hold
        yield
        return
    names = list(_registry)
    if read is None:
        read = dict(zip(names, read_stamps(names), strict=True)) if names else {}
    _scope.stamps = read
    try:
        yield
    finally:
        _scope.stamps = None


def queue_read(pipe) -> Callable[[list], dict[str, object]]:
    """Read every copy's stamp in ``pipe`` (another round trip's pipeline on the cache's connection); the
    function that turns its reply into what :func:`prefetched` takes."""
    names = list(_registry)
    pipe.mget([_stamp_key(name) for name in names] or [_stamp_key("-")])
    return lambda reply: dict(zip(names, reply, strict=False))


def forget_all() -> None:
    """Drop every copy of this process (tests: the database is rolled back without any announcement)."""
    for copy in _registry.values():
        copy.forget()
