"""Sending a survey, taking its answers (by SMS and on the web), reminding, closing.

A sent survey has its own thread whose system messages are its texts to families: the invitation,
each SMS question, the hint that asks a question again, the thank-you and the reminder. The
delivery pipeline carries them like any message (consent, quiet hours, pacing, retries, status
callbacks); `surveys.delivery_texts` renders each one for its family, with the family's own link
and the question its conversation is on.

By SMS a number answers one survey at a time: an invitation to a number already in a survey's
conversation waits (`is_waiting`) and starts when that conversation ends (completed, or the
survey closed).
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.broadcasts import Audience, BroadcastError, broadcast_audience
from messaging.delivery import deliveries_dispatch, deliveries_write
from messaging.models import Delivery, Message, SmsConsent, Thread
from portal.models import Student
from surveys.models import Answer, Choice, Invitation, Question, Survey, respondent_key
from surveys.parsing import UNCLEAR, answer_read
from surveys.selectors import surveys_for_staff
from surveys.texts import DEFAULT_LANGUAGE, SMS_KINDS, numbers_list, sms_questions

logger = logging.getLogger(__name__)

EVENT = Message.Event
STATUS = Invitation.Status
MAX_TEXT_ANSWER_CHARS = 1000
IN_PROGRESS = (STATUS.INVITED, STATUS.STARTED)


class SurveyError(Exception):
    """Why a survey or an answer was refused, to show the person."""


@dataclass(frozen=True)
class SurveySent:
    by_sms: int  # families answering by text (their conversation started or waiting)
    on_web: int  # families sent their link
    waiting: int  # of by_sms: behind another survey in progress on their number
    unreachable: int  # in the audience, but no channel this survey takes


def _open_now(now: datetime.datetime) -> Q:
    """Surveys taking answers at `now` (prefix-free: for Survey querysets)."""
    return (
        Q(status=Survey.Status.OPEN)
        & (Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        & (Q(closes_at__isnull=True) | Q(closes_at__gt=now))
    )


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.prefetch_related("choices"))


# ---- Sending ----------------------------------------------------------------------------------


def survey_audience(*, actor, survey: Survey) -> Audience:
    """Who the survey would reach, as an announcement's audience; raises SurveyError when the
    actor may not write to it."""
    try:
        return broadcast_audience(
            actor=actor,
            school=survey.school,
            kind=survey.audience,
            sections=survey.sections.all(),
            grade=survey.grade,
            guardians=survey.guardians.all(),
        )
    except BroadcastError as error:
        raise SurveyError(str(error)) from error


def survey_problems(
    survey: Survey, questions: list[Question], *, now: datetime.datetime | None = None
) -> list[str]:
    """What keeps a survey from being sent, for the person building it."""
    now = now or timezone.now()
    problems = []
    if not getattr(survey, f"title_{DEFAULT_LANGUAGE}", ""):
        problems.append(_("Give the survey a title."))
    if not questions:
        problems.append(_("Add at least one question."))
    for question in questions:
        choices = len(question.choices.all())
        if question.kind in ("single_choice", "multiple_choice") and not 2 <= choices <= 9:
            problems.append(
                _("Question %(number)s needs 2 to 9 choices.") % {"number": question.position}
            )
    web_only = any(question.kind not in SMS_KINDS for question in questions)
    if survey.by_sms and not survey.on_web and web_only:
        problems.append(
            _("Several-choice questions are answered on the web only: offer the web too.")
        )
    if survey.closes_at and survey.closes_at <= now:
        problems.append(_("The closing time has passed."))
    return problems


def _conversations_in_progress() -> Q:
    """Invitations whose SMS conversation is under way (for Invitation querysets)."""
    return Q(
        channel="sms",
        status__in=IN_PROGRESS,
        is_waiting=False,
        current_question__isnull=False,
        survey__status=Survey.Status.OPEN,
    )


def _survey_messages(survey: Survey, thread: Thread, questions: list[Question]) -> None:
    """The survey's texts, one system message each, written once when it is sent."""
    rows = [
        Message(thread=thread, event=event, body=str(survey.pk), language=DEFAULT_LANGUAGE)
        for event in (EVENT.SURVEY_INVITATION, EVENT.SURVEY_THANKS, EVENT.SURVEY_REMINDER)
    ]
    for question in sms_questions(questions):
        rows += [
            Message(thread=thread, event=event, body=str(question.pk), language=DEFAULT_LANGUAGE)
            for event in (EVENT.SURVEY_QUESTION, EVENT.SURVEY_HINT)
        ]
    Message.objects.bulk_create(rows)


