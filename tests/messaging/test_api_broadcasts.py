"""The announcement API (/api/v1/broadcasts/, announcements/, templates/): staff write to the
families the pages let them write to and see only the announcements the pages show them, admins
see who got what, families read what was sent to them in their language and answer the sender
privately, and lists cost the same number of queries whatever their length."""

import datetime

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from messaging.broadcasts import broadcast_create
from messaging.channels.sms import MemoryBackend
from messaging.models import (
    Broadcast,
    BroadcastRecipient,
    Message,
    MessageTemplate,
    MessageTranslation,
    Thread,
)
from portal.models import User

pytestmark = pytest.mark.django_db

BROADCASTS = "/api/v1/broadcasts/"
ANNOUNCEMENTS = "/api/v1/announcements/"
TEMPLATES = "/api/v1/templates/"


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    """Each test counts its own requests, in memory (never in a Redis that CI shares)."""
    counts = LocMemCache("tests-messaging-api-broadcasts-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@pytest.fixture(autouse=True)
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture(autouse=True)
def texts(settings, always_open):
    """Texts go to memory, and the school has no quiet hours: the tests pass at any hour."""
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    MemoryBackend.outbox.clear()
    return MemoryBackend.outbox


def client_for(world, key: str) -> APIClient:
    client = APIClient()
    client.force_login(world.users[key])
    return client


def announce(world, eager, *, by="teacher", section=None, subject="Field trip") -> Broadcast:
    with eager(execute=True):
        return broadcast_create(
            actor=User.objects.get(pk=world.users[by].pk),  # a fresh access, as a new request
            school=world.north,
            subject=subject,
            body="Bring a packed lunch on Friday.",
            kind=Broadcast.Audience.SECTION,
            sections=[section or world.math],
        )


def written() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Broadcast, BroadcastRecipient, Thread, Message)
    )


# ---- Staff: writing ---------------------------------------------------------------------------


def test_a_teacher_announces_to_their_class_and_it_is_sent(world, eager, texts):
    client = client_for(world, "teacher")
    asked = {
        "school": world.north.pk,
        "subject": "Field trip",
        "body": "Bring a packed lunch on Friday.",
        "audience": "section",
        "sections": [world.math.pk],
    }

    with eager(execute=True):
        response = client.post(BROADCASTS, asked, format="json")

    assert response.status_code == 201, response.content
    shown = response.json()
    assert (shown["status"], shown["audience"], shown["sections"]) == (
        "sent",
        "section",
        [world.math.pk],
    )
    assert shown["recipients_count"] == 1  # Ana's mother; her barred father is not written to
    assert shown["sender"] == world.teacher.pk and shown["sent_at"]
    assert [text.to for text in texts] == [world.parent.phone.as_e164]
    assert "Bring a packed lunch on Friday." in texts[0].body
    progress = client.get(f"{BROADCASTS}{shown['id']}/progress/").json()
    assert progress["by_channel"]["sms"]["sent"] == 1 and progress["is_done"]


def test_a_teacher_cannot_announce_to_another_class_the_whole_school_or_other_families(world):
    client = client_for(world, "teacher")
    base = {"school": world.north.pk, "subject": "Hello", "body": "A word to families."}

    def post(**asked):
        return client.post(BROADCASTS, {**base, **asked}, format="json")

    # Ids the teacher may not see read as ids that do not exist.
    other_class = post(audience="section", sections=[world.art.pk])
    assert other_class.status_code == 400 and "sections" in other_class.json()
    other_family = post(audience="list", guardians=[world.ben_parent.pk])
    assert other_family.status_code == 400 and "guardians" in other_family.json()
    other_school = post(audience="section", sections=[world.math.pk], school=world.south.pk)
    assert other_school.status_code == 400 and "school" in other_school.json()
    # What the teacher may see but not do is refused with the services' reason.
    whole_school = post(audience="school")
    assert whole_school.status_code == 400
    assert whole_school.json() == {
        "detail": "Only counselors and admins can write to a grade or the whole school."
    }
    urgent = post(audience="section", sections=[world.math.pk], is_urgent=True)
    assert urgent.json() == {"detail": "Only school admins can send urgent announcements."}

    assert written() == (0, 0, 0, 0)
    assert client_for(world, "parent").post(BROADCASTS, base).status_code == 403


def test_a_scheduled_announcement_waits_and_a_past_time_is_refused(world, eager, texts):
    client = client_for(world, "teacher")
    asked = {
        "school": world.north.pk,
        "subject": "Picture day",
        "body": "Picture day is Friday.",
        "audience": "sections",
        "sections": [world.math.pk],
    }
    past = timezone.now() - datetime.timedelta(minutes=5)
    late = client.post(BROADCASTS, {**asked, "scheduled_at": past.isoformat()}, format="json")
    assert late.status_code == 400 and "scheduled_at" in late.json()

    ahead = timezone.now() + datetime.timedelta(hours=2)
    with eager(execute=True):
        later = client.post(BROADCASTS, {**asked, "scheduled_at": ahead.isoformat()}, format="json")

    assert later.status_code == 201, later.content
    assert later.json()["status"] == "scheduled" and later.json()["sent_at"] is None
    assert texts == []
    assert client_for(world, "parent").get(ANNOUNCEMENTS).json()["count"] == 0


