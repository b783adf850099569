"""An announcement to a whole school of 10,000 families, each reading one of five languages, sent
through the real pipeline: the service call, Redis, a real Celery worker, LibreTranslate and
Twilio over HTTP (the stand-ins of tests/fakes), with the pace set far above what this machine
can send. Against it, the same fake Twilio driven by a bare loop of POSTs at the same
concurrency: the floor no pipeline can beat here.

The families read es, vi, ar, zh-hans and so (2,000 each); the sender's school writes English,
so the message is translated exactly five times. Every family takes texts only, so each gets
exactly one. Figures:

    broadcast.msgs_per_s            texts the fake Twilio accepted a second, from the call to
                                    broadcast_create until it held all 10,000
    broadcast.bare_http_msgs_per_s  the same number of POSTs to the fake from WORKER_CONCURRENCY
                                    threads, each with its own requests.Session
    broadcast.ratio_to_bare_http    msgs_per_s / bare_http_msgs_per_s
    broadcast.translation_requests  /translate requests LibreTranslate received (must be 5)

A `broadcast.warning:` line follows when a delivery did not end `sent`, or a family got no text or
more than one. The worker uses Redis database REDIS_DB, whose queues are emptied before and after.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests
from django.conf import settings
from django.db import connection
from psycopg2 import sql

from messaging import broadcasts
from messaging.models import (
    Broadcast,
    Delivery,
    InboundSms,
    Message,
    MessageTranslation,
    SmsConsent,
    Thread,
)
from portal import celery_app, models
from tests.fakes import libretranslate, twilio

FAMILIES = 10_000
LANGUAGES = ["es", "vi", "ar", "zh-hans", "so"]  # none of them the school's English
# Prefork processes of the worker, and threads of the bare loop. 4 on this 2-core machine: a task
# spends much of its time waiting on Postgres, Redis and HTTP, so 2 would leave the cores idle.
# (Chosen by that reasoning, not yet by measuring 2 against 4 and 8.)
WORKER_CONCURRENCY = 4
REDIS_DB = 15  # kept apart from the tests' and the demo's database 0
QUEUES = ["sms", "sms_urgent", "translation", "default", "email"]
TIMEOUT_SECONDS = 600
STALL_SECONDS = 30
BATCH = 2000
SENDER_NUMBER = "+16175550100"
BODY = "School is closed tomorrow because of the snow. Stay safe!"
# A production-like worker: DEBUG off (with it on, Django keeps every query in memory).
WORKER_SECRET_KEY = "bench-only-" + "x" * 50


def _redis_url() -> str:
    return f"redis://127.0.0.1:6379/{REDIS_DB}"


def _tables_truncate() -> None:
    tables = sql.SQL(", ").join(
        sql.Identifier(model._meta.db_table)
        for model in (models.District, models.School, models.Staff, models.Guardian,
                      models.Student, models.User, Thread, Message, MessageTranslation,
                      Broadcast, Delivery, SmsConsent, InboundSms)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables).as_string(cursor.cursor))


def _school_with_families() -> tuple[models.School, models.User]:
    """A school with no quiet hours, an admin, and FAMILIES students with one guardian each."""
    _tables_truncate()
    school = models.School.objects.create(
        name="Bench Elementary",
        default_language="en",
        # start == end: no quiet hours, whatever the hour the benchmark runs at
        quiet_hours_start="00:00",
        quiet_hours_end="00:00",
    )
    user = models.User.objects.create_user(username="bench-admin", email="admin@bench.example")
    admin = models.Staff.objects.create(given_name="Bench", family_name="Admin", user=user)
    models.StaffMembership.objects.create(staff=admin, school=school, role="admin")
    students = models.Student.objects.bulk_create(
        [models.Student(school=school, given_name=f"S{n}", family_name="Family", grade="3")
         for n in range(FAMILIES)],
        batch_size=BATCH,
    )  # fmt: skip
    guardians = models.Guardian.objects.bulk_create(
        [models.Guardian(given_name=f"G{n}", family_name="Family", phone=f"+1617200{n:04d}",
                         email="", wants_sms=True, wants_email=False,
                         preferred_language=LANGUAGES[n % len(LANGUAGES)])
         for n in range(FAMILIES)],
        batch_size=BATCH,
    )  # fmt: skip
    models.GuardianLink.objects.bulk_create(
        [models.GuardianLink(student=student, guardian=guardian, is_primary_contact=True)
         for student, guardian in zip(students, guardians, strict=True)],
        batch_size=BATCH,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return school, user


def _queues_purge() -> None:
    client = redis.Redis.from_url(_redis_url())
    try:
        client.delete(*QUEUES, *client.keys("sms-pace:*"), *client.keys("unacked*"))
    finally:
        client.close()


def _worker_environment(twilio_fake, translate_fake) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": _redis_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "SECRET_KEY": WORKER_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": twilio_fake.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_fake.auth_token,
        "TWILIO_API_BASE_URL": twilio_fake.url,
        "TWILIO_FROM_NUMBER": SENDER_NUMBER,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "SMS_SEGMENTS_PER_SECOND": "100000",
        "TRANSLATION_PROVIDER": "libretranslate",
        "LIBRETRANSLATE_URL": translate_fake.url,
        "LIBRETRANSLATE_API_KEY": "",
    }


@contextlib.contextmanager
def _worker(environment: dict[str, str], log_path: Path):
    """A Celery worker on every queue the pipeline uses, ready when this enters."""
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker",
               "-Q", ",".join(QUEUES), "--pool", "prefork",
               "--concurrency", str(WORKER_CONCURRENCY), "--loglevel", "WARNING",
               "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            env=environment,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log_path.read_text()[-3000:]}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _tasks_to_broker():
    """In this process, tasks go to the worker's Redis instead of running eagerly."""
    saved_settings = (settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER)
    saved_conf = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = _redis_url(), False
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = _redis_url(), False
    try:
        yield
    finally:
        celery_app.pool.force_close_all()
        settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER = saved_settings
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved_conf