def _message(survey: Survey, event: str, question: Question | None = None) -> Message:
    body = str(question.pk) if question is not None else str(survey.pk)
    return Message.objects.select_related("thread__school").get(
        thread_id=survey.thread_id, event=event, body=body
    )


def _dispatch_on_commit(message_id: int, guardian_ids: Iterable[int] | None = None) -> None:
    from kombu.exceptions import OperationalError

    guardian_ids = list(guardian_ids) if guardian_ids is not None else None

    def hand_over() -> None:
        try:
            deliveries_dispatch(message_id=message_id, guardian_ids=guardian_ids)
        except OperationalError as error:  # the sweeper hands them over
            logger.warning("broker unavailable, the sweeper will send survey texts: %s", error)

    transaction.on_commit(hand_over)


def survey_send(*, actor, survey: Survey, now: datetime.datetime | None = None) -> SurveySent:
    """Opens a draft survey: one invitation per family of its audience, by SMS (a conversation,
    one question at a time) when the survey and the family take texts, else by its link (text,
    email); the invitation texts go through the delivery pipeline, held until `opens_at`."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = (
            surveys_for_staff(actor).select_for_update(of=("self",)).filter(pk=survey.pk).first()
        )
        if survey is None:
            raise SurveyError(_("You cannot send this survey."))
        if survey.status != Survey.Status.DRAFT:
            raise SurveyError(_("This survey was already sent."))
        questions = _questions(survey)
        problems = survey_problems(survey, questions, now=now)
        if problems:
            raise SurveyError(" ".join(problems))
        audience = survey_audience(actor=actor, survey=survey)
        guardians = list(audience.recipients.order_by("pk"))
        phones = [str(guardian.phone) for guardian in guardians if guardian.phone]
        refused = set(
            SmsConsent.objects.filter(school=survey.school, phone__in=phones)
            .filter(Q(is_opted_out=True) | Q(announcements_muted=True))
            .values_list("phone", flat=True)
        )
        busy = set(
            Invitation.objects.filter(_conversations_in_progress(), guardian__phone__in=phones)
            .values_list("guardian__phone", flat=True)
            .distinct()
        )
        asked = sms_questions(questions)
        by_sms, on_web, unreachable = [], [], 0
        for guardian in guardians:
            phone = str(guardian.phone) if guardian.phone else ""
            takes_texts = guardian.wants_sms and phone and phone not in refused
            if survey.by_sms and asked and takes_texts:
                by_sms.append(guardian)
            elif survey.on_web:
                on_web.append(guardian)
            else:
                unreachable += 1
        invitations, started = [], []
        for guardian in by_sms:
            phone = str(guardian.phone)
            waits = phone in busy
            busy.add(phone)  # a number two guardians share answers for one of them at a time
            invitations.append(
                Invitation(
                    survey=survey,
                    guardian=guardian,
                    channel="sms",
                    token=secrets.token_urlsafe(16),
                    is_waiting=waits,
                    current_question=None if waits else asked[0],
                )
            )
            if not waits:
                started.append(guardian)
        invitations += [
            Invitation(
                survey=survey, guardian=guardian, channel="web", token=secrets.token_urlsafe(16)
            )
            for guardian in on_web
        ]
        Invitation.objects.bulk_create(invitations, batch_size=1000)
        survey.thread = Thread.objects.create(
            school=survey.school,
            subject=survey.title[:200],
            kind=Thread.Kind.SURVEY,
            created_by=actor,
        )
        _survey_messages(survey, survey.thread, questions)
        invitation = _message(survey, EVENT.SURVEY_INVITATION)
        not_before = survey.opens_at if survey.opens_at and survey.opens_at > now else None
        deliveries_write(
            message=invitation,
            guardians=started,
            is_announcement=True,
            sms_only=True,
            not_before=not_before,
        )
        deliveries_write(
            message=invitation, guardians=on_web, is_announcement=True, not_before=not_before
        )
        survey.status, survey.sent_at = Survey.Status.OPEN, now
        survey.save(update_fields=["status", "sent_at", "thread"])
        languages = sorted({guardian.preferred_language for guardian in guardians})
        survey_id, message_id = survey.pk, invitation.pk
        transaction.on_commit(lambda: _translate_then_dispatch(survey_id, message_id, languages))
    return SurveySent(
        by_sms=len(by_sms),
        on_web=len(on_web),
        waiting=len(by_sms) - len(started),
        unreachable=unreachable + audience.unreachable_count,
    )


def _translate_then_dispatch(survey_id: int, message_id: int, languages: list[str]) -> None:
    from kombu.exceptions import OperationalError

    from surveys.tasks import survey_translate_and_dispatch_task

    try:
        survey_translate_and_dispatch_task.delay(survey_id, message_id, languages)
    except OperationalError as error:  # the sweeper sends the texts, untranslated if need be
        logger.warning("broker unavailable, the sweeper will send survey texts: %s", error)


def survey_translate_missing(*, survey_id: int, languages: list[str]) -> list[str]:
    """Has a machine write the survey's texts in the families' languages that have none yet
    (marked machine translated for families); the languages it filled."""
    from surveys.builder import survey_machine_translate
    from surveys.texts import language_is_ready

    survey = Survey.objects.get(pk=survey_id)
    questions = _questions(survey)
    missing = [
        language for language in languages if not language_is_ready(survey, language, questions)
    ]
    if not missing:
        return []
    return survey_machine_translate(survey=survey, languages=missing)


# ---- Answers ----------------------------------------------------------------------------------


def _respondent_grade(invitation: Invitation) -> str:
    """For an anonymous survey: the grade of the family's child at the school (the lowest when
    several), kept for breakdowns of five families or more."""
    grades = (
        Student.objects.filter(
            school_id=invitation.survey.school_id,
            guardian_links__guardian_id=invitation.guardian_id,
            guardian_links__is_active=True,
            is_active=True,
        )
        .order_by("grade")
        .values_list("grade", flat=True)
    )
    return next(iter(grades), "")


def answer_save(
    *,
    invitation: Invitation,
    question: Question,
    choices: Iterable[Choice] = (),
    value: str = "",
    text: str = "",
    is_skipped: bool = False,
    language: str,
    now: datetime.datetime | None = None,
) -> None:
    """Saves (or replaces) a family's answer to one question. An anonymous survey's answer keeps
    no link to the invitation: its respondent key, the day, and the child's grade."""
    now = now or timezone.now()
    survey = invitation.survey
    if question.survey_id != survey.pk:
        raise SurveyError(_("This question is not part of the survey."))
    if not Survey.objects.filter(_open_now(now), pk=survey.pk).exists():
        raise SurveyError(_("This survey is not taking answers."))
    choices = list(choices)
    text = text.strip()
    if len(text) > MAX_TEXT_ANSWER_CHARS:
        raise SurveyError(
            _("Please keep your answer under %(count)s characters.")
            % {"count": MAX_TEXT_ANSWER_CHARS}
        )
    if any(choice.question_id != question.pk for choice in choices):
        raise SurveyError(_("Choose one of the answers offered."))
    if question.kind == "single_choice" and len(choices) > 1:
        raise SurveyError(_("Choose one answer."))
    if question.kind == "scale" and value and value not in {"1", "2", "3", "4", "5"}:
        raise SurveyError(_("Choose a number from 1 to 5."))
    if question.kind == "yes_no" and value and value not in {"yes", "no"}:
        raise SurveyError(_("Choose yes or no."))
    if is_skipped and question.is_required:
        raise SurveyError(_("This question needs an answer."))
    if not (choices or value or text or is_skipped):
        raise SurveyError(_("Give an answer, or skip the question."))
    respondent = respondent_key(invitation.token)
    anonymous = survey.is_anonymous
    stamp = now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now
    common = {
        "question": question,
        "invitation": None if anonymous else invitation,
        "respondent": respondent,
        "language": language,
        "grade": _respondent_grade(invitation) if anonymous else "",
        "created_at": stamp,
    }
    rows = [Answer(choice=choice, **common) for choice in choices] or [
        Answer(value=value, text=text, is_skipped=is_skipped, **common)
    ]
    with transaction.atomic():
        # Read again under a lock: the family may have finished in another tab meanwhile.
        status = (
            Invitation.objects.select_for_update()
            .filter(pk=invitation.pk)
            .values_list("status", flat=True)
            .get()
        )
        if status == STATUS.COMPLETED:
            raise SurveyError(_("You already finished this survey. Thank you!"))
        Answer.objects.filter(question=question, respondent=respondent).delete()
        Answer.objects.bulk_create(rows)
        if status == STATUS.INVITED:
            invitation.status, invitation.started_at = STATUS.STARTED, now
            invitation.save(update_fields=["status", "started_at"])