def test_the_audience_preview_counts_families_and_writes_nothing(world):
    client = client_for(world, "teacher")

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"{BROADCASTS}audience/",
            {"school": world.north.pk, "audience": "section", "sections": [world.math.pk]},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "audience": "section",
        "reached": 1,
        "by_language": {"en": 1},
        "by_channel": {"sms": 0, "email": 0, "both": 1},
        "no_contact": 1,  # Ana's father, counted and never named
        "unreachable": [],
        "unreachable_count": 1,
    }
    assert written() == (0, 0, 0, 0)
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert all('"django_session"' in sql for sql in writes), writes  # a staff session renewed
    refused = client.post(
        f"{BROADCASTS}audience/", {"school": world.north.pk, "audience": "grade"}, format="json"
    )
    assert refused.status_code == 400 and "detail" in refused.json()


# ---- Staff: reading ---------------------------------------------------------------------------


def test_staff_see_their_own_announcements_and_admins_see_who_got_what(world, eager):
    math = announce(world, eager)
    art = announce(world, eager, by="art_teacher", section=world.art, subject="Art show")

    def listed(key):
        response = client_for(world, key).get(BROADCASTS)
        assert response.status_code == 200, response.content
        return [row["subject"] for row in response.json()["results"]]

    assert listed("teacher") == ["Field trip"]
    assert listed("art_teacher") == ["Art show"]
    assert listed("school_admin") == ["Art show", "Field trip"]  # newest first
    assert listed("south_teacher") == []

    for key in ("art_teacher", "south_teacher", "counselor"):
        client = client_for(world, key)
        for path in ("", "progress/", "recipients/"):
            assert client.get(f"{BROADCASTS}{math.pk}/{path}").status_code == 404, (key, path)
    for key in ("parent", "ben_parent"):
        assert client_for(world, key).get(f"{BROADCASTS}{math.pk}/").status_code == 403

    teacher = client_for(world, "teacher")
    own = teacher.get(f"{BROADCASTS}{math.pk}/").json()
    assert own["subject"] == "Field trip" and own["progress"]["by_channel"]["sms"]["sent"] == 1
    assert teacher.get(f"{BROADCASTS}{math.pk}/recipients/").status_code == 403

    admin = client_for(world, "school_admin")
    assert admin.get(f"{BROADCASTS}{art.pk}/").json()["sender_name"] == str(world.art_teacher)
    recipients = admin.get(f"{BROADCASTS}{math.pk}/recipients/").json()
    assert recipients["count"] == 1
    (row,) = recipients["results"]
    assert (row["guardian"], row["guardian_name"], row["student_name"]) == (
        world.parent.pk,
        str(world.parent),
        str(world.ana),
    )
    assert {(d["channel"], d["status"]) for d in row["deliveries"]} >= {("sms", "sent")}


def _queries(client: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    ("key", "path"),
    [("teacher", BROADCASTS), ("school_admin", BROADCASTS), ("parent", ANNOUNCEMENTS)],
)
def test_the_lists_cost_the_same_for_2_and_20_announcements(world, eager, settings, key, path):
    settings.BROADCASTS_PER_STAFF_PER_DAY = 20
    client = client_for(world, key)
    for number in range(2):
        announce(world, eager, subject=f"Notice {number}")
    with_2 = _queries(client, path)
    for number in range(18):
        announce(world, eager, subject=f"More {number}")
    assert client.get(path).json()["count"] == 20
    assert _queries(client, path) == with_2
    # session and user 2 (and 3 to renew a staff session), access 2, then count, and for staff
    # the announcements and their classes; for a family their announcements, the messages and
    # their translations into the family's language
    assert with_2 <= 10, with_2


# ---- Families ---------------------------------------------------------------------------------


