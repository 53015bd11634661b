"""A limit on the contributions sent from one address, kept in the cache (Redis when configured).

A fixed window per address: the first form sent opens it, and past CONTRIBUTION_RATE_COUNT forms
the address waits until it closes. The address is kept only as a keyed hash, for the window's
length. When the cache cannot be reached, nobody is limited: losing a citizen's text would be
worse than letting a burst through to moderation.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.security import client_address


def _key(request: HttpRequest) -> str:
    address = client_address(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{address}".encode()).hexdigest()[:32]
    return f"contribution-rate:{digest}"


def seconds_to_wait(request: HttpRequest) -> int:
    """Count one form sent from the request's address; how long it must wait, or 0 when it may send."""
    key = _key(request)
    window = settings.CONTRIBUTION_RATE_WINDOW
    now = time.time()
    cache.add(f"{key}:opened", now, timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the window closed between the two calls, or the cache is unreachable
        return 0
    if count <= settings.CONTRIBUTION_RATE_COUNT:
        return 0
    opened = cache.get(f"{key}:opened", now)
    return max(1, int(opened + window - now))
