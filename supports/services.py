"""Writes of the support directory and help requests. Every page, API call, task and command goes
through these; each checks who may do it and runs in one transaction."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Case, Q, QuerySet, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.models import Message, Participant, Thread
from messaging.services import MessagingError, _body_check, _event, _write
from portal import permissions
from portal.models import Guardian, School, Staff, Student
from supports.models import DEFAULT_LANGUAGE, HelpRequest, Spotlight, SupportService

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
    """The requests of the services a counselor answers: new first, then assigned, then closed,
    oldest first within each (pages that list closed ones alone show the newest first)."""
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


# ---- The counselors' workspace: their services and their translations --------------------------


# What a counselor sets on a service besides where it runs, who answers, and its texts.
SERVICE_DETAILS = (
    "category",
    "languages",
    "contact_name",
    "phone",
    "email",
    "address",
    "map_url",
    "starts_on",
    "ends_on",
)


def column(field: str, language: str) -> str:
    """The column holding one text in one language: ("title", "zh-hans") -> "title_zh_hans"."""
    from modeltranslation.utils import build_localized_fieldname

    return build_localized_fieldname(field, language)


def translation_languages() -> list[str]:
    """The family languages a service's texts are translated into (all but the default)."""
    from portal.languages import family_language_codes

    return [code for code in family_language_codes() if code != DEFAULT_LANGUAGE]


def workspace_schools(user) -> list[int]:
    """The schools whose services this person keeps: where they counsel or administer."""
    access = permissions.access_for(user)
    if not access.staff_id:
        return []
    return access.schools_with(ROLE.COUNSELOR, ROLE.ADMIN)


def services_managed_by(user) -> QuerySet[SupportService]:
    """The services a counselor or school admin sees and edits: those of their schools, and the
    district-wide ones of those schools' districts, drafts included."""
    schools = workspace_schools(user)
    if not schools:
        return SupportService.objects.none()
    districts = School.objects.filter(pk__in=schools).values("district_id")
    return SupportService.objects.filter(Q(school__in=schools) | Q(district__in=districts))


def places_for(user) -> tuple[list[School], list]:
    """Where this person may run a service: their schools, and their schools' districts."""
    from portal.models import District

    schools = list(School.objects.filter(pk__in=workspace_schools(user)).order_by("name"))
    districts = list(
        District.objects.filter(pk__in={school.district_id for school in schools}).order_by("pk")
    )
    return schools, districts


def answerers_for(*, school: School | None = None, district=None) -> QuerySet[Staff]:
    """Who may answer a service's help requests: the counselors and admins of its school, or of
    any school of its district."""
    schools = (
        School.objects.filter(pk=school.pk)
        if school is not None
        else School.objects.filter(district=district, is_active=True)
    )
    return (
        Staff.objects.filter(
            is_active=True,
            memberships__school__in=schools,
            memberships__role__in=[ROLE.COUNSELOR, ROLE.ADMIN],
            memberships__is_active=True,
        )
        .distinct()
        .order_by("family_name", "given_name")
    )


def counselors_by_service(service_ids) -> dict[int, list[Staff]]:
    """`counselors_of` for many services at once, in two queries (for the requests queue)."""
    from django.db.models import Prefetch

    services = SupportService.objects.filter(pk__in=set(service_ids)).select_related("owner")
    services = services.prefetch_related(
        Prefetch("counselors", queryset=Staff.objects.filter(is_active=True))
    )
    found = {}
    for service in services:
        people = {person.pk: person for person in service.counselors.all()}
        if service.owner_id and service.owner.is_active:
            people[service.owner_id] = service.owner
        found[service.pk] = sorted(
            people.values(), key=lambda person: (person.family_name, person.given_name)
        )
    return found


def _keeper(actor, service: SupportService | None = None) -> Staff:
    """The staff member acting, when they may keep this service (or create one)."""
    if not workspace_schools(actor):
        raise SupportError(_("Only counselors and school admins keep support services."))
    if service is not None and not services_managed_by(actor).filter(pk=service.pk).exists():
        raise SupportError(_("This service is not one of your schools'."))
    return Staff.objects.get(pk=permissions.access_for(actor).staff_id)


def _save_in_default_language(service: SupportService, **options) -> None:
    """modeltranslation writes the untranslated column from the active language; keep English
    there whatever language the counselor's pages are in."""
    from django.utils import translation

    with translation.override(DEFAULT_LANGUAGE):
        service.save(**options)


