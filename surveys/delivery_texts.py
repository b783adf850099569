"""How the delivery pipeline renders a survey's texts (messaging.delivery.event_texts): for the
family of one delivery, in its language, with its own link and the question it is on."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils.translation import gettext

from messaging.models import Delivery, Message
from messaging.translation import translation_provider
from surveys.models import Invitation, Survey
from surveys.texts import (
    heading,
    hint_text,
    invitation_text,
    language_is_ready,
    question_text,
    reminder_text,
    sms_questions,
    thanks_text,
)

EVENT = Message.Event


def survey_delivery_text(delivery: Delivery, now: datetime.datetime) -> str | None:
    """The text of one survey delivery (the caller has the family's language active); None
    while the survey's translation into that language is still due."""
    message = delivery.message
    survey = Survey.objects.select_related("school").get(thread_id=message.thread_id)
    language = delivery.guardian.preferred_language
    questions = list(survey.questions.prefetch_related("choices"))
    note = ""
    if not language_is_ready(survey, language, questions):
        if translation_provider().name == "none":
            note = gettext("(No translation; this is the original.)") + "\n"
        elif (now - survey.sent_at).total_seconds() < settings.TRANSLATION_WAIT_SECONDS:
            return None
        else:
            note = gettext("(Not translated yet; the original follows.)") + "\n"
    invitation = Invitation.objects.get(survey=survey, guardian_id=delivery.guardian_id)
    if message.event == EVENT.SURVEY_INVITATION:
        text = invitation_text(survey, questions, invitation=invitation, language=language)
    elif message.event in (EVENT.SURVEY_QUESTION, EVENT.SURVEY_HINT):
        asked = sms_questions(questions)
        question = next(question for question in asked if str(question.pk) == message.body)
        render = question_text if message.event == EVENT.SURVEY_QUESTION else hint_text
        text = render(
            question, number=asked.index(question) + 1, total=len(asked), language=language
        )
    elif message.event == EVENT.SURVEY_THANKS:
        text = thanks_text(survey, language)
    else:
        text = reminder_text(survey, questions, invitation=invitation, language=language)
    return note + text


def survey_email_subject(delivery: Delivery) -> str:
    """An invitation's or reminder's subject: the school and the survey's title, in the family's
    language (the caller has it active)."""
    survey = Survey.objects.select_related("school").get(thread_id=delivery.message.thread_id)
    subject = heading(survey, delivery.guardian.preferred_language)
    if delivery.message.event == EVENT.SURVEY_REMINDER:
        return gettext("Reminder: %(survey)s") % {"survey": subject}
    return subject
