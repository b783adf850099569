"""A broadcast carried by a real Celery worker through a real Redis, while the broker stops and
the worker is killed: every family still gets its text, and only one.

The worker is another process: it reads the rows this test commits in the test database and
sends through the fake Twilio over HTTP. The test process publishes to the same spare Redis and
plays the beat, running the sweeper itself whenever the worker has gone quiet.
"""

import datetime
import os
import time
from collections import Counter
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from kombu import pools

from messaging.broadcasts import broadcast_create
from messaging.delivery import deliveries_sweep
from messaging.models import Delivery, Message
from portal.celery import app
from portal.models import Guardian, GuardianLink, Student
from tests.fakes.worker import CeleryWorker, RedisServer, spare_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

LEASE_SECONDS = 5  # a `sending` delivery older than this is the sweeper's to look up
# The sweeper leaves a message younger than 30 seconds to its translation task. The tests do not
# wait that long: they run the sweeper with its clock at least this far past the writing.
GRACE = datetime.timedelta(seconds=31)
UNSETTLED = {"queued", "sending", "deferred"}


def _point_app_at(broker_url: str, *, eager: bool) -> None:
    """Points the Celery app of this process at another broker, leaving no connection behind."""
    app.conf.broker_url = broker_url
    app.conf.task_always_eager = eager
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # closes every pooled connection, to whichever Redis


