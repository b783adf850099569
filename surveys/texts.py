"""What a family reads of a survey, in its language: the texts of its SMS conversation (one
question at a time, "Reply 1, 2 or 3"), and the survey's own words in a language.

Every function here renders in the active language (the caller wraps it in
`translation.override`); the survey's texts come from its translated fields, and a language with
no text yet falls back to the survey's default language, which `language_is_ready` tells.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext
from modeltranslation.utils import build_localized_fieldname

from messaging.channels.segments import sms_segments
from surveys.models import Choice, Invitation, Question, Survey

DEFAULT_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
SMS_KINDS = ("single_choice", "scale", "yes_no", "short_text")  # several choices: web only
FAMILY_FIELDS = {Survey: ("title", "introduction", "thank_you"), Question: ("text",)}


def text_in(obj: Survey | Question | Choice, field: str, language: str) -> str:
    """One of the survey's texts in a language, else in its default language."""
    written = getattr(obj, build_localized_fieldname(field, language), "") or ""
    return written or getattr(obj, build_localized_fieldname(field, DEFAULT_LANGUAGE), "") or ""


def language_is_ready(survey: Survey, language: str, questions: list[Question]) -> bool:
    """Every text the default language has, this language has too (questions with choices
    prefetched)."""
    if language == DEFAULT_LANGUAGE:
        return True

    def missing(obj, field: str) -> bool:
        default = getattr(obj, build_localized_fieldname(field, DEFAULT_LANGUAGE), "")
        return bool(default) and not getattr(obj, build_localized_fieldname(field, language), "")

    objects = [(survey, field) for field in FAMILY_FIELDS[Survey]]
    for question in questions:
        objects.append((question, "text"))
        objects += [(choice, "text") for choice in question.choices.all()]
    return not any(missing(obj, field) for obj, field in objects)


def sms_questions(questions: list[Question]) -> list[Question]:
    """The questions an SMS conversation asks, in order (several-choice ones are web only)."""
    return [question for question in questions if question.kind in SMS_KINDS]


def survey_link(invitation: Invitation) -> str:
    return settings.PUBLIC_BASE_URL + reverse("surveys:answer", args=[invitation.token])


def numbers_list(numbers: list[int]) -> str:
    """ "1, 2 or 3" in the active language (its own comma and "or")."""
    digits = [str(number) for number in numbers]
    if len(digits) == 1:
        return digits[0]
    separator = pgettext("between the numbers of a list", ", ")
    return gettext("%(first)s or %(last)s") % {
        "first": separator.join(digits[:-1]),
        "last": digits[-1],
    }


def reply_prompt(question: Question, language: str) -> str:
    """How to answer this question by text."""
    if question.kind == "single_choice":
        choices = list(question.choices.all())
        lines = [f"{choice.position} {text_in(choice, 'text', language)}" for choice in choices]
        prompt = gettext("Reply %(numbers)s.") % {
            "numbers": numbers_list(list(range(1, len(choices) + 1)))
        }
        text = "\n".join([*lines, prompt])
    elif question.kind == "scale":
        text = gettext("Reply a number from 1 (least) to 5 (most).")
    elif question.kind == "yes_no":
        text = gettext("Reply 1 for yes or 2 for no.")
    else:
        text = gettext("Reply in a few words.")
    if not question.is_required:
        text += " " + gettext("Reply SKIP to skip this question.")
    return text


def question_text(question: Question, *, number: int, total: int, language: str) -> str:
    """ "2/3 Which day suits you?\n1 Monday\n2 Tuesday\nReply 1 or 2." """
    return f"{number}/{total} {text_in(question, 'text', language)}\n" + reply_prompt(
        question, language
    )


def heading(survey: Survey, language: str) -> str:
    """ "North Elementary: Conference week", in a language."""
    return f"{survey.school.name}: {text_in(survey, 'title', language)}"