def answers_of(invitation: Invitation) -> dict[int, list[Answer]]:
    """A family's answers so far, by question id (to resume where they left off)."""
    answers: dict[int, list[Answer]] = {}
    for answer in Answer.objects.filter(
        question__survey_id=invitation.survey_id, respondent=respondent_key(invitation.token)
    ).order_by("question_id", "choice__position"):
        answers.setdefault(answer.question_id, []).append(answer)
    return answers


def invitation_finish(*, invitation: Invitation, now: datetime.datetime | None = None) -> None:
    """A family finished on the web: every required question must have an answer."""
    now = now or timezone.now()
    questions = _questions(invitation.survey)
    answered = answers_of(invitation)
    missing = [q.position for q in questions if q.is_required and q.pk not in answered]
    if missing:
        raise SurveyError(
            ngettext(
                "Please answer question %(numbers)s first.",
                "Please answer questions %(numbers)s first.",
                len(missing),
            )
            % {"numbers": numbers_list(missing)}
        )
    with transaction.atomic():
        _complete(invitation, now)


def _complete(invitation: Invitation, now: datetime.datetime) -> None:
    """Records completion; an SMS conversation it ends lets the number's next survey start."""
    was_talking = invitation.current_question_id is not None and not invitation.is_waiting
    invitation.status, invitation.completed_at = STATUS.COMPLETED, now
    invitation.current_question = None
    if invitation.started_at is None:
        invitation.started_at = now
    invitation.save(update_fields=["status", "completed_at", "current_question", "started_at"])
    if was_talking and invitation.guardian.phone:
        conversations_resume(phones=[str(invitation.guardian.phone)])


