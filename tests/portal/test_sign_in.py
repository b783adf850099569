"""Signing in: families by a code to the phone or email on file, staff by email and password."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from messaging.channels.sms import MemoryBackend
from portal.models import SignInCode, User
from tests.factories import GuardianFactory, GuardianLinkFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+16172531000"


@pytest.fixture(autouse=True)
def memory_sms(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()


def ask_for_code(client, address, capture):
    with capture(execute=True):
        return client.post(reverse("sign_in"), {"address": address})


def last_code() -> str:
    return re.search(r"\b(\d{6})\b", MemoryBackend.outbox[-1].body).group(1)


def test_guardian_signs_in_with_a_code_texted_in_their_language(
    client, django_capture_on_commit_callbacks
):
    guardian = GuardianFactory(phone=PHONE, preferred_language="es")
    GuardianLinkFactory(guardian=guardian)

    response = ask_for_code(client, "(617) 253-1000", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert MemoryBackend.outbox[-1].to == PHONE
    assert "código" in MemoryBackend.outbox[-1].body

    response = client.post(reverse("sign_in_code"), {"code": last_code(), "is_own_device": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    guardian.refresh_from_db()
    assert guardian.user is not None
    assert client.session.get_expiry_age() == 30 * 24 * 60 * 60
    assert "_auth_user_id" in client.session


def test_code_by_email_for_a_guardian_without_a_phone(client, django_capture_on_commit_callbacks):
    GuardianFactory(phone="", email="rosa@example.org", preferred_language="en")

    ask_for_code(client, "Rosa@Example.org", django_capture_on_commit_callbacks)

    assert mail.outbox[-1].to == ["rosa@example.org"]
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    client.post(reverse("sign_in_code"), {"code": code})
    assert "_auth_user_id" in client.session
    assert client.session.get_expire_at_browser_close()


def test_an_unknown_number_looks_exactly_like_a_known_one(
    client, django_capture_on_commit_callbacks
):
    GuardianFactory(phone=PHONE)
    known = ask_for_code(client, PHONE, django_capture_on_commit_callbacks)
    known_page = client.get(known["Location"]).content
    other = client.__class__()

    unknown = ask_for_code(other, "+16172531001", django_capture_on_commit_callbacks)

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert other.get(unknown["Location"]).content.replace(
        other.cookies["csrftoken"].value.encode(), b""
    ).count(b"code") == known_page.count(b"code")
    wrong = other.post(reverse("sign_in_code"), {"code": "123456"})
    assert "That code is not right" in wrong.content.decode()
    assert len(MemoryBackend.outbox) == 1


def test_five_wrong_codes_end_the_code_even_before_it_expires(
    client, django_capture_on_commit_callbacks
):
    GuardianFactory(phone=PHONE)
    ask_for_code(client, PHONE, django_capture_on_commit_callbacks)
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(5):
        client.post(reverse("sign_in_code"), {"code": wrong})
    response = client.post(reverse("sign_in_code"), {"code": code})

    assert "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SignInCode.objects.get().attempts == 5


def test_an_expired_code_does_not_sign_in(client, django_capture_on_commit_callbacks):
    GuardianFactory(phone=PHONE)
    ask_for_code(client, PHONE, django_capture_on_commit_callbacks)
    SignInCode.objects.update(expires_at="2000-01-01T00:00Z")

    client.post(reverse("sign_in_code"), {"code": last_code()})

    assert "_auth_user_id" not in client.session


def test_a_code_works_once(client, django_capture_on_commit_callbacks):
    GuardianFactory(phone=PHONE)
    ask_for_code(client, PHONE, django_capture_on_commit_callbacks)
    code = last_code()
    client.post(reverse("sign_in_code"), {"code": code})
    client.post(reverse("sign_out"))

    client.post(reverse("sign_in_code"), {"code": code})

    assert "_auth_user_id" not in client.session


def test_codes_are_rate_limited_per_number(client, django_capture_on_commit_callbacks):
    GuardianFactory(phone=PHONE)
    for _ in range(3):
        ask_for_code(client.__class__(), PHONE, django_capture_on_commit_callbacks)

    response = ask_for_code(client, PHONE, django_capture_on_commit_callbacks)

    assert "Too many codes" in response.content.decode()
    assert len(MemoryBackend.outbox) == 3


def test_codes_are_rate_limited_per_ip_address(client, django_capture_on_commit_callbacks):
    for n in range(10):
        ask_for_code(client, f"+1617253{1000 + n}", django_capture_on_commit_callbacks)

    response = ask_for_code(client, "+16172532000", django_capture_on_commit_callbacks)

    assert "Too many codes" in response.content.decode()


def test_a_code_never_reaches_the_logs(client, django_capture_on_commit_callbacks, caplog):
    GuardianFactory(phone=PHONE)
    with caplog.at_level("DEBUG"):
        ask_for_code(client, PHONE, django_capture_on_commit_callbacks)
        client.post(reverse("sign_in_code"), {"code": last_code()})

    assert last_code() not in caplog.text
    assert "2531000" not in caplog.text


def test_a_malformed_number_gets_a_clear_error(client):
    response = client.post(reverse("sign_in"), {"address": "12"})
    assert "Enter your mobile number with its area code" in response.content.decode()


def staff_user(password="a long staff password"):
    user = UserFactory(email="teacher@school.example.org", username="teacher", password=password)
    StaffFactory(user=user)
    return user


def test_staff_sign_in_with_email_and_password(client):
    staff_user()

    response = client.post(
        reverse("sign_in_staff"),
        {"username": "Teacher@School.example.org", "password": "a long staff password"},
    )

    assert response.status_code == 302
    assert client.session.get_expiry_age() == 30 * 60


def test_staff_are_locked_out_after_five_wrong_passwords(client):
    staff_user()
    for _ in range(5):
        client.post(
            reverse("sign_in_staff"),
            {"username": "teacher@school.example.org", "password": "wrong"},
        )

    response = client.post(
        reverse("sign_in_staff"),
        {"username": "teacher@school.example.org", "password": "a long staff password"},
    )

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_session_ends_after_12_hours_even_when_active(client, settings):
    staff_user()
    client.post(
        reverse("sign_in_staff"),
        {"username": "teacher@school.example.org", "password": "a long staff password"},
    )
    session = client.session
    session["portal_signed_in_at"] -= 12 * 60 * 60 + 1
    session.save()

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign_in"))
    assert "_auth_user_id" not in client.session


def test_sign_out_everywhere_ends_every_session(client):
    staff_user()
    other_device = client.__class__()
    for device in (client, other_device):
        device.post(
            reverse("sign_in_staff"),
            {"username": "teacher@school.example.org", "password": "a long staff password"},
        )
    assert other_device.get(reverse("home")).status_code == 200

    client.post(reverse("sign_out_everywhere"))

    assert other_device.get(reverse("home")).status_code == 302
    assert User.objects.get(username="teacher").check_password("a long staff password")