def _blank(value) -> bool:
    return value is None or value == ""


@transaction.atomic
def service_save(
    *,
    actor,
    service: SupportService | None,
    details: dict,
    texts: dict[str, str | None],
    school: School | None,
    district,
    counselors: list[Staff],
) -> SupportService:
    """Creates a service (kept by the actor, as a draft) or changes one. `details` holds
    SERVICE_DETAILS, `texts` family texts by column (`title_en`, `summary_es`...). A person
    changing a text that was accepted from a machine takes the machine mark off that text."""
    keeper = _keeper(actor, service)
    if (school is None) == (district is None):
        raise SupportError(_("Choose one school or one district."))
    schools, districts = places_for(actor)
    if school is not None and school.pk not in {place.pk for place in schools}:
        raise SupportError(_("Choose one of your schools."))
    if district is not None and district.pk not in {place.pk for place in districts}:
        raise SupportError(_("Choose one of your districts."))
    allowed = set(answerers_for(school=school, district=district).values_list("pk", flat=True))
    if any(person.pk not in allowed for person in counselors):
        raise SupportError(_("Only counselors and admins of the service's school can answer it."))
    columns = {
        column(field, language)
        for field in SupportService.TRANSLATED_FIELDS
        for language in [DEFAULT_LANGUAGE, *translation_languages()]
    }
    if set(details) - set(SERVICE_DETAILS) or set(texts) - columns:
        raise ValueError(f"not a service's details or texts: {set(details) | set(texts)}")
    for field in ("title", "summary"):
        name = column(field, DEFAULT_LANGUAGE)
        if _blank(texts.get(name, getattr(service, name) if service else None)):
            raise SupportError(_("Give the service a title and a summary."))

    if service is None:
        service = SupportService(owner=keeper)
    else:
        service = SupportService.objects.select_for_update().get(pk=service.pk)
    marks = {language: set(fields) for language, fields in service.machine_translated.items()}
    for language, fields in marks.items():
        for field in list(fields):
            name = column(field, language)
            if name in texts and (texts[name] or "") != (getattr(service, name) or ""):
                fields.discard(field)  # a person rewrote it
    for name, value in {**details, **texts}.items():
        setattr(service, name, value)
    service.school, service.district = school, district
    service.machine_translated = {
        language: sorted(fields) for language, fields in marks.items() if fields
    }
    _save_in_default_language(service)
    service.counselors.set(counselors)
    return service


@transaction.atomic
def service_publish(*, actor, service: SupportService) -> SupportService:
    """Families of its schools find the service (while today is within its dates)."""
    _keeper(actor, service)
    service = SupportService.objects.select_for_update().get(pk=service.pk)
    if not counselors_of(service):
        raise SupportError(_("Choose who answers its help requests before publishing."))
    service.status, service.published_at = SupportService.Status.PUBLISHED, timezone.now()
    _save_in_default_language(service, update_fields=["status", "published_at", "updated_at"])
    return service


@transaction.atomic
def service_unpublish(*, actor, service: SupportService) -> SupportService:
    """Families no longer find the service; its open help requests carry on."""
    _keeper(actor, service)
    service = SupportService.objects.select_for_update().get(pk=service.pk)
    service.status, service.published_at = SupportService.Status.DRAFT, None
    _save_in_default_language(service, update_fields=["status", "published_at", "updated_at"])
    return service


@transaction.atomic
def translation_suggest(*, actor, service: SupportService, language: str):
    """Asks the translation provider, through a task (queue translation), for the service's
    English texts in `language`; the answer waits as a suggestion until a person accepts it.
    Asking again replaces the earlier suggestion."""
    import logging

    from supports.models import ServiceTranslationSuggestion

    _keeper(actor, service)
    if language not in translation_languages():
        raise SupportError(_("Choose one of the families' languages."))
    service = SupportService.objects.get(pk=service.pk)
    sources = {
        field: getattr(service, column(field, DEFAULT_LANGUAGE))
        for field in SupportService.TRANSLATED_FIELDS
        if not _blank(getattr(service, column(field, DEFAULT_LANGUAGE)))
    }
    suggestion, _created = ServiceTranslationSuggestion.objects.update_or_create(
        service=service,
        language=language,
        defaults={
            "status": ServiceTranslationSuggestion.Status.ASKED,
            "source_texts": sources,
            "texts": {},
            "asked_at": timezone.now(),
            "made_at": None,
        },
    )

    def hand_over():
        from kombu.exceptions import OperationalError

        from supports.tasks import translation_suggest_task

        try:
            # queue translation, with the messages' translations (a slow provider waits there)
            translation_suggest_task.apply_async([suggestion.pk], queue="translation")
        except OperationalError as error:  # the page offers to ask again
            logging.getLogger(__name__).warning("broker unavailable, no suggestion: %s", error)

    transaction.on_commit(hand_over)
    return suggestion