def conversations_resume(*, phones: Iterable[str], now: datetime.datetime | None = None) -> int:
    """Starts the waiting SMS survey of each number that is in no conversation any more: its
    invitation text goes out (quiet hours and consent apply). Returns how many started."""
    now = now or timezone.now()
    phones = set(phones)
    busy = set(
        Invitation.objects.filter(_conversations_in_progress(), guardian__phone__in=phones)
        .values_list("guardian__phone", flat=True)
        .distinct()
    )
    waiting = (
        Invitation.objects.select_for_update(of=("self",))
        .filter(
            is_waiting=True,
            channel="sms",
            status__in=IN_PROGRESS,
            guardian__phone__in=phones - busy,
        )
        .filter(survey__in=Survey.objects.filter(_open_now(now)))
        .select_related("survey", "guardian")
        .order_by("invited_at", "pk")
    )
    started = 0
    for invitation in waiting:
        phone = str(invitation.guardian.phone)
        if phone in busy:
            continue
        busy.add(phone)
        asked = sms_questions(_questions(invitation.survey))
        invitation.is_waiting, invitation.current_question = False, asked[0]
        invitation.save(update_fields=["is_waiting", "current_question"])
        message = _message(invitation.survey, EVENT.SURVEY_INVITATION)
        deliveries_write(
            message=message, guardians=[invitation.guardian], is_announcement=True, sms_only=True
        )
        _dispatch_on_commit(message.pk, [invitation.guardian_id])
        started += 1
    return started


