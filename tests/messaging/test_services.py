"""Threads between staff and families: the story of a father, his son's teacher and the counselor,
in two languages, with translation over real HTTP to a LibreTranslate stand-in."""

import pytest

from messaging.models import Message, MessageTranslation, Participant
from messaging.services import (
    MessagingError,
    message_post,
    participant_add,
    thread_archive,
    thread_mark_read,
    thread_start,
)
from portal import permissions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def start(world, capture, **extra):
    with capture(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well on her test.",
            **extra,
        )


def test_teacher_and_father_talk_each_in_their_language(world, fake_libretranslate, eager):
    world.parent.preferred_language = "es"
    world.parent.save()

    thread = start(world, eager)
    first = thread.messages.get()
    assert first.language == "en"
    assert first.translations.get().text == "[en->es] Ana did well on her test."

    with eager(execute=True):
        reply = message_post(
            actor=world.users["parent"],
            thread=thread,
            body="Gracias, maestra. ¿Cómo está en lectura?",
        )
    reply.refresh_from_db()
    assert reply.language == "es"  # detected, and also his language on file
    assert reply.translations.get(language="en").text.startswith("[es->en] Gracias")
    assert first.body == "Ana did well on her test."  # the original is kept as written
    assert len(fake_libretranslate.translations()) == 2


def test_a_family_answer_in_another_language_is_detected(world, fake_libretranslate, eager):
    thread = start(world, eager)  # the mother's language on file is English

    with eager(execute=True):
        reply = message_post(actor=world.users["parent"], thread=thread, body="Hola, gracias.")

    reply.refresh_from_db()
    assert reply.language == "es"
    assert reply.translations.get(language="en").text == "[es->en] Hola, gracias."


def test_waiting_for_an_answer_starts_with_the_family_and_ends_with_staff(world, eager):
    thread = start(world, eager)
    assert thread.waiting_since is None

    with eager(execute=True):
        question = message_post(actor=world.users["parent"], thread=thread, body="A question")
        message_post(actor=world.users["parent"], thread=thread, body="And another")
    thread.refresh_from_db()
    assert thread.waiting_since == question.created_at

    with eager(execute=True):
        message_post(
            actor=world.users["teacher"], thread=thread, body="Note to self", is_internal=True
        )
    thread.refresh_from_db()
    assert thread.waiting_since == question.created_at  # a note is no answer

    with eager(execute=True):
        message_post(actor=world.users["teacher"], thread=thread, body="Here is the answer")
    thread.refresh_from_db()
    assert thread.waiting_since is None


def test_looping_in_the_counselor_tells_the_family(world, eager):
    thread = start(world, eager)

    with eager(execute=True):
        participant_add(actor=world.users["teacher"], thread=thread, staff=world.counselor)

    joined = thread.messages.get(event=Message.Event.JOINED)
    assert joined.author_staff == world.counselor and not joined.is_internal
    assert permissions.threads_visible_to(world.users["counselor"]).filter(pk=thread.pk).exists()
    with pytest.raises(MessagingError):
        participant_add(actor=world.users["teacher"], thread=thread, staff=world.south_teacher)


def test_nobody_else_sees_or_writes_in_the_thread(world, eager):
    thread = start(world, eager)

    for key in ("ben_parent", "cleo_parent", "barred_father", "art_teacher", "south_teacher"):
        assert not permissions.threads_visible_to(world.users[key]).filter(pk=thread.pk).exists()
        with pytest.raises(MessagingError):
            message_post(actor=world.users[key], thread=thread, body="Let me in")
    assert permissions.threads_visible_to(world.users["school_admin"]).filter(pk=thread.pk).exists()


def test_no_message_to_a_guardian_barred_from_the_student(world, eager):
    with pytest.raises(MessagingError, match="may not receive messages about this student"):
        thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.barred_father],
            subject="Hi",
            body="Hello",
        )


def test_a_teacher_writes_only_to_families_of_their_sections(world, eager):
    with pytest.raises(MessagingError):
        thread_start(
            actor=world.users["teacher"],
            student=world.ben,
            guardians=[world.ben_parent],
            subject="Hi",
            body="Hello",
        )


def test_families_cannot_write_internal_notes_and_bodies_have_limits(world, eager):
    thread = start(world, eager)
    with pytest.raises(MessagingError):
        message_post(actor=world.users["parent"], thread=thread, body="x", is_internal=True)
    with pytest.raises(MessagingError, match="at most 1600 characters"):
        message_post(actor=world.users["parent"], thread=thread, body="x" * 1601)
    with pytest.raises(MessagingError):
        message_post(actor=world.users["parent"], thread=thread, body="   ")
    assert thread.messages.count() == 1


def test_a_family_writes_to_its_childs_teacher_or_the_office(world, eager):
    with eager(execute=True):
        thread = thread_start(
            actor=world.users["parent"],
            student=world.ana,
            staff=[world.teacher],
            subject="Homework",
            body="A question",
        )
    assert thread.waiting_since is not None
    assert set(Participant.objects.filter(thread=thread).values_list("staff", flat=True)) == {
        world.teacher.pk,
        None,
    }
    with pytest.raises(MessagingError):
        thread_start(
            actor=world.users["parent"],
            student=world.ana,
            staff=[world.art_teacher],
            subject="Hi",
            body="Hello",
        )
    with eager(execute=True):
        office = thread_start(
            actor=world.users["parent"],
            student=world.ana,
            subject="Absence",
            body="Ana is sick today",
        )
    assert office.kind == "office"
    assert office.participants.filter(staff=world.school_admin).exists()


