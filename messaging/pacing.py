"""Pacing of texts per sending number, shared by every worker.

Twilio accepts far more than a number can send and queues the rest for hours; the portal hands
over no faster than the number sends (SMS_SEGMENTS_PER_SECOND), so nothing outlives its
ValidityPeriod at Twilio. The limiter is a generic cell rate algorithm kept in Redis: one key per
sender holds the time its next segment may go, and each hand-over reserves its slot atomically
(a Lua script), so any number of workers on any number of machines share one pace. Without Redis
(the embedded default runs tasks in-process) a lock in the process does the same.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

# Reserves `cost` seconds of the sender's time; returns how long to wait before sending.
_RESERVE = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(next_free, now)
local ttl = math.ceil((start + cost - now) * 1000) + 1000
redis.call('SET', KEYS[1], tostring(start + cost), 'PX', ttl)
return tostring(start - now)
"""

_local_lock = threading.Lock()
_local_next_free: dict[str, float] = {}
_client = None
_script = None


def _redis_script():
    global _client, _script
    if _script is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
        _script = _client.register_script(_RESERVE)
    return _script


def reserve(*, sender: str, segments: int) -> float:
    """Reserves the sender's next slot for `segments` segments; returns the seconds to wait
    before handing them over (0 when the sender is idle)."""
    if settings.SMS_SEGMENTS_PER_SECOND <= 0:  # the console and memory backends: no pace
        return 0.0
    cost = max(segments, 1) / settings.SMS_SEGMENTS_PER_SECOND
    now = time.time()
    if settings.REDIS_URL:
        return float(_redis_script()(keys=[f"sms-pace:{sender}"], args=[now, cost]))
    with _local_lock:
        start = max(_local_next_free.get(sender, 0.0), now)
        _local_next_free[sender] = start + cost
    return start - now


def wait_turn(*, sender: str, segments: int) -> float:
    """Waits until the sender may hand over these segments; returns how long it waited."""
    delay = reserve(sender=sender, segments=segments)
    if delay > 0:
        time.sleep(delay)
    return delay


def seconds_to_send(segments: int) -> float:
    """How long a number takes to hand over this many segments at the set pace."""
    rate = settings.SMS_SEGMENTS_PER_SECOND
    return segments / rate if rate > 0 else 0.0
