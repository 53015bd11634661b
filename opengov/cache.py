"""A Redis cache that a stopped Redis cannot bring down: the site answers without it, uncached."""

import logging
import time
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


class ResilientRedisCacheClient(RedisCacheClient):
    """Each operation degrades to what an empty cache answers: a miss, a refused add, nothing stored.
    The API's throttling reads its counters here, so it lets requests through while Redis is away."""

    def add(self, key: str, value: Any, timeout: int | None) -> bool:
        try:
            return super().add(key, value, timeout)
        except redis.RedisError as error:
            _unavailable(error)
            return False

    def get(self, key: str, default: Any) -> Any:
        try:
            return super().get(key, default)
        except redis.RedisError as error:
            _unavailable(error)
            return default

    def set(self, key: str, value: Any, timeout: int | None) -> None:
        try:
            super().set(key, value, timeout)
        except redis.RedisError as error:
            _unavailable(error)

    def touch(self, key: str, timeout: int | None) -> bool:
        try:
            return super().touch(key, timeout)
        except redis.RedisError as error:
            _unavailable(error)
            return False

    def delete(self, key: str) -> bool:
        try:
            return super().delete(key)
        except redis.RedisError as error:
            _unavailable(error)
            return False

    def get_many(self, keys: list[str]) -> dict:
        try:
            return super().get_many(keys)
        except redis.RedisError as error:
            _unavailable(error)
            return {}

    def has_key(self, key: str) -> bool:
        try:
            return super().has_key(key)
        except redis.RedisError as error:
            _unavailable(error)
            return False

    def incr(self, key: str, delta: int) -> int:
        # Django's incr raises ValueError for a missing key; an unreachable cache is reported the same way.
        try:
            return super().incr(key, delta)
        except redis.RedisError as error:
            _unavailable(error)
            raise ValueError(f"Key {key!r} not found (cache unavailable).") from error

    def set_many(self, data: dict, timeout: int | None) -> None:
        try:
            super().set_many(data, timeout)
        except redis.RedisError as error:
            _unavailable(error)

    def delete_many(self, keys: list[str]) -> None:
        try:
            super().delete_many(keys)
        except redis.RedisError as error:
            _unavailable(error)

    def clear(self) -> bool:
        try:
            return super().clear()
        except redis.RedisError as error:
            _unavailable(error)
            return False


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
