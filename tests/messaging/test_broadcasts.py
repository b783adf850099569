"""Announcements: who an audience reaches before sending, who may write to whom, one translation
per language however many families, private answers, scheduled sending, and the pages."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging import broadcasts
from messaging.broadcasts import (
    BroadcastError,
    broadcast_audience,
    broadcast_create,
    broadcast_reply,
    broadcasts_send_due,
)
from messaging.models import Broadcast, BroadcastRecipient, MessageTranslation, Thread
from messaging.services import MessagingError
from messaging.tasks import broadcasts_send_due as broadcasts_send_due_task
from portal import permissions
from portal.models import User
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    SectionFactory,
    StaffFactory,
    StaffMembershipFactory,
    StudentFactory,
    UserFactory,
)

AUDIENCE = Broadcast.Audience

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def fresh(user: User) -> User:
    """The same account without the access cached on it, as a new request would see it."""
    return User.objects.get(pk=user.pk)


def announce(world, eager, *, actor="teacher", **extra) -> Broadcast:
    arguments = {
        "school": world.north,
        "subject": "Field trip",
        "body": "Bring a packed lunch on Friday.",
        "kind": AUDIENCE.SECTION,
        "sections": [world.math],
        **extra,
    }
    with eager(execute=True):
        return broadcast_create(actor=fresh(world.users[actor]), **arguments)


def staffed_school(role="teacher"):
    """A school with one class and a staff member in `role` who teaches it."""
    school = SchoolFactory()
    section = SectionFactory(school=school, name="Room 5")
    member = StaffFactory(user=UserFactory())
    StaffMembershipFactory(staff=member, school=school, role=role)
    section.staff.add(member)
    return school, section, member


def family(section, *, student=None, **guardian):
    student = student or StudentFactory(school=section.school)
    section.students.add(student)
    person = GuardianFactory(**guardian)
    GuardianLinkFactory(guardian=person, student=student)
    return person, student


# ---- The audience -----------------------------------------------------------------------------


def test_audience_counts_each_family_once_by_language_and_channel_with_who_is_unreachable():
    school, room, teacher = staffed_school()
    # Two children in the class, one family: counted once.
    both_channels, first = family(room, preferred_language="es")
    second = StudentFactory(school=school)
    room.students.add(second)
    GuardianLinkFactory(guardian=both_channels, student=second)
    # Texts only (no email on file), and a no-contact father of the same child.
    texts_only, child = family(room, preferred_language="vi", email="")
    barred = GuardianFactory()
    GuardianLinkFactory(guardian=barred, student=child, may_receive_messages=False)
    # Barred from one child, allowed for another: reached.
    mixed = GuardianFactory(preferred_language="zh-hans")
    GuardianLinkFactory(guardian=mixed, student=first, may_receive_messages=False)
    GuardianLinkFactory(guardian=mixed, student=child)
    email_only, _ = family(room, preferred_language="en", phone="")
    no_address, _ = family(room, preferred_language="so", phone="", email="")
    opted_out, _ = family(room, preferred_language="ar", wants_sms=False, email="")
    # Not in the audience: an inactive guardian, an inactive link, a child in no class.
    family(room, is_active=False)
    gone, _ = family(room)
    gone.student_links.update(is_active=False)
    GuardianLinkFactory(student=StudentFactory(school=school))

    audience = broadcast_audience(
        actor=teacher.user, school=school, kind=AUDIENCE.SECTION, sections=[room]
    )

    assert audience.reached == 4
    assert audience.by_language == {"en": 1, "es": 1, "vi": 1, "zh-hans": 1}
    assert audience.by_channel == {"sms": 1, "email": 1, "both": 2}
    assert audience.no_contact == 1
    assert {(person.guardian_id, person.reason) for person in audience.unreachable} == {
        (no_address.pk, "no-address"),
        (opted_out.pk, "opted-out"),
    }
    assert barred.pk not in {person.guardian_id for person in audience.unreachable}
    assert audience.unreachable_count == 3
    assert set(audience.recipients.values_list("pk", flat=True)) == {
        both_channels.pk,
        texts_only.pk,
        mixed.pk,
        email_only.pk,
    }


def test_audience_queries_do_not_grow_with_the_number_of_families():
    def measured(families: int) -> int:
        school, room, counselor = staffed_school(role="counselor")
        for n in range(families):
            family(
                room, preferred_language=["en", "es", "vi"][n % 3], email="" if n % 4 else "x@e.org"
            )
        GuardianLinkFactory(
            student=room.students.first(), guardian=GuardianFactory(), may_receive_messages=False
        )
        actor = fresh(counselor.user)
        permissions.access_for(actor)
        counts = []
        for kind, extra in [
            (AUDIENCE.SECTION, {"sections": [room]}),
            (AUDIENCE.GRADE, {"grade": "5"}),
            (AUDIENCE.SCHOOL, {}),
        ]:
            with CaptureQueriesContext(connection) as queries:
                audience = broadcast_audience(actor=actor, school=school, kind=kind, **extra)
            assert audience.reached == families
            counts.append(len(queries))
        return counts

    few, many = measured(5), measured(50)
    assert few == many
    assert max(many) <= 5


# ---- Who may write to whom --------------------------------------------------------------------


def test_a_teacher_writes_only_to_their_own_classes_and_their_families(world, eager):
    for kind, extra in [
        (AUDIENCE.SECTION, {"sections": [world.art]}),
        (AUDIENCE.SECTIONS, {"sections": [world.math, world.art]}),
        (AUDIENCE.SCHOOL, {}),
        (AUDIENCE.GRADE, {"grade": "5"}),
        (AUDIENCE.LIST, {"guardians": [world.ben_parent]}),
    ]:
        with pytest.raises(BroadcastError):
            announce(world, eager, kind=kind, **extra)
    with pytest.raises(BroadcastError, match="work"):
        announce(world, eager, school=world.south, sections=[world.south_class])
    assert not Broadcast.objects.exists()

    assert announce(world, eager).recipients_count == 1  # the mother; the father is barred
    listed = announce(world, eager, kind=AUDIENCE.LIST, sections=[], guardians=[world.parent])
    assert listed.recipients.get().guardian == world.parent


def test_counselors_write_to_a_grade_and_the_whole_school(world, eager):
    whole = announce(world, eager, actor="counselor", kind=AUDIENCE.SCHOOL, sections=[])
    grade = announce(world, eager, actor="counselor", kind=AUDIENCE.GRADE, grade="5", sections=[])

    families = {world.parent.pk, world.ben_parent.pk}
    assert set(whole.recipients.values_list("guardian_id", flat=True)) == families
    assert set(grade.recipients.values_list("guardian_id", flat=True)) == families


def test_only_admins_send_urgent_announcements(world, eager):
    with pytest.raises(BroadcastError, match="urgent"):
        announce(world, eager, is_urgent=True)

    urgent = announce(world, eager, actor="school_admin", is_urgent=True)
    assert urgent.is_urgent and urgent.status == Broadcast.Status.SENT


def test_the_daily_limit_stops_the_next_announcement_with_a_clear_reason(world, eager, settings):
    settings.BROADCASTS_PER_STAFF_PER_DAY = 2
    announce(world, eager)
    announce(world, eager, subject="Reminder")

    with pytest.raises(BroadcastError) as refused:
        announce(world, eager, subject="One more")

    assert "2 announcements today" in str(refused.value)
    assert Broadcast.objects.count() == 2
    assert announce(world, eager, actor="counselor").status == Broadcast.Status.SENT


def test_an_empty_or_oversized_announcement_is_refused(world, eager):
    with pytest.raises(BroadcastError, match="subject"):
        announce(world, eager, subject="  ")
    with pytest.raises(MessagingError, match="1600"):
        announce(world, eager, body="x" * 1601)
    assert not Broadcast.objects.exists()


def test_a_sent_announcement_always_has_its_thread(world, eager):
    with pytest.raises(IntegrityError), transaction.atomic():
        Broadcast.objects.create(
            school=world.north,
            sender=world.teacher,
            subject="Broken",
            body="No thread",
            audience=AUDIENCE.SCHOOL,
            status=Broadcast.Status.SENT,
            sent_at=timezone.now(),
        )


# ---- Translation ------------------------------------------------------------------------------


def test_sixty_families_in_six_languages_cost_five_translations(fake_libretranslate, eager):
    school, room, teacher = staffed_school()
    languages = ["en", "es", "vi", "zh-hans", "ar", "so"]
    for n in range(60):
        family(room, preferred_language=languages[n % 6])

    with eager(execute=True):
        broadcast = broadcast_create(
            actor=teacher.user,
            school=school,
            subject="Picture day",
            body="Picture day is on Tuesday.",
            kind=AUDIENCE.SECTION,
            sections=[room],
        )

    assert broadcast.recipients_count == 60
    requests = fake_libretranslate.translations()
    assert len(requests) == 5
    assert sorted(request["target"] for request in requests) == ["ar", "es", "so", "vi", "zh"]
    assert all(request["q"] == ["Picture day is on Tuesday."] for request in requests)
    message = broadcast.thread.messages.get()
    assert set(message.translations.values_list("language", flat=True)) == set(languages) - {"en"}
    assert broadcast.thread.participants.get().staff == teacher  # no family is a participant


# ---- Answers ----------------------------------------------------------------------------------


def test_reply_to_broadcast_opens_direct_thread_with_the_sender_only(world, eager):
    aunt = GuardianFactory(user=UserFactory())
    GuardianLinkFactory(guardian=aunt, student=world.ana)
    broadcast = announce(world, eager)
    assert broadcast.recipients_count == 2

    with eager(execute=True):
        thread = broadcast_reply(actor=fresh(world.users["parent"]), broadcast=broadcast, body="Ok")
        again = broadcast_reply(
            actor=fresh(world.users["parent"]), broadcast=broadcast, body="Thank you"
        )

    assert again == thread
    assert thread.kind == Thread.Kind.DIRECT and thread.subject == "Re: Field trip"
    assert {(p.staff_id, p.guardian_id) for p in thread.participants.all()} == {
        (world.teacher.pk, None),
        (None, world.parent.pk),
    }
    assert [m.body for m in thread.messages.all()] == ["Ok", "Thank you"]
    assert thread.waiting_since is not None
    assert broadcast.thread.messages.count() == 1  # nothing was added for everyone
    aunt_sees = permissions.threads_visible_to(aunt.user)
    assert thread not in aunt_sees and broadcast.thread in aunt_sees
    assert thread in permissions.threads_visible_to(fresh(world.users["teacher"]))


def test_only_recipients_answer_or_see_an_announcement(world, eager):
    broadcast = announce(world, eager)

    for key in ("ben_parent", "barred_father"):
        with pytest.raises(BroadcastError):
            broadcast_reply(actor=fresh(world.users[key]), broadcast=broadcast, body="Hi")
        assert broadcast.thread not in permissions.threads_visible_to(fresh(world.users[key]))
    assert broadcast.thread in permissions.threads_visible_to(fresh(world.users["parent"]))


# ---- Scheduled --------------------------------------------------------------------------------


def test_scheduled_broadcasts_are_sent_once_when_due(world, eager, fake_libretranslate):
    world.parent.preferred_language = "es"
    world.parent.save()
    at = timezone.now() + datetime.timedelta(hours=2)
    broadcast = announce(world, eager, scheduled_at=at)

    assert broadcast.status == Broadcast.Status.SCHEDULED and broadcast.thread is None
    assert broadcast.recipients_count == 1
    assert fake_libretranslate.translations() == []
    assert not permissions.threads_visible_to(fresh(world.users["parent"])).exists()

    with eager(execute=True):
        assert broadcasts_send_due(now=at - datetime.timedelta(minutes=1)) == 0
        assert broadcasts_send_due(now=at) == 1
        assert broadcasts_send_due(now=at) == 0
        assert broadcasts_send_due_task.delay().get() == 0

    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SENT and broadcast.sent_at is not None
    assert Thread.objects.filter(kind=Thread.Kind.BROADCAST).count() == 1
    assert broadcast.thread.messages.get().body == "Bring a packed lunch on Friday."
    assert len(fake_libretranslate.translations()) == 1
    assert broadcast.thread in permissions.threads_visible_to(fresh(world.users["parent"]))


def test_the_beat_task_sends_what_is_due(world, eager):
    broadcast = announce(world, eager, scheduled_at=timezone.now() + datetime.timedelta(hours=1))
    Broadcast.objects.filter(pk=broadcast.pk).update(
        scheduled_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    with eager(execute=True):
        assert broadcasts_send_due_task.delay().get() == 1

    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SENT


# ---- Pages ------------------------------------------------------------------------------------


def test_compose_checks_the_audience_before_sending(client, world, eager):
    client.force_login(world.users["teacher"])
    url = reverse("broadcasts:compose")
    form = {
        "school": world.north.pk,
        "audience": AUDIENCE.SECTION,
        "sections": [world.math.pk],
        "subject": "Field trip",
        "body": "Bring a packed lunch.",
    }
    page = client.get(url).content.decode()
    assert "Check audience" in page and 'value="send"' not in page
    assert "The whole school" not in page and "Art 4" not in page  # not a teacher's to choose

    checked = client.post(url, {**form, "action": "check"})
    assert checked.status_code == 200
    assert "Reaches 1 family" in checked.content.decode()
    assert "1 guardian may not be contacted" in checked.content.decode()
    assert str(world.barred_father) not in checked.content.decode()  # counted, never named
    assert not Broadcast.objects.exists()

    with eager(execute=True):
        sent = client.post(url, {**form, "action": "send", "checked": checked.context["checked"]})

    broadcast = Broadcast.objects.get()
    assert sent["Location"] == reverse("broadcasts:detail", args=[broadcast.pk])
    assert broadcast.recipients.get().guardian == world.parent


def test_send_without_checking_the_same_audience_checks_first(client, world):
    client.force_login(world.users["teacher"])
    response = client.post(
        reverse("broadcasts:compose"),
        {
            "school": world.north.pk,
            "audience": AUDIENCE.SECTION,
            "sections": [world.math.pk],
            "subject": "Field trip",
            "body": "Bring a packed lunch.",
            "action": "send",
            "checked": "stale",
        },
    )
    assert response.status_code == 200 and "Reaches 1 family" in response.content.decode()
    assert not Broadcast.objects.exists()


def test_families_cannot_compose_and_teachers_cannot_pick_another_class(client, world):
    client.force_login(world.users["parent"])
    assert client.get(reverse("broadcasts:compose")).status_code == 403
    assert client.get(reverse("broadcasts:index")).status_code == 403

    client.force_login(world.users["teacher"])
    response = client.post(
        reverse("broadcasts:compose"),
        {
            "school": world.north.pk,
            "audience": AUDIENCE.SECTION,
            "sections": [world.art.pk],
            "action": "check",
        },
    )
    assert response.status_code == 400  # Art 4 is not among the teacher's choices


def test_admins_see_who_sent_what_to_whom(client, world, eager):
    broadcast = announce(world, eager)
    announce(world, eager, actor="art_teacher", sections=[world.art], subject="Art show")

    client.force_login(world.users["teacher"])
    listed = client.get(reverse("broadcasts:index")).content.decode()
    assert "Field trip" in listed and "Art show" not in listed
    own = client.get(reverse("broadcasts:detail", args=[broadcast.pk]))
    assert own.status_code == 200 and own.context["recipients"] is None

    client.force_login(world.users["school_admin"])
    listed = client.get(reverse("broadcasts:index")).content.decode()
    assert "Field trip" in listed and "Art show" in listed and str(world.teacher) in listed
    detail = client.get(reverse("broadcasts:detail", args=[broadcast.pk])).content.decode()
    assert str(world.parent) in detail and "Ana" in detail

    for key in ("art_teacher", "south_teacher", "parent"):
        client.force_login(world.users[key])
        assert client.get(reverse("broadcasts:detail", args=[broadcast.pk])).status_code == 404


def test_a_family_reads_it_in_its_language_and_answers_the_sender(client, world, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    broadcast = announce(world, eager)
    MessageTranslation.objects.create(
        message=broadcast.thread.messages.get(),
        language="es",
        text="Traigan almuerzo el viernes.",
        provider="libretranslate",
    )
    client.force_login(world.users["parent"])

    assert "Field trip" in client.get(reverse("broadcasts:received")).content.decode()
    page = client.get(reverse("broadcasts:read", args=[broadcast.pk])).content.decode()
    assert "Traigan almuerzo el viernes." in page
    assert "<details" in page and "Bring a packed lunch on Friday." in page

    with eager(execute=True):
        answered = client.post(reverse("broadcasts:read", args=[broadcast.pk]), {"body": "Sí"})

    thread = BroadcastRecipient.objects.get(guardian=world.parent).reply_thread
    assert answered["Location"] == reverse("messaging:thread", args=[thread.pk])
    assert thread.messages.get().body == "Sí"


@pytest.mark.parametrize("key", ["ben_parent", "barred_father", "cleo_parent", "teacher"])
def test_a_non_recipient_gets_404_on_the_family_page(client, world, eager, key):
    broadcast = announce(world, eager)
    client.force_login(world.users[key])

    assert client.get(reverse("broadcasts:read", args=[broadcast.pk])).status_code == 404
    assert (
        client.post(reverse("broadcasts:read", args=[broadcast.pk]), {"body": "Hi"}).status_code
        == 404
    )


def test_a_scheduled_announcement_is_not_shown_to_families_yet(client, world, eager):
    broadcast = announce(world, eager, scheduled_at=timezone.now() + datetime.timedelta(hours=1))
    client.force_login(world.users["parent"])

    assert client.get(reverse("broadcasts:read", args=[broadcast.pk])).status_code == 404
    assert "Field trip" not in client.get(reverse("broadcasts:received")).content.decode()


def test_targetable_sections_follow_the_roles(world):
    teacher = broadcasts.sections_targetable(fresh(world.users["teacher"]), world.north)
    counselor = broadcasts.sections_targetable(fresh(world.users["counselor"]), world.north)
    assert list(teacher) == [world.math]
    assert set(counselor) == {world.math, world.art}
