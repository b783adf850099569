"""A teacher's inbox with 100 and with 10,000 threads: the page should cost about the same.

Prints `inbox.ms_100`, `inbox.ms_10000` (median milliseconds to render the inbox page, over
several runs after a warm-up) and `inbox.ratio_10000_to_100`.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone
from psycopg2 import sql

from messaging.models import Message, Participant, Thread
from portal import models

RUNS = 7
BATCH = 2000


def _tables_truncate() -> None:
    tables = sql.SQL(", ").join(
        sql.Identifier(model._meta.db_table)
        for model in (models.School, models.District, models.Staff, models.Guardian,
                      models.User)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables).as_string(cursor.cursor))


def _teacher_with_threads(count: int) -> models.User:
    """A teacher with `count` threads, each with one family; half wait for an answer."""
    _tables_truncate()
    school = models.School.objects.create(name="Bench Elementary")
    user = models.User.objects.create_user(username="bench-teacher", email="t@bench.example")
    teacher = models.Staff.objects.create(given_name="Bench", family_name="Teacher", user=user)
    models.StaffMembership.objects.create(staff=teacher, school=school, role="teacher")
    guardians = models.Guardian.objects.bulk_create(
        [models.Guardian(given_name=f"G{n}", family_name="Family", preferred_language=lang)
         for n, lang in zip(range(count), ["en", "es", "vi", "ar", "zh-hans", "so"] * count,
                            strict=False)],
        batch_size=BATCH,
    )  # fmt: skip
    now = timezone.now()
    threads = Thread.objects.bulk_create(
        [Thread(school=school, subject=f"Thread {n}", created_by=user,
                last_message_at=now - timedelta(minutes=n),
                waiting_since=now - timedelta(minutes=n) if n % 2 else None)
         for n in range(count)],
        batch_size=BATCH,
    )  # fmt: skip
    Participant.objects.bulk_create(
        [Participant(thread=thread, staff=teacher, last_read_at=now - timedelta(days=1))
         for thread in threads]
        + [Participant(thread=thread, guardian=guardian)
           for thread, guardian in zip(threads, guardians, strict=True)],
        batch_size=BATCH,
    )  # fmt: skip
    Message.objects.bulk_create(
        [Message(thread=thread, author_staff=teacher, body="Hello", language="en")
         for thread in threads]
        + [Message(thread=thread, author_guardian=guardian, body="A question", language="es")
           for thread, guardian in zip(threads, guardians, strict=True)],
        batch_size=BATCH,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user


def _inbox_ms(user: models.User) -> float:
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    client.get("/messages/")  # warm-up
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get("/messages/")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings)


def run() -> None:
    ms_100 = _inbox_ms(_teacher_with_threads(100))
    ms_10000 = _inbox_ms(_teacher_with_threads(10_000))
    _tables_truncate()
    print(f"inbox.ms_100: {ms_100:.1f}")
    print(f"inbox.ms_10000: {ms_10000:.1f}")
    print(f"inbox.ratio_10000_to_100: {ms_10000 / ms_100:.2f}")
