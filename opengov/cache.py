"""A Redis cache that a stopped Redis cannot bring down: the site answers without it, uncached."""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("opengov.cache")

# Redis being down would otherwise log on every request; once a minute says it as well.
_WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def _unavailable(error: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("Cache unavailable, answering without it: %s", error)


def _or_as_empty(method: Callable, empty: Callable[..., Any]) -> Callable:
    """The client's method, answering what an empty cache would (given the same arguments) when Redis fails."""

    @functools.wraps(method)
    def guarded(self: RedisCacheClient, *args: Any) -> Any:
        try:
            return method(self, *args)
        except redis.RedisError as error:
            _unavailable(error)
            return empty(*args)

    return guarded


def _missing_key(key: str, delta: int) -> int:
    # Django's incr raises ValueError for a missing key; an unreachable cache is reported the same way.
    raise ValueError(f"Key {key!r} not found (cache unavailable).")


class ResilientRedisCacheClient(RedisCacheClient):
    """Each operation degrades to what an empty cache answers: a miss, a refused add, nothing stored.
    The API's throttling reads its counters here, so it lets requests through while Redis is away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, redis.Redis] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> redis.Redis:
        # Django builds a new redis.Redis around the pool on every operation, and redis-py copies its table of
        # several hundred reply parsers into each: a third of a page cache hit's time. One client per pool
        # does the same work (the pool hands out the connections, and renews them after a fork).
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    add = _or_as_empty(RedisCacheClient.add, lambda key, value, timeout: False)
    get = _or_as_empty(RedisCacheClient.get, lambda key, default: default)
    set = _or_as_empty(RedisCacheClient.set, lambda key, value, timeout: None)
    touch = _or_as_empty(RedisCacheClient.touch, lambda key, timeout: False)
    delete = _or_as_empty(RedisCacheClient.delete, lambda key: False)
    get_many = _or_as_empty(RedisCacheClient.get_many, lambda keys: {})
    has_key = _or_as_empty(RedisCacheClient.has_key, lambda key: False)
    incr = _or_as_empty(RedisCacheClient.incr, _missing_key)
    set_many = _or_as_empty(RedisCacheClient.set_many, lambda data, timeout: None)
    delete_many = _or_as_empty(RedisCacheClient.delete_many, lambda keys: None)
    clear = _or_as_empty(RedisCacheClient.clear, lambda: False)


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
