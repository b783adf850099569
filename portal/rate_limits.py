"""Counting attempts in a time window, in the cache (Redis in production, shared by every web
process), to slow down guessing."""

from django.core.cache import cache


def rate_limit_exceeded(key: str, *, limit: int, window_seconds: int) -> bool:
    """Counts one attempt under `key`; True once more than `limit` came within the window that
    the first of them opened."""
    cache_key = f"rate:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window closed between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count > limit