def test_mark_read_and_archive(world, eager):
    thread = start(world, eager)
    thread_mark_read(actor=world.users["parent"], thread=thread)
    assert thread.participants.get(guardian=world.parent).last_read_at is not None
    with pytest.raises(MessagingError):
        thread_archive(actor=world.users["parent"], thread=thread)
    thread_archive(actor=world.users["teacher"], thread=thread)
    thread.refresh_from_db()
    assert thread.is_archived and thread.messages.count() == 1


def test_translation_provider_down_is_retried_not_lost(world, fake_libretranslate, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    fake_libretranslate.fail_with = 503

    with pytest.raises(Exception, match="LibreTranslate answered 503"):
        start(world, eager)

    assert Message.objects.count() == 1  # the message stands; its translation waits
    assert not MessageTranslation.objects.exists()


def test_no_thread_without_a_student_to_a_barred_guardian(world, eager):
    with pytest.raises(MessagingError, match="may not receive messages from you"):
        thread_start(
            actor=world.users["teacher"],
            school=world.north,
            guardians=[world.barred_father],
            subject="Hi",
            body="Hello",
        )


def test_staff_add_only_colleagues_of_the_school(world, eager):
    with pytest.raises(MessagingError, match="colleague from this school"):
        thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            staff=[world.south_teacher],
            subject="Hi",
            body="Hello",
        )


def test_an_admin_reading_leaves_no_trace_but_writing_joins_openly(world, eager):
    thread = start(world, eager)

    thread_mark_read(actor=world.users["school_admin"], thread=thread)
    assert not thread.participants.filter(staff=world.school_admin).exists()

    with eager(execute=True):
        message_post(actor=world.users["school_admin"], thread=thread, body="I can help")
    assert thread.messages.filter(event="joined", author_staff=world.school_admin).exists()


def test_an_office_with_nobody_to_answer_is_refused(world, eager):
    world.school_admin.memberships.update(is_active=False)
    with pytest.raises(MessagingError, match="cannot receive messages here yet"):
        thread_start(
            actor=world.users["parent"], student=world.ana, subject="Absence", body="Ana is sick"
        )


def test_a_subject_too_long_is_refused_not_cut(world, eager):
    with pytest.raises(MessagingError, match="at most 200"):
        thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="x" * 201,
            body="Hello",
        )


def _office_closed_now(school):
    import datetime as dt

    from django.utils import timezone

    local = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo(school.timezone))
    opens = dt.time(23, 0) if local.hour < 22 else dt.time(0, 0)
    school.office_opens_at = opens
    school.office_closes_at = dt.time(opens.hour, 30)
    school.save()


def test_a_family_writing_after_hours_is_told_once_a_day_when_to_expect_an_answer(
    world, eager, client
):
    _office_closed_now(world.north)
    thread = start(world, eager)

    with eager(execute=True):
        message_post(actor=world.users["parent"], thread=thread, body="Are you there?")
        message_post(actor=world.users["parent"], thread=thread, body="Hello?")

    acks = thread.messages.filter(event=Message.Event.ACKNOWLEDGED)
    assert acks.count() == 1
    thread.refresh_from_db()
    assert thread.waiting_since is not None  # an acknowledgement is no answer
    world.parent.preferred_language = "es"
    world.parent.save()
    client.force_login(world.users["parent"])
    page = client.get(f"/messages/{thread.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "expect an answer after it opens" in page or "oficina" in page


def test_office_next_open_skips_nights_and_weekends(world):
    import datetime as dt
    import zoneinfo

    school = world.north
    school.timezone, school.office_opens_at, school.office_closes_at = (
        "America/Chicago",
        dt.time(8, 0),
        dt.time(16, 0),
    )
    zone = zoneinfo.ZoneInfo("America/Chicago")
    friday_evening = dt.datetime(2026, 11, 20, 18, 0, tzinfo=zone)
    monday_morning = dt.datetime(2026, 11, 23, 9, 0, tzinfo=zone)

    assert school.office_next_open(friday_evening) == dt.datetime(2026, 11, 23, 8, 0, tzinfo=zone)
    assert school.office_next_open(monday_morning) is None
    assert school.office_next_open(dt.datetime(2026, 11, 24, 6, 0, tzinfo=zone)) == (
        dt.datetime(2026, 11, 24, 8, 0, tzinfo=zone)
    )


def test_names_and_the_schools_own_terms_are_never_translated(world, fake_libretranslate, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    world.north.do_not_translate = "Math Olympiad"
    world.north.save()

    with eager(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="News",
            body=f"{world.ana.given_name} joins the Math Olympiad at "
            f"{world.north.name} with {world.teacher.given_name}.",
        )

    sent = fake_libretranslate.translations()[0]["q"][0]
    assert world.ana.given_name not in sent and "Math Olympiad" not in sent
    assert "North Elementary" not in sent
    translation = thread.messages.get().translations.get(language="es")
    assert translation.text == (
        f"[en->es] {world.ana.given_name} joins the Math Olympiad at North Elementary with "
        f"{world.teacher.given_name}."
    )
