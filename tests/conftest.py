"""Suite-wide fixtures and the rule for tests that need real services.

Tests marked `postgres` or `redis` run against DATABASE_URL / REDIS_URL. Where the service is
absent they skip with the reason, except under REQUIRE_SERVICES=1 (CI), where they fail.
"""

import os
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

pytest_plugins = ["tests.world"]  # the two-school `world` fixture

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
SHARED_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def _missing_service_reason(marker_name: str) -> str | None:
    if marker_name == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker_name == "redis":
        if not settings.REDIS_URL:
            return "needs Redis: set REDIS_URL=redis://..."
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as error:
            return f"needs Redis at REDIS_URL, which did not answer: {error}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker_name in ("postgres", "redis"):
        if item.get_closest_marker(marker_name) is None:
            continue
        reason = _missing_service_reason(marker_name)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def celery_eager():
    """Run Celery tasks in-process for this test, whatever the broker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def shared_oneroster() -> Path:
    """The public OneRoster exports kept beside the checkout (read in place, never copied)."""
    folder = SHARED_TESTDATA / "oneroster"
    if not folder.is_dir():
        reason = f"the public test data is not beside the checkout: {folder}"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return folder


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests make many accounts; a fast hasher keeps the suite quick (never used outside tests)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def fake_libretranslate(settings):
    """A LibreTranslate stand-in on 127.0.0.1, and the portal pointed at it."""
    from tests.fakes.libretranslate import serve

    fake, server = serve()
    settings.TRANSLATION_PROVIDER = "libretranslate"
    settings.LIBRETRANSLATE_URL = fake.url
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_twilio(settings):
    """A Twilio Messages API stand-in on 127.0.0.1, and the portal sending through it."""
    from tests.fakes.twilio import serve

    fake, server = serve()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+16175550100"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def sms(client, settings, django_capture_on_commit_callbacks):
    """A family's text, posted to the inbound webhook signed as Twilio signs it, its tasks run as
    it commits: `sms(phone, body)` returns the stored InboundSms."""
    from messaging.channels.sms import twilio_signature
    from messaging.models import InboundSms

    settings.TWILIO_AUTH_TOKEN = "inbound-test-token"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    inbound = "/sms/twilio/inbound/"
    sids = iter(range(10**6))

    def send(from_phone, body: str) -> InboundSms:
        sid = f"SM{next(sids):032d}"
        params = {"MessageSid": sid, "From": str(from_phone), "To": "+16175550100", "Body": body}
        signature = twilio_signature(url=settings.PUBLIC_BASE_URL + inbound, params=params)
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(inbound, params, HTTP_X_TWILIO_SIGNATURE=signature)
        assert answer.status_code == 200
        return InboundSms.objects.get(message_sid=sid)

    return send
