"""Pacing per sender, shared by every worker through Redis: a number hands Twilio no more
segments a second than it can send."""

import itertools
import threading
import uuid

import pytest

from messaging import pacing


@pytest.fixture
def pace(settings):
    settings.SMS_SEGMENTS_PER_SECOND = 10
    return f"+1617555{uuid.uuid4().int % 10000:04d}"  # a sender no other test uses


def _reserve_from_threads(sender: str, threads: int, each: int, segments: int) -> list[float]:
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _text in range(each):
            wait = pacing.reserve(sender=sender, segments=segments)
            with lock:
                waits.append(wait)

    running = [threading.Thread(target=worker) for _worker in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return sorted(waits)


@pytest.mark.redis
def test_workers_share_one_pace_per_sender_through_redis(pace, settings):
    waits = _reserve_from_threads(pace, threads=4, each=5, segments=1)
    # 20 one-segment texts at 10 a second: slots 0.1 s apart, the last after about 1.9 s.
    assert waits[0] < 0.05
    assert 1.8 < waits[-1] < 2.1
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    assert all(0.05 < gap < 0.15 for gap in gaps)


@pytest.mark.redis
def test_a_long_text_takes_the_time_of_its_segments(pace):
    pacing.reserve(sender=pace, segments=3)  # 0.3 s of the sender's time
    assert 0.25 < pacing.reserve(sender=pace, segments=1) < 0.35


@pytest.mark.redis
def test_each_sender_has_its_own_pace(pace):
    pacing.reserve(sender=pace, segments=20)
    assert pacing.reserve(sender=pace + "0", segments=1) < 0.05


def test_without_redis_one_process_keeps_the_pace(pace, settings):
    settings.REDIS_URL = ""
    waits = _reserve_from_threads(pace, threads=2, each=5, segments=1)
    assert 0.85 < waits[-1] < 1.0


def test_no_pace_for_the_console_and_memory_backends(settings, pace):
    settings.SMS_SEGMENTS_PER_SECOND = 0
    assert pacing.reserve(sender=pace, segments=100) == 0.0
    assert pacing.seconds_to_send(1000) == 0.0