def translation_make(*, suggestion_id: int) -> None:
    """Runs in the translation task: the provider's suggestion for a service, or "not available
    in this language" when it translates nothing. Raises TranslationUnavailable for the task to
    retry."""
    from messaging.translation_suggestions import suggestion_make
    from supports.models import ServiceTranslationSuggestion

    suggestion_make(
        suggestions=ServiceTranslationSuggestion,
        suggestion_id=suggestion_id,
        source=DEFAULT_LANGUAGE,
        untranslated=ServiceTranslationSuggestion.Status.UNAVAILABLE,
    )


@transaction.atomic
def translation_accept(*, actor, suggestion) -> SupportService:
    """Copies a ready suggestion into the service's texts in its language and marks them machine
    translated, so families are told. A text a person wrote in that language stays as it is."""
    from supports.models import ServiceTranslationSuggestion

    _keeper(actor, suggestion.service)
    suggestion = ServiceTranslationSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != ServiceTranslationSuggestion.Status.READY:
        raise SupportError(_("This suggestion is not ready yet."))
    service = SupportService.objects.select_for_update().get(pk=suggestion.service_id)
    language = suggestion.language
    marked = set(service.machine_translated.get(language, []))
    for field, text in suggestion.texts.items():
        name = column(field, language)
        if field in SupportService.TRANSLATED_FIELDS and (
            _blank(getattr(service, name)) or field in marked
        ):
            setattr(service, name, text)
            marked.add(field)
    if marked:
        service.machine_translated = {**service.machine_translated, language: sorted(marked)}
    _save_in_default_language(service)
    suggestion.delete()
    return service


@transaction.atomic
def translation_discard(*, actor, suggestion) -> None:
    """Throws a suggestion away; the service's texts are untouched."""
    _keeper(actor, suggestion.service)
    type(suggestion).objects.filter(pk=suggestion.pk).delete()


# ---- Spotlights -------------------------------------------------------------------------------


@transaction.atomic
def service_spotlight(
    *,
    actor,
    service: SupportService,
    school: School,
    kind: str,
    sections=(),
    grade: str = "",
    scheduled_at=None,
    shows_until: datetime.date,
) -> Spotlight:
    """Puts a published service in the spotlight: an announcement about it (its title, summary
    and the link to its page) to the audience chosen, through the messaging broadcast with all
    its rules (who the sender may reach, the daily limit, scheduling), and the service on the
    home page of the families of its schools until `shows_until`."""
    from django.conf import settings

    from messaging.broadcasts import broadcast_create

    staff = _keeper(actor, service)
    if service.status != SupportService.Status.PUBLISHED:
        raise SupportError(_("Publish the service before you put it in the spotlight."))
    if not services_for_schools(School.objects.filter(pk=school.pk)).filter(pk=service.pk):
        raise SupportError(_("This service is not offered at that school."))
    if shows_until < timezone.localdate():
        raise SupportError(_("Choose a last day from today on."))
    title = getattr(service, column("title", DEFAULT_LANGUAGE))
    summary = getattr(service, column("summary", DEFAULT_LANGUAGE))
    link = settings.PUBLIC_BASE_URL + reverse("supports:service", args=[service.pk])
    broadcast = broadcast_create(
        actor=actor,
        school=school,
        subject=title,
        body=f"{title}: {summary}\n{link}",
        kind=kind,
        sections=sections,
        grade=grade,
        scheduled_at=scheduled_at,
    )
    return Spotlight.objects.create(
        service=service, broadcast=broadcast, created_by=staff, shows_until=shows_until
    )


def spotlights_for_family(user, *, today=None) -> list[SupportService]:
    """The services in the spotlight for a family today: live, offered at their children's
    schools, their announcement sent, still within their days; each once, newest first."""
    today = today or timezone.localdate()
    current = Spotlight.objects.filter(shows_until__gte=today, broadcast__status="sent").order_by(
        "-broadcast__sent_at"
    )
    services = services_for_family(user, today=today).filter(pk__in=current.values("service_id"))
    return list(services.order_by("-spotlights__broadcast__sent_at").distinct()[:3])
