"""Maple Elementary: a small school whose engagement figures are known by hand.

Two weeks of March 2026 (Monday the 2nd to Sunday the 15th, Chicago time; summer time starts on
Sunday the 8th), seven families and what happened to each:

- Fern (English): email only, no sign-in. Two announcements reached her by email; she never
  wrote.
- Paz (Spanish): a phone only. Texts reached her; she wrote three texts to Ms Rivera (answered
  after 2 hours, then two in a row answered after 21 hours); she texted STOP on Monday the 9th,
  so the second announcement was not sent to her.
- Vu (Vietnamese): a phone and a sign-in. Wrote to Mr Chen on Friday the 6th at 15:00, answered
  on Monday the 9th at 10:00: 66 hours, the clocks went forward on Sunday. A wait that began
  before the period (Friday 27 February) was answered on the 2nd: it is not counted.
- Ivo (English): a phone whose texts failed with Twilio's 21211 (not a valid number).
- Amal (Arabic): a phone and an email; her email bounced, her texts arrived. Children in both
  grades. Texted STOP then START on Tuesday the 3rd. Wrote an email on Thursday the 12th at
  10:00 that nobody answered (past the 16 school-hour target by Monday the 16th at noon).
- Sol (Spanish): a phone, but she turned texts off, and no email: no working channel.
- Nuur (Somali): a portal sign-in only; read the first announcement in the portal. Wrote to
  the office on Monday the 16th at 09:00, after the period, still waiting.

Two surveys (one anonymous) and two support services with three help requests complete it.
`tests/portal/test_reports.py` checks every figure the report gives for it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from messaging.models import ConsentChange, Delivery, Message, Participant, SmsConsent, Thread
from portal.models import Guardian, School, Section, Staff, User
from supports.models import HelpRequest, SupportService
from surveys.models import Answer, Invitation, Question, Survey
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    SectionFactory,
    StaffFactory,
    StaffMembershipFactory,
    StudentFactory,
    SupportServiceFactory,
    UserFactory,
)

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
PERIOD_START = dt.date(2026, 3, 2)
PERIOD_END = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 16, 12, 0, tzinfo=CHICAGO)  # Monday noon, when the report is read


def local(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHICAGO)


@dataclass
class Maple:
    school: School
    room4: Section  # grade 4, Ms Rivera
    room5: Section  # grade 5, Mr Chen
    rivera: Staff
    chen: Staff
    admin: Staff
    counselor: Staff
    fern: Guardian
    paz: Guardian
    vu: Guardian
    ivo: Guardian
    amal: Guardian
    sol: Guardian
    nuur: Guardian
    barred: Guardian  # a no-contact link: never counted
    food: SupportService
    tutoring: SupportService
    users: dict[str, User]
    thread_paz: Thread
    thread_vu: Thread
    thread_amal: Thread
    thread_nuur: Thread
    anonymous_survey: Survey
    named_survey: Survey


def message(thread, when, *, staff=None, guardian=None, channel="web", **extra) -> Message:
    written = Message.objects.create(
        thread=thread,
        author_staff=staff,
        author_guardian=guardian,
        body=extra.pop("body", "Hello"),
        channel=channel,
        **extra,
    )
    Message.objects.filter(pk=written.pk).update(created_at=when)
    return written


def delivery(
    written: Message,
    guardian: Guardian,
    channel: str,
    status: str,
    *,
    error_code: str = "",
    segments: int | None = None,
    read_at: dt.datetime | None = None,
) -> Delivery:
    when = Message.objects.get(pk=written.pk).created_at
    address = {"sms": str(guardian.phone), "email": guardian.email}.get(channel, "")
    row = Delivery.objects.create(
        message=written,
        guardian=guardian,
        channel=channel,
        address=address,
        status=status,
        error_code=error_code,
        error_reason=f"reason {error_code}" if error_code else "",
        segments=segments,
        next_attempt_at=when + dt.timedelta(hours=12) if status == "deferred" else None,
    )
    handed = status in ("sent", "delivered", "undelivered")
    Delivery.objects.filter(pk=row.pk).update(
        created_at=when,
        sent_at=when + dt.timedelta(minutes=1) if handed else None,
        delivered_at=read_at or (when + dt.timedelta(minutes=2) if status == "delivered" else None),
    )
    return row


def consent(school, guardian, *changes) -> None:
    row, _created = SmsConsent.objects.get_or_create(school=school, phone=str(guardian.phone))
    for action, when in changes:
        change = ConsentChange.objects.create(consent=row, action=action, source="sms_keyword")
        ConsentChange.objects.filter(pk=change.pk).update(created_at=when)
        row.is_opted_out = action == "opt_out"
    row.save()


def thread(school, subject, *, staff, guardians, student=None, kind="direct") -> Thread:
    made = Thread.objects.create(
        school=school, subject=subject, student=student, kind=kind, owner=staff[0]
    )
    Participant.objects.bulk_create(
        [Participant(thread=made, staff=person) for person in staff]
        + [Participant(thread=made, guardian=person) for person in guardians]
    )
    return made


def maple_school() -> Maple:
    school = SchoolFactory(
        name="Maple Elementary",
        timezone="America/Chicago",
        office_opens_at=dt.time(8, 0),
        office_closes_at=dt.time(16, 0),
        answer_target_hours=16,
    )
    users = {
        key: UserFactory(username=f"{key}@maple.example.org", email=f"{key}@maple.example.org")
        for key in ("rivera", "chen", "admin", "counselor", "nuur", "vu")
    }

    def staff(key, given, family, role):
        member = StaffFactory(user=users[key], given_name=given, family_name=family)
        StaffMembershipFactory(staff=member, school=school, role=role)
        return member

    rivera = staff("rivera", "Rosa", "Rivera", "teacher")
    chen = staff("chen", "Li", "Chen", "teacher")
    admin = staff("admin", "Ada", "Admin", "admin")
    counselor = staff("counselor", "Cora", "Counselor", "counselor")
    room4 = SectionFactory(school=school, name="Room 4", grade="4")
    room5 = SectionFactory(school=school, name="Room 5", grade="5")
    room4.staff.add(rivera)
    room5.staff.add(chen)
    pupils = {}
    for name, grade, room in (
        ("Ana", "4", room4),
        ("Ben", "4", room4),
        ("Cai", "5", room5),
        ("Dov", "5", room5),
    ):
        pupils[name] = StudentFactory(school=school, given_name=name, grade=grade)
        room.students.add(pupils[name])

    def family(given, language, children, **contact):
        contact.setdefault("phone", "")
        contact.setdefault("email", "")
        person = GuardianFactory(given_name=given, family_name="Family", **contact)
        person.preferred_language = language
        person.save()
        for child in children:
            GuardianLinkFactory(guardian=person, student=pupils[child])
        return person

    fern = family("Fern", "en", ["Ana"], email="fern@example.org")
    paz = family("Paz", "es", ["Ben"], phone="+13125550102")
    vu = family("Vu", "vi", ["Cai"], phone="+13125550103", user=users["vu"])
    ivo = family("Ivo", "en", ["Dov"], phone="+13125550104")
    amal = family("Amal", "ar", ["Ben", "Cai"], phone="+13125550105", email="amal@example.org")
    sol = family("Sol", "es", ["Ana"], phone="+13125550106", wants_sms=False)
    nuur = family("Nuur", "so", ["Dov"], user=users["nuur"])
    barred = GuardianFactory(given_name="Barred", family_name="Family", phone="+13125550109")
    GuardianLinkFactory(guardian=barred, student=pupils["Dov"], may_receive_messages=False)

    # Conversations
    thread_paz = thread(school, "Reading", staff=[rivera], guardians=[paz], student=pupils["Ben"])
    message(thread_paz, local(3, 4, 9), guardian=paz, channel="sms")
    answer_1 = message(thread_paz, local(3, 4, 11), staff=rivera)
    message(thread_paz, local(3, 4, 12), guardian=paz, channel="sms")
    message(thread_paz, local(3, 4, 12, 10), staff=rivera, is_internal=True, body="a note")
    message(thread_paz, local(3, 4, 12, 30), guardian=paz, channel="sms")
    answer_2 = message(thread_paz, local(3, 5, 9), staff=rivera)

    thread_vu = thread(school, "Homework", staff=[chen], guardians=[vu], student=pupils["Cai"])
    message(thread_vu, local(2, 27, 10), guardian=vu)  # a wait begun before the period...
    message(thread_vu, local(3, 2, 8), guardian=vu)  # ...that this message only adds to
    answer_old = message(thread_vu, local(3, 2, 9), staff=chen)
    message(thread_vu, local(3, 6, 15), guardian=vu)  # Friday, 15:00
    answer_weekend = message(thread_vu, local(3, 9, 10), staff=chen)  # Monday, 10:00
    check_in = message(thread_vu, local(3, 13, 9), event="check_in", body="")

    thread_amal = thread(school, "Bus", staff=[chen], guardians=[amal], student=pupils["Cai"])
    message(thread_amal, local(3, 12, 10), guardian=amal, channel="email")
    Thread.objects.filter(pk=thread_amal.pk).update(waiting_since=local(3, 12, 10))

    thread_nuur = thread(school, "Office", staff=[admin], guardians=[nuur], kind="office")
    message(thread_nuur, local(3, 16, 9), guardian=nuur)
    Thread.objects.filter(pk=thread_nuur.pk).update(waiting_since=local(3, 16, 9))

    # Announcements: the families read them as recipients, never as participants.
    first = thread(school, "Spring fair", staff=[admin], guardians=[], kind="broadcast")
    second = thread(school, "Picture day", staff=[admin], guardians=[], kind="broadcast")
    announcement_1 = message(first, local(3, 3, 10), staff=admin)
    announcement_2 = message(second, local(3, 10, 10), staff=admin)

    delivery(announcement_1, fern, "email", "sent")
    delivery(announcement_1, paz, "sms", "delivered", segments=2)
    delivery(announcement_1, vu, "sms", "delivered", segments=2)
    delivery(announcement_1, ivo, "sms", "failed", error_code="21211", segments=2)
    delivery(announcement_1, amal, "sms", "delivered", segments=2)
    delivery(announcement_1, amal, "email", "failed", error_code="email-refused")
    delivery(announcement_1, nuur, "in_app", "delivered", read_at=local(3, 4, 18))
    delivery(answer_1, paz, "sms", "delivered", segments=1)
    delivery(answer_2, paz, "sms", "delivered", segments=1)
    delivery(answer_old, vu, "sms", "delivered", segments=1)
    delivery(answer_weekend, vu, "sms", "delivered", segments=1)
    delivery(announcement_2, fern, "email", "sent")
    delivery(announcement_2, paz, "sms", "skipped", error_code="opted-out")
    delivery(announcement_2, vu, "sms", "delivered", segments=2)
    delivery(announcement_2, ivo, "sms", "failed", error_code="21211", segments=2)
    delivery(announcement_2, amal, "sms", "delivered", segments=2)
    delivery(announcement_2, amal, "email", "failed", error_code="email-refused")
    delivery(announcement_2, nuur, "in_app", "sent")
    delivery(check_in, vu, "sms", "deferred")

    consent(school, paz, ("opt_out", local(3, 9, 8)))
    consent(school, amal, ("opt_out", local(3, 3, 12)), ("opt_in", local(3, 3, 13)))
    consent(school, ivo, ("opt_out", local(2, 20, 8)), ("opt_in", local(2, 21, 8)))

    # Surveys
    anonymous_survey = Survey.objects.create(
        school=school, title="How are we doing?", audience="school", is_anonymous=True
    )
    named_survey = Survey.objects.create(school=school, title="Field trip", audience="school")
    question = Question.objects.create(survey=anonymous_survey, position=1, kind="scale", text="?")
    for survey, guardian, channel, invited_at, completed_at in (
        (anonymous_survey, fern, "web", local(3, 9, 9), None),
        (anonymous_survey, paz, "sms", local(3, 9, 9), None),
        (anonymous_survey, vu, "sms", local(3, 9, 9), local(3, 9, 15)),
        (anonymous_survey, amal, "web", local(3, 9, 9), local(3, 11, 9)),
        (named_survey, nuur, "web", local(3, 12, 9), local(3, 12, 13)),
    ):
        invitation = Invitation.objects.create(
            survey=survey,
            guardian=guardian,
            channel=channel,
            token=f"token-{survey.pk}-{guardian.pk}",
            status="completed" if completed_at else "invited",
            completed_at=completed_at,
        )
        Invitation.objects.filter(pk=invitation.pk).update(invited_at=invited_at)
    for respondent in ("r1", "r2"):  # anonymous answers carry no invitation
        Answer.objects.create(
            question=question, respondent=respondent, value="4", created_at=local(3, 11, 0)
        )

    # Help requests: counted by service only, never in the conversation figures.
    food = SupportServiceFactory(school=school, title="Food pantry", owner=counselor)
    food.counselors.add(counselor)
    tutoring = SupportServiceFactory(school=school, title="Tutoring", owner=admin)
    for service, guardian, opened_at, answered_at, status, follow_up in (
        (food, sol, local(3, 3, 10), local(3, 3, 14), "closed", "yes"),
        (food, paz, local(3, 10, 9), None, "new", ""),
        (tutoring, vu, local(3, 12, 8), local(3, 13, 8), "assigned", ""),
    ):
        help_thread = thread(
            school, "Help", staff=[service.owner], guardians=[guardian], kind="help_request"
        )
        message(help_thread, opened_at, guardian=guardian, body="We need help")
        if answered_at:
            answer = message(help_thread, answered_at, staff=service.owner)
            if guardian.phone and guardian.wants_sms:
                delivery(answer, guardian, "sms", "delivered", segments=1)
        request = HelpRequest.objects.create(
            service=service,
            guardian=guardian,
            thread=help_thread,
            status=status,
            outcome="helped" if status == "closed" else "",
            closed_at=answered_at if status == "closed" else None,
            follow_up_answer=follow_up,
        )
        HelpRequest.objects.filter(pk=request.pk).update(created_at=opened_at)

    return Maple(
        school=school,
        room4=room4,
        room5=room5,
        rivera=rivera,
        chen=chen,
        admin=admin,
        counselor=counselor,
        fern=fern,
        paz=paz,
        vu=vu,
        ivo=ivo,
        amal=amal,
        sol=sol,
        nuur=nuur,
        barred=barred,
        food=food,
        tutoring=tutoring,
        users=users,
        thread_paz=thread_paz,
        thread_vu=thread_vu,
        thread_amal=thread_amal,
        thread_nuur=thread_nuur,
        anonymous_survey=anonymous_survey,
        named_survey=named_survey,
    )
