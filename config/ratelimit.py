"""Request-rate limits (docs/architecture.md §8): fixed one-minute windows counted in the cache.

The embedded default counts in process memory (one web process); production counts in Redis, so every
web process shares the same window. If the cache is unreachable the request is let through and the
failure is logged: a limiter must not take the API down with it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from config.errors import RateLimited

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60


def client_address(request: HttpRequest) -> str:
    """The peer address. Behind a reverse proxy, set the proxy to pass the client's address as REMOTE_ADDR."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]


def count_request(bucket: str, *, now: float | None = None) -> tuple[int, int]:
    """Count one request in `bucket`'s current window: (requests so far in it, seconds until it ends)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"ratelimit:{bucket}:{window}"
    cache = caches[settings.RATE_LIMIT_CACHE]
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's counter expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    return count, max(1, int((window + 1) * WINDOW_SECONDS - now))


def enforce_rate_limit(bucket: str, per_minute: int, message: str) -> None:
    """Count a request; RateLimited (429, with the seconds to wait) once `bucket` is over `per_minute`.

    A limit of 0 turns the check off.
    """
    if per_minute <= 0:
        return
    try:
        count, retry_after = count_request(bucket)
    except Exception:  # an unreachable cache must not fail the request
        logger.warning("rate limit not checked for %s: the cache is unreachable", bucket, exc_info=True)
        return
    if count > per_minute:
        raise RateLimited(
            f"{message} Try again in {retry_after} s.",
            details={"limit_per_minute": per_minute, "retry_after_seconds": retry_after},
        )
