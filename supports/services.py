"""Writes of the support directory and help requests. Every page, API call, task and command goes
through these; each checks who may do it and runs in one transaction."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Case, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Message, Participant, Thread
from messaging.services import MessagingError, _body_check, _event, _write
from portal import permissions
from portal.models import Guardian, School, Staff, Student
from supports.models import HelpRequest, SupportService

ROLE = permissions.ROLE


class SupportError(MessagingError):
    """Why a help request or a change to the directory was refused, to show the person."""


# ---- Who sees which services ------------------------------------------------------------------


def _live(today: datetime.date) -> Q:
    return (
        Q(status=SupportService.Status.PUBLISHED)
        & (Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    )


def services_for_schools(schools: QuerySet[School], *, today=None) -> QuerySet[SupportService]:
    """Published services running today at these schools or across their districts."""
    today = today or timezone.localdate()
    return SupportService.objects.filter(
        _live(today),
        Q(school__in=schools) | Q(district__in=schools.values("district_id")),
    ).select_related("category")


def services_for_family(user, *, today=None) -> QuerySet[SupportService]:
    """What a family may find: the live services of their children's schools and districts."""
    access = permissions.access_for(user)
    if not access.guardian_id:
        return SupportService.objects.none()
    schools = School.objects.filter(
        students__guardian_links__guardian_id=access.guardian_id,
        students__guardian_links__is_active=True,
        students__is_active=True,
    )
    return services_for_schools(schools, today=today)


def counselors_of(service: SupportService) -> list[Staff]:
    """Who answers the service's help requests: its owner and its counselors, if active."""
    ids = set(service.counselors.filter(is_active=True).values_list("pk", flat=True))
    if service.owner_id and service.owner.is_active:
        ids.add(service.owner_id)
    return list(Staff.objects.filter(pk__in=ids).order_by("family_name", "given_name"))


def may_answer(user, help_request: HelpRequest) -> bool:
    access = permissions.access_for(user)
    return bool(access.staff_id) and any(
        person.pk == access.staff_id for person in counselors_of(help_request.service)
    )


# ---- Help requests ----------------------------------------------------------------------------


@transaction.atomic
def help_request_open(
    *, actor, service: SupportService, note: str = "", student: Student | None = None
) -> HelpRequest:
    """A family asks a service for help: a confidential thread opens between the family and the
    service's counselors only, the family's note (if any) first, then a message in the family's
    language saying the request arrived and who will answer."""
    access = permissions.access_for(actor)
    if not access.guardian_id:
        raise SupportError(_("Only families can ask for help here."))
    if not services_for_family(actor).filter(pk=service.pk).exists():
        raise SupportError(_("This service is not offered to your family."))
    guardian = Guardian.objects.get(pk=access.guardian_id)
    children = Student.objects.filter(
        guardian_links__guardian=guardian,
        guardian_links__is_active=True,
        guardian_links__may_receive_messages=True,
        is_active=True,
    )
    if student is not None and not children.filter(pk=student.pk).exists():
        raise SupportError(_("Choose one of your children."))
    in_scope = children.filter(
        Q(school_id=service.school_id)
        if service.school_id
        else Q(school__district=service.district)
    )
    school = (student or in_scope.select_related("school").first() or children.first()).school
    counselors = counselors_of(service)
    if not counselors:
        raise SupportError(_("Nobody answers this service here yet. Please call it."))
    note = note.strip()
    if note:
        note = _body_check(note)
    thread = Thread.objects.create(
        school=school,
        student=student,
        subject=service.title[:200],
        kind=Thread.Kind.HELP_REQUEST,
        created_by=actor,
        owner=service.owner if service.owner in counselors else counselors[0],
    )
    Participant.objects.bulk_create(
        [Participant(thread=thread, staff=person) for person in counselors]
        + [Participant(thread=thread, guardian=guardian)]
    )
    help_request = HelpRequest.objects.create(
        service=service, guardian=guardian, student=student, thread=thread
    )
    if note:
        _write(
            thread=thread,
            staff=None,
            guardian=guardian,
            body=note,
            channel=Message.Channel.WEB,
            is_internal=False,
        )
    names = ", ".join(str(person) for person in counselors)
    _event(thread, Message.Event.HELP_REQUESTED, body=names, families=[guardian])
    Thread.objects.filter(pk=thread.pk).update(waiting_since=thread.waiting_since or timezone.now())
    return help_request


def _counselor_of(actor, help_request: HelpRequest) -> Staff:
    if not may_answer(actor, help_request):
        raise SupportError(_("Only the service's counselors can do this."))
    return Staff.objects.get(pk=permissions.access_for(actor).staff_id)


@transaction.atomic
def help_request_assign(*, actor, help_request: HelpRequest, staff: Staff) -> HelpRequest:
    """A counselor of the service takes the request, or gives it to another of its counselors."""
    help_request = HelpRequest.objects.select_for_update().get(pk=help_request.pk)
    _counselor_of(actor, help_request)
    if staff not in counselors_of(help_request.service):
        raise SupportError(_("Give it to one of the service's counselors."))
    help_request.assigned_to = staff
    if help_request.status == HelpRequest.Status.NEW:
        help_request.status = HelpRequest.Status.ASSIGNED
    help_request.save(update_fields=["assigned_to", "status"])
    Thread.objects.filter(pk=help_request.thread_id).update(owner=staff)
    return help_request


@transaction.atomic
def help_request_close(*, actor, help_request: HelpRequest, outcome: str) -> HelpRequest:
    """A counselor closes the request with its outcome; a few days later the family is asked
    whether it got the help it needed (`help_requests_follow_up`)."""
    help_request = HelpRequest.objects.select_for_update().get(pk=help_request.pk)
    _counselor_of(actor, help_request)
    if outcome not in HelpRequest.Outcome.values or not outcome:
        raise SupportError(_("Choose how the request ended."))
    if help_request.status == HelpRequest.Status.CLOSED:
        raise SupportError(_("This request is already closed."))
    help_request.status, help_request.outcome = HelpRequest.Status.CLOSED, outcome
    help_request.closed_at = timezone.now()
    help_request.follow_up_sent_at, help_request.follow_up_answer = None, ""
    help_request.save()
    Thread.objects.filter(pk=help_request.thread_id).update(waiting_since=None)
    return help_request


def help_requests_for_counselor(user) -> QuerySet[HelpRequest]:
    """The requests of the services a counselor answers: new first, then assigned, oldest first
    within each, then the closed ones, newest first."""
    access = permissions.access_for(user)
    if not access.staff_id:
        return HelpRequest.objects.none()
    mine = Q(service__counselors=access.staff_id) | Q(service__owner=access.staff_id)
    return (
        HelpRequest.objects.filter(
            pk__in=HelpRequest.objects.filter(mine).values("pk"),
        )
        .select_related("service", "guardian", "assigned_to", "thread")
        .order_by(
            Case(
                When(status=HelpRequest.Status.NEW, then=0),
                When(status=HelpRequest.Status.ASSIGNED, then=1),
                default=2,
            ),
            "created_at",
        )
    )