def test_a_family_lists_only_its_announcements_and_answers_the_sender_alone(world, eager):
    math = announce(world, eager)
    art = announce(world, eager, by="art_teacher", section=world.art, subject="Art show")
    parent = client_for(world, "parent")

    listed = parent.get(ANNOUNCEMENTS).json()["results"]
    assert [(row["id"], row["subject"]) for row in listed] == [(math.pk, "Field trip")]
    assert listed[0]["sender_name"] == str(world.teacher) and listed[0]["reply_thread"] is None
    assert parent.get(f"{ANNOUNCEMENTS}{art.pk}/").status_code == 404
    assert parent.post(f"{ANNOUNCEMENTS}{art.pk}/reply/", {"body": "Hi"}).status_code == 404
    assert client_for(world, "barred_father").get(ANNOUNCEMENTS).json()["count"] == 0
    assert client_for(world, "teacher").get(ANNOUNCEMENTS).status_code == 403

    with eager(execute=True):
        answered = parent.post(f"{ANNOUNCEMENTS}{math.pk}/reply/", {"body": "Thank you!"})

    assert answered.status_code == 201, answered.content
    thread = answered.json()
    assert (thread["kind"], thread["subject"]) == ("direct", "Re: Field trip")
    assert {(p["staff"], p["guardian"]) for p in thread["participants"]} == {
        (world.teacher.pk, None),
        (None, world.parent.pk),
    }
    assert parent.get(f"{ANNOUNCEMENTS}{math.pk}/").json()["reply_thread"] == thread["id"]
    messages = client_for(world, "teacher").get(f"/api/v1/threads/{thread['id']}/messages/")
    assert [m["body"] for m in messages.json()["results"]] == ["Thank you!"]
    # No other family is in the conversation.
    assert client_for(world, "ben_parent").get(f"/api/v1/threads/{thread['id']}/").status_code == (
        404
    )
    empty = parent.post(f"{ANNOUNCEMENTS}{math.pk}/reply/", {"body": "  "})
    assert empty.status_code == 400 and "detail" in empty.json()


def test_a_family_reads_it_in_its_language_and_marks_it_read(world, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    broadcast = announce(world, eager)
    MessageTranslation.objects.create(
        message=broadcast.thread.messages.get(),
        language="es",
        text="Traigan almuerzo el viernes.",
        provider="libretranslate",
    )
    parent = client_for(world, "parent")

    shown = parent.get(f"{ANNOUNCEMENTS}{broadcast.pk}/").json()

    assert shown["body"] == "Bring a packed lunch on Friday." and shown["language"] == "en"
    assert shown["translation"] == {
        "language": "es",
        "text": "Traigan almuerzo el viernes.",
        "is_machine": True,
    }
    assert shown["read_at"] is None
    assert parent.post(f"{ANNOUNCEMENTS}{broadcast.pk}/read/").status_code == 204
    assert parent.get(ANNOUNCEMENTS).json()["results"][0]["read_at"]
    progress = client_for(world, "teacher").get(f"{BROADCASTS}{broadcast.pk}/progress/").json()
    assert progress["read"] == 1


# ---- Templates --------------------------------------------------------------------------------


def test_templates_are_the_shared_ones_and_the_staff_members_schools(world):
    MessageTemplate.objects.create(
        name="Absence",
        subject_en="Absence",
        body_en="{student_first_name} was absent today.",
        subject_es="Ausencia",
        body_es="{student_first_name} faltó hoy.",
    )
    MessageTemplate.objects.create(
        school=world.north, name="North trip", subject_en="Trip", body_en="Bring lunch."
    )
    MessageTemplate.objects.create(
        school=world.south, name="South trip", subject_en="Trip", body_en="Bring water."
    )
    MessageTemplate.objects.create(
        school=world.north, name="Old", subject_en="Old", body_en="Old.", is_active=False
    )

    def names(key):
        response = client_for(world, key).get(TEMPLATES)
        assert response.status_code == 200, response.content
        return [row["name"] for row in response.json()["results"]]

    assert names("teacher") == ["Absence", "North trip"]
    assert names("school_admin") == ["Absence", "North trip"]
    assert names("south_teacher") == ["Absence", "South trip"]
    assert client_for(world, "parent").get(TEMPLATES).status_code == 403

    absence, trip = client_for(world, "teacher").get(TEMPLATES).json()["results"]
    assert (absence["school"], absence["subject"], absence["body"]) == (
        None,
        "Absence",
        "{student_first_name} was absent today.",
    )
    assert absence["translations"] == {
        "es": {"subject": "Ausencia", "body": "{student_first_name} faltó hoy."}
    }
    assert trip["translations"] == {}
    south = MessageTemplate.objects.get(name="South trip")
    assert client_for(world, "teacher").get(f"{TEMPLATES}{south.pk}/").status_code == 404


def test_the_schema_describes_the_announcement_endpoints_without_warnings(tmp_path):
    GENERATOR_STATS.reset()
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(schema))
    text = schema.read_text()
    for path in (
        "/api/v1/broadcasts/:",
        "/api/v1/broadcasts/audience/:",
        "/api/v1/broadcasts/{id}/:",
        "/api/v1/broadcasts/{id}/progress/:",
        "/api/v1/broadcasts/{id}/recipients/:",
        "/api/v1/announcements/:",
        "/api/v1/announcements/{id}/:",
        "/api/v1/announcements/{id}/read/:",
        "/api/v1/announcements/{id}/reply/:",
        "/api/v1/templates/:",
        "/api/v1/templates/{id}/:",
    ):
        assert f"\n  {path}\n" in text, path