# ---- Closing and reminding --------------------------------------------------------------------


def _close(survey: Survey, now: datetime.datetime) -> None:
    survey.status, survey.closed_at = Survey.Status.CLOSED, now
    survey.save(update_fields=["status", "closed_at"])
    talking = Invitation.objects.filter(
        survey=survey, channel="sms", status__in=IN_PROGRESS, current_question__isnull=False
    )
    phones = set(talking.values_list("guardian__phone", flat=True))
    talking.update(current_question=None)
    Invitation.objects.filter(survey=survey, is_waiting=True).update(is_waiting=False)
    Delivery.objects.filter(
        message__thread_id=survey.thread_id, status__in=["queued", "deferred"]
    ).update(
        status=Delivery.Status.SKIPPED,
        error_code="survey-closed",
        error_reason="The survey closed before this text went.",
        updated_at=now,
    )
    conversations_resume(phones=[str(phone) for phone in phones if phone], now=now)


def survey_close(*, actor, survey: Survey, now: datetime.datetime | None = None) -> None:
    """Closes an open survey: no more answers; texts not sent yet are not sent; numbers in its
    conversation move on to their next waiting survey."""
    now = now or timezone.now()
    with transaction.atomic():
        survey = (
            surveys_for_staff(actor).select_for_update(of=("self",)).filter(pk=survey.pk).first()
        )
        if survey is None:
            raise SurveyError(_("You cannot close this survey."))
        if survey.status != Survey.Status.OPEN:
            raise SurveyError(_("Only an open survey can be closed."))
        _close(survey, now)


def surveys_close_due(*, now: datetime.datetime | None = None) -> int:
    """Closes the open surveys whose closing time has passed (the beat, every few minutes)."""
    now = now or timezone.now()
    closed = 0
    with transaction.atomic():
        due = Survey.objects.select_for_update(skip_locked=True).filter(
            status=Survey.Status.OPEN, closes_at__lte=now
        )
        for survey in due:
            _close(survey, now)
            closed += 1
    return closed


def survey_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """The one reminder, to families that have not finished `reminder_after_hours` after they
    were invited; through the pipeline, so quiet hours and opt-outs hold as for any text.
    Returns how many families it reminded."""
    now = now or timezone.now()
    reminded = 0
    surveys = Survey.objects.filter(_open_now(now), reminder_after_hours__isnull=False)
    for survey in surveys.select_related("school"):
        due_before = now - datetime.timedelta(hours=survey.reminder_after_hours)
        with transaction.atomic():
            invitations = list(
                Invitation.objects.select_for_update(skip_locked=True)
                .filter(
                    survey=survey,
                    status__in=IN_PROGRESS,
                    is_waiting=False,
                    reminded_at__isnull=True,
                    invited_at__lte=due_before,
                )
                .select_related("guardian")
            )
            if not invitations:
                continue
            message = _message(survey, EVENT.SURVEY_REMINDER)
            by_sms = [i.guardian for i in invitations if i.channel == "sms"]
            on_web = [i.guardian for i in invitations if i.channel == "web"]
            deliveries_write(message=message, guardians=by_sms, is_announcement=True, sms_only=True)
            deliveries_write(message=message, guardians=on_web, is_announcement=True)
            Invitation.objects.filter(pk__in=[i.pk for i in invitations]).update(reminded_at=now)
            _dispatch_on_commit(message.pk, [i.guardian_id for i in invitations])
            reminded += len(invitations)
    return reminded


