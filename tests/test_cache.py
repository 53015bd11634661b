"""The Redis cache answers as an empty cache when Redis cannot be reached, and as Redis when it can."""

import socket

import pytest

from opengov.cache import ResilientRedisCache


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_redis_is_an_empty_cache() -> None:
    cache = ResilientRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    assert cache.get("key", "default") == "default"
    assert cache.add("key", 1) is False
    cache.set("key", 1)
    cache.set_many({"key": 1})
    assert cache.get_many(["key"]) == {}
    assert cache.has_key("key") is False
    assert cache.delete("key") is False
    assert cache.touch("key") is False
    with pytest.raises(ValueError, match="cache unavailable"):
        cache.incr("key")


def test_a_reachable_redis_is_used(settings) -> None:
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (CI sets it)")
    cache = ResilientRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache"})
    cache.set("count", 3)
    assert cache.incr("count") == 4
    assert cache.get_many(["count"]) == {"count": 4}
    cache.delete("count")
    assert cache.get("count") is None