def _texts_timed(twilio_fake, worker: subprocess.Popen, school, user) -> tuple[float, int]:
    """Calls broadcast_create and waits until the fake holds every family's text; returns the
    seconds from the call to the last text, and how many came. Stops waiting when no text came
    for STALL_SECONDS: a delivery lost on the way waits for the sweeper, ten minutes later."""
    started = time.perf_counter()
    broadcasts.broadcast_create(
        actor=user, school=school, subject="Snow day", body=BODY, kind="school"
    )
    received, last_text_at = 0, started
    while received < FAMILIES:
        time.sleep(0.02)
        now = time.perf_counter()
        if len(twilio_fake.messages) != received:
            received, last_text_at = len(twilio_fake.messages), now
        if worker.poll() is not None:
            raise RuntimeError("the worker stopped before every text was sent")
        if now - last_text_at > STALL_SECONDS or now - started > TIMEOUT_SECONDS:
            break
    return last_text_at - started, received


def _wait_for_settled(seconds: float = 30) -> None:
    """The fake holds a text before the worker records it sent: let the last ones be recorded."""
    sending = Delivery.objects.filter(status=Delivery.Status.SENDING)
    deadline = time.monotonic() + seconds
    while sending.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def _bare_http_seconds(twilio_fake, count: int) -> float:
    """`count` POSTs to the fake's Messages.json, as the SDK makes them, from
    WORKER_CONCURRENCY threads with a requests.Session each."""
    url = f"{twilio_fake.url}/2010-04-01/Accounts/{twilio_fake.account_sid}/Messages.json"
    credentials = f"{twilio_fake.account_sid}:{twilio_fake.auth_token}".encode()
    headers = {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
    numbers = iter(range(count))
    numbers_lock = threading.Lock()
    failures = []

    def post_until_done() -> None:
        with requests.Session() as session:
            while True:
                with numbers_lock:
                    number = next(numbers, None)
                if number is None:
                    return
                form = {
                    "To": f"+1617300{number:04d}",
                    "From": SENDER_NUMBER,
                    "Body": f"Bench Elementary: [en->es] {BODY}",
                    "StatusCallback": "http://127.0.0.1:8000/sms/twilio/status/?delivery=1",
                    "ValidityPeriod": "14400",
                }
                answer = session.post(url, data=form, headers=headers, timeout=10)
                if answer.status_code != 201:
                    failures.append(answer.status_code)

    threads = [threading.Thread(target=post_until_done) for _ in range(WORKER_CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    assert not failures, f"the fake refused {len(failures)} bare posts: {failures[:5]}"
    return seconds


def _problems(twilio_fake) -> list[str]:
    """What went wrong for the families: deliveries not sent, texts missing or doubled."""
    problems = []
    statuses = collections.Counter(Delivery.objects.values_list("status", flat=True))
    if statuses != {Delivery.Status.SENT: FAMILIES}:
        problems.append(f"deliveries by status {dict(statuses)}, expected {FAMILIES} sent")
    phones = {str(phone) for phone in models.Guardian.objects.values_list("phone", flat=True)}
    texts_to = collections.Counter(text["to"] for text in twilio_fake.messages)
    doubled = sum(1 for count in texts_to.values() if count > 1)
    missing = len(phones - set(texts_to))
    if doubled or missing or set(texts_to) - phones:
        problems.append(
            f"{missing} families got no text, {doubled} more than one, "
            f"{len(set(texts_to) - phones)} unknown numbers got one"
        )
    untranslated = sum(1 for text in twilio_fake.messages if "[en->" not in text["body"])
    if untranslated:
        problems.append(f"{untranslated} texts went out untranslated")
    return problems


def run() -> None:
    school, user = _school_with_families()
    twilio_fake, twilio_server = twilio.serve()
    translate_fake, translate_server = libretranslate.serve()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="broadcast-bench-") as temp,
            _tasks_to_broker(),
        ):
            _queues_purge()
            environment = _worker_environment(twilio_fake, translate_fake)
            with _worker(environment, Path(temp) / "worker.log") as worker:
                seconds, received = _texts_timed(twilio_fake, worker, school, user)
                _wait_for_settled()
            _queues_purge()
        problems = _problems(twilio_fake)
        translations = len(translate_fake.translations())
        twilio_fake.messages.clear()
        bare_seconds = _bare_http_seconds(twilio_fake, FAMILIES)
    finally:
        twilio_server.shutdown()
        translate_server.shutdown()
    _tables_truncate()  # kept when something failed, to look into

    msgs_per_s = received / seconds
    bare_msgs_per_s = FAMILIES / bare_seconds
    print(f"broadcast.msgs_per_s: {msgs_per_s:.1f}")
    print(f"broadcast.bare_http_msgs_per_s: {bare_msgs_per_s:.1f}")
    print(f"broadcast.ratio_to_bare_http: {msgs_per_s / bare_msgs_per_s:.3f}")
    print(f"broadcast.translation_requests: {translations}")
    if received < FAMILIES:
        problems.insert(
            0,
            f"only {received} of {FAMILIES} texts came (none in the last {STALL_SECONDS} s): "
            f"msgs_per_s counts those until the last one",
        )
    for problem in problems:
        print(f"broadcast.warning: {problem}")