@pytest.fixture
def spare_redis(tmp_path):
    """A Redis of this test's own, which it may stop and start again."""
    server = RedisServer(port=spare_port(), folder=tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(spare_redis, settings):
    """This process publishes to the spare Redis and sweeps with it, as the web and beat do."""
    settings.REDIS_URL = settings.CELERY_BROKER_URL = spare_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.DELIVERY_LEASE_SECONDS = LEASE_SECONDS
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.TRANSLATION_PROVIDER = "none"
    previous = app.conf.broker_url, app.conf.task_always_eager
    _point_app_at(spare_redis.url, eager=False)
    yield spare_redis
    _point_app_at(previous[0], eager=previous[1])


@pytest.fixture
def start_worker(transactional_db, broker, fake_twilio, tmp_path):
    """Starts real workers on the spare Redis and the test database; kills them all at the end,
    before the database is flushed."""
    database = connection.settings_dict
    database_url = "postgres://{user}:{password}@{host}:{port}/{name}".format(
        user=quote(database["USER"] or "", safe=""),
        password=quote(database["PASSWORD"] or "", safe=""),
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        name=database["NAME"],
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": broker.url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "TWILIO_API_BASE_URL": fake_twilio.url,
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_FROM_NUMBER": "+16175550100",
        "SMS_SEGMENTS_PER_SECOND": "0",
        "TRANSLATION_PROVIDER": "none",
        "DEBUG": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",  # a quiet worker log
        "DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[CeleryWorker] = []

    def start() -> CeleryWorker:
        worker = CeleryWorker(
            name=f"faults{len(workers) + 1}",
            env=env,
            log_path=tmp_path / f"worker{len(workers) + 1}.log",
        )
        workers.append(worker)
        worker.start(app)
        return worker

    yield start
    for worker in workers:
        worker.kill()


@pytest.fixture
def school(world):
    """North Elementary, without quiet hours so the tests pass at any hour."""
    world.north.quiet_hours_start = world.north.quiet_hours_end = datetime.time(0, 0)
    world.north.save()
    return world.north


def families(school, count: int) -> list[str]:
    """`count` families of North Elementary who take texts only; returns their numbers."""
    students = Student.objects.bulk_create(
        Student(school=school, given_name=f"Child{number}", family_name="Lopez", grade="4")
        for number in range(count)
    )
    phones = [f"+1617600{number:04d}" for number in range(count)]
    guardians = Guardian.objects.bulk_create(
        Guardian(
            given_name=f"Parent{number}",
            family_name="Lopez",
            phone=phone,
            wants_email=False,
            preferred_language="en",
        )
        for number, phone in enumerate(phones)
    )
    GuardianLink.objects.bulk_create(
        GuardianLink(student=student, guardian=guardian, is_primary_contact=True)
        for student, guardian in zip(students, guardians, strict=True)
    )
    return phones


def texted_families(world, school, count: int) -> list[str]:
    """The numbers a school-wide announcement must reach: the new families and the world's two
    North families who may be written to (Ana's mother, Ben's parent)."""
    return [*families(school, count), str(world.parent.phone), str(world.ben_parent.phone)]


def announce(world, school):
    return broadcast_create(
        actor=world.users["school_admin"],
        school=school,
        subject="Early dismissal",
        body="School closes at noon on Friday for staff training.",
        kind="school",
    )


def statuses(broadcast) -> Counter:
    return Counter(
        Delivery.objects.filter(message__thread=broadcast.thread).values_list("status", flat=True)
    )


def settle(broadcast, broker, *, within_seconds: float, sweep: bool = True) -> dict:
    """Waits until every delivery of the broadcast is settled. With `sweep`, plays the beat:
    whenever the broker's queues are empty and nothing has moved for a second and a half, runs the
    sweeper (its clock moved on past the grace for new messages, the lease passing for real).
    Returns what it saw: seconds, statuses, sweeps."""
    started = time.monotonic()
    written_at = Message.objects.get(thread=broadcast.thread).created_at
    sweeps: list[dict] = []
    last_seen, quiet_since = None, time.monotonic()
    while time.monotonic() - started < within_seconds:
        seen = statuses(broadcast)
        if not UNSETTLED & set(seen):
            break
        if seen != last_seen:
            last_seen, quiet_since = seen, time.monotonic()
        elif sweep and time.monotonic() - quiet_since > 1.5 and not broker.waiting():
            counts = deliveries_sweep(now=max(timezone.now(), written_at + GRACE))
            sweeps.append(counts)
            quiet_since = time.monotonic()
        time.sleep(0.2)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "statuses": dict(statuses(broadcast)),
        "sweeps": sweeps,
    }


def assert_every_family_has_one_text(fake, phones: list[str], broadcast, worker_log: str = ""):
    texts = Counter(message["to"] for message in fake.messages)
    twice = {phone: count for phone, count in texts.items() if count > 1}
    missed = sorted(set(phones) - set(texts))
    strangers = sorted(set(texts) - set(phones))
    assert (twice, missed, strangers) == ({}, [], []), (
        f"{len(twice)} twice, {len(missed)} missed, {len(strangers)} strangers; "
        f"publishing to {app.connection_for_write().as_uri()}\n{worker_log}"
    )
    assert set(statuses(broadcast)) == {"sent"}, (statuses(broadcast), worker_log)
    sms = Delivery.objects.filter(message__thread=broadcast.thread, channel="sms")
    assert sorted(sms.values_list("address", flat=True)) == sorted(phones)


def test_a_real_worker_carries_a_broadcast_to_every_family_once(
    world, school, broker, start_worker, fake_twilio
):
    phones = texted_families(world, school, 200)
    worker = start_worker()

    broadcast = announce(world, school)
    outcome = settle(broadcast, broker, within_seconds=60, sweep=False)

    print(f"\n200 families through a real worker: {outcome}")
    assert_every_family_has_one_text(fake_twilio, phones, broadcast, worker.log_tail())


def test_a_broadcast_written_while_redis_is_down_goes_out_once_redis_is_back(
    world, school, broker, start_worker, fake_twilio
):
    phones = texted_families(world, school, 100)
    worker = start_worker()
    broker.stop()

    began = time.monotonic()
    broadcast = announce(world, school)  # the admin's request: it must neither fail nor hang
    write_seconds = time.monotonic() - began

    assert write_seconds < 5
    assert statuses(broadcast) == {"queued": len(phones) + 2}  # the texts and two emails
    assert not fake_twilio.messages
    assert not Delivery.objects.filter(
        message__thread=broadcast.thread, enqueued_at__isnull=False
    ).exists()

    broker.start()
    outcome = settle(broadcast, broker, within_seconds=60)

    print(f"\nwritten with Redis down in {write_seconds:.2f} s, then: {outcome}")
    assert outcome["sweeps"], "only the sweeper can know about a message the broker never had"
    assert_every_family_has_one_text(fake_twilio, phones, broadcast, worker.log_tail())


def test_a_worker_killed_mid_broadcast_leaves_every_family_one_text(
    world, school, broker, start_worker, fake_twilio
):
    phones = texted_families(world, school, 1000)
    fake_twilio.delay_seconds = 0.015  # each send takes a moment: the broadcast takes seconds
    first = start_worker()

    broadcast = announce(world, school)
    deadline = time.monotonic() + 60
    while len(fake_twilio.messages) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    # Twilio slows down, so both of the worker's processes are caught inside a send: Twilio
    # takes those texts, but the worker dies before it learns their MessageSid.
    fake_twilio.delay_seconds = 1.0
    time.sleep(0.1)  # the sends begun before it slowed down are done
    in_a_send = Delivery.objects.filter(message__thread=broadcast.thread, status="sending")
    while in_a_send.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    first.kill()
    at_kill = {
        "texts": len(fake_twilio.messages),
        "waiting_in_redis": broker.waiting(),
        "statuses": dict(statuses(broadcast)),
    }
    assert 0 < at_kill["texts"] < len(phones), first.log_tail()
    assert at_kill["statuses"].get("sending") == 2, first.log_tail()
    time.sleep(1.2)  # Twilio finishes taking the two texts of the dead worker
    fake_twilio.delay_seconds = 0.01

    second = start_worker()
    outcome = settle(broadcast, broker, within_seconds=90)

    print(f"\nkilled at {at_kill}; a new worker and the sweeper then: {outcome}")
    log = f"{first.log_tail()}\n---\n{second.log_tail()}"
    assert_every_family_has_one_text(fake_twilio, phones, broadcast, log)
    # The two the dead worker left `sending` were looked up at Twilio: found there and recorded,
    # or not found and sent again (the kill came before the request left).
    resolved = Counter()
    for sweep in outcome["sweeps"]:
        resolved.update(recovered=sweep["recovered"], requeued=sweep["requeued"])
    assert resolved.total() == 2


def test_a_burst_of_429s_is_retried_until_every_family_has_one_text(
    world, school, broker, start_worker, fake_twilio
):
    phones = texted_families(world, school, 100)
    fake_twilio.fail_next(429, 20429, times=50)
    worker = start_worker()

    broadcast = announce(world, school)
    # The worker's own short countdowns carry the retries (10 s, times 0.5 to 1.5): no sweeper.
    outcome = settle(broadcast, broker, within_seconds=45, sweep=False)

    retried = Delivery.objects.filter(message__thread=broadcast.thread, attempts=2)
    print(f"\n50 answers of 429, {retried.count()} texts tried again: {outcome}")
    assert_every_family_has_one_text(fake_twilio, phones, broadcast, worker.log_tail())
    assert retried.count() == 50


def test_a_redis_restart_mid_broadcast_loses_its_queue_but_no_family(
    world, school, broker, start_worker, fake_twilio
):
    phones = texted_families(world, school, 200)
    fake_twilio.delay_seconds = 0.01
    worker = start_worker()

    broadcast = announce(world, school)
    deadline = time.monotonic() + 60
    while len(fake_twilio.messages) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    lost = broker.waiting()
    broker.stop()  # with no persistence, the tasks it held are gone
    broker.start()
    assert broker.waiting() == 0

    outcome = settle(broadcast, broker, within_seconds=60)

    print(f"\nRedis restarted with {lost} tasks lost; the sweeper then: {outcome}")
    assert lost > 0
    assert sum(sweep["handed"] for sweep in outcome["sweeps"]) >= lost
    assert_every_family_has_one_text(fake_twilio, phones, broadcast, worker.log_tail())
