"""Django's Redis cache, with one client object per connection pool instead of one per call.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache operation, and redis-py fills a
table of about 170 reply parsers for each: a third of a millisecond of CPU per ``cache.get``, on requests
that make several. A client is safe to share between threads (it takes a connection from the pool per
command), so each pool gets one.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient


def cache_client():
    """The default cache's Redis client, for code that sends several commands on cache keys (named with
    ``cache.make_and_validate_key``) in one pipelined round trip."""
    from django.core.cache import cache

    return cache._cache.get_client(None, write=True)
