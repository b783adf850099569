"""A family sets its own language, channels and quiet hours; new contact details wait for the
school; every change is audited."""

import datetime

import pytest
from django.urls import reverse

from portal.models import AuditEvent, ContactChangeRequest
from portal.services import PreferenceError, contact_change_decide, guardian_language_set

pytestmark = pytest.mark.django_db


def save_preferences(client, **fields):
    data = {
        "language": "en",
        "channels": "both",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        **fields,
    }
    return client.post(reverse("preferences"), data)


def test_guardian_sets_language_channels_and_quiet_hours(client, world):
    client.force_login(world.users["parent"])

    response = save_preferences(
        client, language="vi", channels="sms", quiet_hours_start="07:00", quiet_hours_end="15:00"
    )

    assert response.status_code == 302
    world.parent.refresh_from_db()
    assert world.parent.preferred_language == "vi"
    assert (world.parent.wants_sms, world.parent.wants_email) == (True, False)
    assert world.parent.quiet_hours_start == datetime.time(7, 0)
    assert response.cookies["django_language"].value == "vi"
    event = AuditEvent.objects.get()
    assert (event.actor, event.via, event.guardian) == (world.users["parent"], "web", world.parent)
    assert event.changes["preferred_language"] == ["en", "vi"]


def test_somali_is_kept_for_messages_though_the_pages_stay_in_english(client, world):
    client.force_login(world.users["parent"])

    response = save_preferences(client, language="so")

    world.parent.refresh_from_db()
    assert world.parent.preferred_language == "so"
    assert "django_language" not in response.cookies


def test_saving_nothing_new_writes_no_audit(client, world):
    client.force_login(world.users["parent"])
    save_preferences(client)
    assert not AuditEvent.objects.exists()


def test_one_quiet_hour_end_alone_is_refused_with_a_reason(client, world):
    client.force_login(world.users["parent"])

    response = save_preferences(client, quiet_hours_start="22:00")

    assert "Give both times for your quiet hours" in response.content.decode()
    world.parent.refresh_from_db()
    assert world.parent.quiet_hours_start is None


def test_sms_only_without_a_number_is_refused(client, world):
    world.parent.phone = ""
    world.parent.save()
    client.force_login(world.users["parent"])

    response = save_preferences(client, channels="sms")

    assert "no mobile number for you" in response.content.decode()


def test_language_by_sms_uses_the_same_service(world):
    guardian_language_set(guardian=world.parent, language="ES", actor=None, via="sms")

    world.parent.refresh_from_db()
    assert world.parent.preferred_language == "es"
    assert AuditEvent.objects.get().via == "sms"
    with pytest.raises(PreferenceError):
        guardian_language_set(guardian=world.parent, language="klingon", actor=None, via="sms")


def test_a_new_number_waits_for_the_school_then_replaces_the_old(client, world):
    client.force_login(world.users["parent"])
    old_phone = str(world.parent.phone)

    client.post(reverse("contact_change"), {"phone": "(617) 253-1999", "email": ""})

    change = ContactChangeRequest.objects.get()
    world.parent.refresh_from_db()
    assert str(world.parent.phone) == old_phone
    assert "waiting for the school" in client.get(reverse("preferences")).content.decode()

    with pytest.raises(PreferenceError):
        contact_change_decide(change=change, actor=world.users["parent"], confirm=True)
    with pytest.raises(PreferenceError):
        contact_change_decide(change=change, actor=world.users["south_teacher"], confirm=True)
    contact_change_decide(change=change, actor=world.users["school_admin"], confirm=True)

    world.parent.refresh_from_db()
    assert str(world.parent.phone) == "+16172531999"
    assert AuditEvent.objects.filter(action="guardian.contact_change_confirmed").exists()


def test_a_malformed_number_is_refused_and_nothing_is_kept(client, world):
    client.force_login(world.users["parent"])

    response = client.post(reverse("contact_change"), {"phone": "555", "email": ""})

    assert response.status_code == 400
    assert "does not look right" in response.content.decode()
    assert not ContactChangeRequest.objects.exists()


@pytest.mark.parametrize("key", ["teacher", "school_admin"])
def test_preferences_are_a_familys_page_only(client, world, key):
    client.force_login(world.users[key])
    assert client.get(reverse("preferences")).status_code == 404
