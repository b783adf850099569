"""Reads of surveys that pages, the API and the results share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from messaging.models import Delivery, Message
from portal import permissions
from surveys.models import Invitation, Survey

ROLE = permissions.ROLE


def surveys_for_staff(user) -> QuerySet[Survey]:
    """Surveys a staff member may build, send, close and read the results of: their own; for an
    admin, every survey of their schools; for a superuser, all."""
    access = permissions.access_for(user)
    surveys = Survey.objects.select_related("school", "created_by")
    if access.is_superuser:
        return surveys
    rule = Q(created_by_id=access.staff_id) if access.staff_id else Q(pk__in=[])
    admin_schools = access.schools_with(ROLE.ADMIN)
    if admin_schools:
        rule |= Q(school_id__in=admin_schools)
    return surveys.filter(rule)


def invitations_for_guardian(user) -> QuerySet[Invitation]:
    """The open web surveys a signed-in family was invited to and has not finished, newest
    first."""
    access = permissions.access_for(user)
    if not access.guardian_id:
        return Invitation.objects.none()
    now = timezone.now()
    return (
        Invitation.objects.filter(
            guardian_id=access.guardian_id,
            survey__status=Survey.Status.OPEN,
            survey__on_web=True,
            status__in=[Invitation.Status.INVITED, Invitation.Status.STARTED],
        )
        .filter(Q(survey__opens_at__isnull=True) | Q(survey__opens_at__lte=now))
        .filter(Q(survey__closes_at__isnull=True) | Q(survey__closes_at__gt=now))
        .select_related("survey__school")
        .order_by("-invited_at", "-pk")
    )


# ---- The staff's survey pages -----------------------------------------------------------------


def surveys_listed_for_staff(user) -> QuerySet[Survey]:
    """`surveys_for_staff`, newest first, each with how many families it invited and how many
    completed it (one query)."""
    from django.db.models import Count

    return (
        surveys_for_staff(user)
        .annotate(
            invited=Count("invitations"),
            completed=Count("invitations", filter=Q(invitations__status="completed")),
        )
        .order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class SurveyProgress:
    """Where a sent survey's invitations are."""

    invited: int  # families invited
    started: int  # answered something, not finished
    completed: int
    by_sms: int  # of the invited: answering by text
    waiting: int  # of those: behind another survey in progress on their number

    @property
    def not_started(self) -> int:
        return self.invited - self.started - self.completed

    @property
    def completed_percent(self) -> int:
        return round(100 * self.completed / self.invited) if self.invited else 0


def survey_progress(survey: Survey) -> SurveyProgress:
    """Its invitations counted by status and channel (one query)."""
    from django.db.models import Count

    counts = Invitation.objects.filter(survey=survey).aggregate(
        invited=Count("pk"),
        started=Count("pk", filter=Q(status=Invitation.Status.STARTED)),
        completed=Count("pk", filter=Q(status=Invitation.Status.COMPLETED)),
        by_sms=Count("pk", filter=Q(channel="sms")),
        waiting=Count("pk", filter=Q(is_waiting=True)),
    )
    return SurveyProgress(**counts)


def survey_delivery_counts(survey: Survey) -> dict[str, int]:
    """The survey's invitation texts and emails by delivery status (queued, sent, delivered,
    failed, skipped...), every status present; empty before it is sent."""
    counts = dict.fromkeys(Delivery.Status.values, 0)
    if survey.thread_id is None:
        return counts
    rows = (
        Delivery.objects.filter(
            message__thread_id=survey.thread_id,
            message__event=Message.Event.SURVEY_INVITATION,
        )
        .exclude(channel=Delivery.Channel.IN_APP)
        .values("status")
        .annotate(deliveries=Count("pk"))
        .order_by()
    )
    counts.update({row["status"]: row["deliveries"] for row in rows})
    return counts