# ---- The SMS conversation ---------------------------------------------------------------------


def conversation_for(*, phone: str, now: datetime.datetime | None = None) -> Invitation | None:
    """The survey conversation a number is in, if its current question went out (a text that
    arrives before the survey asked anything is no answer)."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.filter(_conversations_in_progress(), guardian__phone=phone)
        .filter(survey__in=Survey.objects.filter(_open_now(now)))
        .select_related("survey__school", "guardian", "current_question")
        .order_by("invited_at", "pk")
        .first()
    )
    if invitation is None:
        return None
    asked = Delivery.objects.filter(
        message__thread_id=invitation.survey.thread_id,
        guardian_id=invitation.guardian_id,
        channel=Delivery.Channel.SMS,
        status__in=["sending", "sent", "delivered", "undelivered"],
    ).exists()
    return invitation if asked else None


def sms_answer_take(*, invitation: Invitation, body: str, now: datetime.datetime | None = None):
    """Takes one text as the answer to the question the conversation is on: an answer that
    does not fit is asked again once with a hint, then kept as text; SKIP skips an optional
    question; then the next question, or the thank-you. Returns what happened."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("survey__school", "guardian", "current_question")
        .get(pk=invitation.pk)
    )
    survey, guardian = invitation.survey, invitation.guardian
    questions = _questions(survey)
    question = next(q for q in questions if q.pk == invitation.current_question_id)
    choices = list(question.choices.all())
    reading = answer_read(body, question_kind=question.kind, choices=len(choices))
    language = guardian.preferred_language
    if reading.kind == "skip" and question.is_required:
        reading = UNCLEAR
    if reading.kind == "unclear" and not invitation.asked_again:
        invitation.asked_again = True
        invitation.save(update_fields=["asked_again"])
        message = _message(survey, EVENT.SURVEY_HINT, question)
        deliveries_write(message=message, guardians=[guardian], sms_only=True)
        _dispatch_on_commit(message.pk, [guardian.pk])
        return "asked-again"
    if reading.kind == "skip":
        answer_save(
            invitation=invitation, question=question, is_skipped=True, language=language, now=now
        )
    elif reading.kind == "choice":
        choice = next(c for c in choices if c.position == int(reading.value))
        answer_save(
            invitation=invitation, question=question, choices=[choice], language=language, now=now
        )
    elif reading.kind in ("scale", "yes_no"):
        answer_save(
            invitation=invitation,
            question=question,
            value=reading.value,
            language=language,
            now=now,
        )
    else:  # a short text, or an answer that did not fit twice: kept as the family wrote it
        answer_save(
            invitation=invitation,
            question=question,
            text=body.strip()[:MAX_TEXT_ANSWER_CHARS] or "…",
            language=language,
            now=now,
        )
    invitation.refresh_from_db(fields=["status", "started_at"])
    answered = set(answers_of(invitation))
    asked = sms_questions(questions)
    later = asked[asked.index(question) + 1 :]
    following = next((q for q in later if q.pk not in answered), None)
    if following is None:
        message = _message(survey, EVENT.SURVEY_THANKS)
        deliveries_write(message=message, guardians=[guardian], sms_only=True)
        _dispatch_on_commit(message.pk, [guardian.pk])
        _complete(invitation, now)  # then the number's next survey, if one waits
        return "completed"
    invitation.current_question, invitation.asked_again = following, False
    invitation.save(update_fields=["current_question", "asked_again"])
    message = _message(survey, EVENT.SURVEY_QUESTION, following)
    deliveries_write(message=message, guardians=[guardian], sms_only=True)
    _dispatch_on_commit(message.pk, [guardian.pk])
    return "next-question"