def invitation_text(
    survey: Survey, questions: list[Question], *, invitation: Invitation | None, language: str
) -> str:
    """The first text: what the survey is, then (by SMS) its first question, or (on the web)
    the family's own link. `invitation` None renders a preview link."""
    # A preview's link is as long as a real one, so that its SMS parts are counted right.
    link = survey_link(invitation) if invitation else f"{settings.PUBLIC_BASE_URL}/s/{'X' * 22}/"
    parts = [heading(survey, language)]
    introduction = text_in(survey, "introduction", language)
    if introduction:
        parts.append(introduction)
    if survey.is_anonymous:
        parts.append(gettext("Your answers are anonymous: the school sees them without your name."))
    asked = sms_questions(questions)
    by_sms = (invitation is None and survey.by_sms) or (invitation and invitation.channel == "sms")
    if by_sms and asked:
        count = ngettext(
            "%(count)d question by text.", "%(count)d questions by text.", len(asked)
        ) % {"count": len(asked)}
        if survey.on_web:
            count += " " + gettext("Or answer on the web: %(link)s") % {"link": link}
        parts.append(count)
        parts.append(question_text(asked[0], number=1, total=len(asked), language=language))
    else:
        parts.append(gettext("Answer here: %(link)s") % {"link": link})
    return "\n".join(parts)


def hint_text(question: Question, *, number: int, total: int, language: str) -> str:
    """An answer did not fit: the question again, once, with how to answer it."""
    return (
        gettext("Sorry, we did not understand that answer.")
        + " "
        + question_text(question, number=number, total=total, language=language)
    )


def thanks_text(survey: Survey, language: str) -> str:
    thanks = text_in(survey, "thank_you", language) or gettext("Thank you for your answers.")
    return f"{survey.school.name}: {thanks}"


def reminder_text(
    survey: Survey, questions: list[Question], *, invitation: Invitation, language: str
) -> str:
    """One reminder: by SMS the question the family is on; on the web its link."""
    reminder = gettext("Reminder: %(survey)s") % {"survey": heading(survey, language)}
    asked = sms_questions(questions)
    current = invitation.current_question_id
    if invitation.channel == "sms" and current is not None:
        numbers = {question.pk: number for number, question in enumerate(asked, start=1)}
        question = next(question for question in asked if question.pk == current)
        return (
            reminder
            + "\n"
            + question_text(question, number=numbers[current], total=len(asked), language=language)
        )
    return reminder + "\n" + gettext("Answer here: %(link)s") % {"link": survey_link(invitation)}


@dataclass(frozen=True)
class Turn:
    """One text of an SMS conversation preview."""

    speaker: str  # "school" or "family"
    text: str
    segments: int  # SMS parts it costs


def _example_answer(question: Question) -> str:
    return {"single_choice": "1", "scale": "4", "yes_no": "1"}.get(question.kind, "…")


def sms_conversation_preview(survey: Survey, *, language: str) -> list[Turn]:
    """The conversation a family has with the survey by SMS, in a language: the invitation and
    first question, an example answer to each question, the next question, the thank-you. An
    answer that does not fit is shown once, with the hint that follows it."""
    questions = list(survey.questions.prefetch_related("choices"))
    asked = sms_questions(questions)
    turns: list[tuple[str, str]] = []
    with translation.override(language):
        turns.append(
            ("school", invitation_text(survey, questions, invitation=None, language=language))
        )
        for number, question in enumerate(asked, start=1):
            if number > 1:
                turns.append(
                    (
                        "school",
                        question_text(question, number=number, total=len(asked), language=language),
                    )
                )
            if number == 1 and question.kind != "short_text":
                turns.append(("family", "?!"))
                turns.append(
                    ("school", hint_text(question, number=1, total=len(asked), language=language))
                )
            turns.append(("family", _example_answer(question)))
        turns.append(("school", thanks_text(survey, language)))
    return [
        Turn(speaker=speaker, text=text, segments=sms_segments(text).count)
        for speaker, text in turns
    ]
