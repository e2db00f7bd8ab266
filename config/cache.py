"""Django's Redis cache, with one client per process (and server) instead of one per request or per call.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache operation, and redis-py fills a
table of about 170 reply parsers for each: a third of a millisecond of CPU per ``cache.get``, on requests
that make several. A client is safe to share between threads (it takes a connection from the pool per
command), so each pool gets one.

And Django keeps its cache objects in an ``asgiref.local.Local`` that is context-local, not thread-local:
under the ASGI server every request runs in a context of its own (copied from the event loop's), so every
request built a new ``RedisCache``, with a new connection pool, and opened a new TCP connection to Redis
(``HELLO``, ``CLIENT SETINFO``: about a millisecond of CPU and two round trips) for its first command. So the
client that holds the pools is the process's, shared by every ``RedisCache`` object for the same servers
and options; redis-py's pools are thread-safe and start again in a forked child.
"""

from __future__ import annotations

import functools
import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._lock = threading.Lock()

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        pool = self._pools.get(index)
        if pool is None:
            with self._lock:  # two threads' first commands must not build two pools
                pool = super()._get_connection_pool(write)
        return pool

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client


# The process's cache clients, by servers and options (see the module's docstring).
_clients: dict[tuple, SharedClientRedisCacheClient] = {}
_clients_lock = threading.Lock()


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    @cached_property
    def _cache(self):
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = self._class(self._servers, **self._options)
        return client


def cache_client():
    """The default cache's Redis client, for code that sends several commands on cache keys (named with
    ``cache.make_and_validate_key``) in one pipelined round trip."""
    from django.core.cache import cache

    return cache._cache.get_client(None, write=True)


def made_key(raw: str) -> str:
    """``cache.make_and_validate_key(raw)``, made once per key (and cache prefix and version).

    Django validates a key character by character in Python on every call, and the request path names the
    same few keys (stamps, a key's or a person's once-a-minute mark) on every request."""
    from django.core.cache import cache

    return _made_key(raw, cache.key_prefix, cache.version)


@functools.lru_cache(maxsize=4096)
def _made_key(raw: str, key_prefix: str, version: int) -> str:
    from django.core.cache import cache

    return cache.make_and_validate_key(raw)
