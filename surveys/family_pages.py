"""What a family's survey page shows: the survey's texts in a language, each marked when a
machine wrote it or when it is not yet in that language; its questions in order with the
family's answers so far; where to resume; and whether the survey takes answers at all.

Reads only, for surveys.family_views (the family's link and the staff's preview alike), in a
constant number of queries whatever the number of questions and answers.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from modeltranslation.utils import build_localized_fieldname

from surveys.models import Answer, Choice, Invitation, Question, Survey
from surveys.texts import DEFAULT_LANGUAGE

CHOICE_KINDS = ("single_choice", "multiple_choice")
ONE_ANSWER_KINDS = ("single_choice", "scale", "yes_no")  # radio buttons


def interface_language(language: str) -> str:
    """The language of the page's own words: the family's when the portal speaks it (Somali has
    no interface catalog yet), else the default."""
    spoken = {code for code, _name in settings.LANGUAGES}
    return language if language in spoken else settings.LANGUAGE_CODE


class State:
    """Whether a family's link takes answers now, and if not, why."""

    OPEN = "open"
    COMPLETED = "completed"  # the family finished: the thank-you
    NOT_OPEN_YET = "not_open_yet"  # sent, but `opens_at` is still ahead
    CLOSED = "closed"
    BY_TEXT_ONLY = "by_text_only"  # the survey is not offered on the web


@dataclass(frozen=True)
class SurveyText:
    """One text of a survey as a family reads it (the shape templates/supports/_marks.html
    reads)."""

    text: str
    language: str  # the language it is written in
    is_machine: bool = False  # a machine translated it, and no person has written it since
    is_fallback: bool = False  # not yet in the reader's language: the default language's
    original: str = ""  # of a machine translation: the default language's text

    @property
    def fallback_only(self) -> SurveyText:
        """Marked only when not yet in the reader's language: a page says "machine translated"
        once, by its title, since a machine writes every text of a language or none."""
        return replace(self, is_machine=False)


@dataclass(frozen=True)
class Option:
    """One radio button or checkbox of a question."""

    value: str  # what the form sends: a choice's id, "1".."5", "yes" or "no"
    label: SurveyText


@dataclass(frozen=True)
class QuestionOnPage:
    question: Question
    number: int  # 1, 2, 3... in order
    text: SurveyText
    options: list[Option]  # empty for a short text
    answers: list[Answer]  # the family's, so far
    url: str = ""  # this question's screen
    selected: frozenset[str] = frozenset()  # option values shown ticked
    typed: str = ""  # a short text shown in its box
    errors: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def prefix(self) -> str:
        """Of its form fields: `q2-answer`."""
        return f"q{self.number}"

    @property
    def is_answered(self) -> bool:
        return bool(self.answers)

    @property
    def is_skipped(self) -> bool:
        return any(answer.is_skipped for answer in self.answers)

    @property
    def takes_one_answer(self) -> bool:
        return self.question.kind in ONE_ANSWER_KINDS

    @property
    def has_fallback_text(self) -> bool:
        """Its text or one of its options is not yet in the reader's language."""
        return self.text.is_fallback or any(option.label.is_fallback for option in self.options)

    @property
    def mark(self) -> SurveyText:
        """What templates/supports/_marks.html marks the question with: not yet in the reader's
        language when its text or one of its options is not (machine translation is marked
        once, by the survey's title)."""
        return replace(self.text.fallback_only, is_fallback=self.has_fallback_text)

    @property
    def answer_summary(self) -> str:
        """The family's answer in words, for the page where they check before finishing."""
        if self.is_skipped:
            return gettext("Skipped")
        if self.typed:
            return self.typed
        return ", ".join(
            option.label.text for option in self.options if option.value in self.selected
        )

    def showing(self, *, selected: set[str], typed: str, errors: list[str]) -> QuestionOnPage:
        """The same question showing what the family just sent, with why it was refused."""
        return replace(self, selected=frozenset(selected), typed=typed, errors=tuple(errors))


@dataclass
class SurveyPage:
    survey: Survey
    language: str  # of the survey's texts, as the family reads them
    title: SurveyText
    introduction: SurveyText
    thank_you: SurveyText
    questions: list[QuestionOnPage] = field(default_factory=list)

    @property
    def default_language(self) -> str:
        """Of the originals that machine translations come from."""
        return DEFAULT_LANGUAGE

    @property
    def total(self) -> int:
        return len(self.questions)

    @property
    def answered(self) -> int:
        return sum(1 for question in self.questions if question.is_answered)

    def question(self, number: int) -> QuestionOnPage | None:
        return self.questions[number - 1] if 1 <= number <= len(self.questions) else None

    def resume_number(self) -> int | None:
        """The first question without an answer: where a family that comes back starts."""
        return next((q.number for q in self.questions if not q.is_answered), None)

    @property
    def unanswered_required(self) -> list[QuestionOnPage]:
        return [q for q in self.questions if q.question.is_required and not q.is_answered]

    def with_question(self, shown: QuestionOnPage) -> SurveyPage:
        questions = [shown if q.number == shown.number else q for q in self.questions]
        return replace(self, questions=questions)


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation of a link, with its survey and school; None for a token nobody holds."""
    if not token or len(token) > Invitation._meta.get_field("token").max_length:
        return None
    return (
        Invitation.objects.select_related("survey__school", "guardian").filter(token=token).first()
    )


def answering_state(invitation: Invitation, *, now: datetime.datetime | None = None) -> str:
    """Whether the link takes answers at `now`; a family that finished reads its thank-you even
    after the survey closed."""
    now = now or timezone.now()
    survey = invitation.survey
    if invitation.status == Invitation.Status.COMPLETED:
        return State.COMPLETED
    if survey.status == Survey.Status.CLOSED or (survey.closes_at and survey.closes_at <= now):
        return State.CLOSED
    if survey.status == Survey.Status.DRAFT or (survey.opens_at and survey.opens_at > now):
        return State.NOT_OPEN_YET
    if not survey.on_web:
        return State.BY_TEXT_ONLY
    return State.OPEN


def survey_text(obj: Survey | Question | Choice, name: str, *, language: str, survey: Survey):
    """A text in `language`, else the default language's, marked."""
    own = getattr(obj, build_localized_fieldname(name, language), "") or ""
    original = getattr(obj, build_localized_fieldname(name, DEFAULT_LANGUAGE), "") or ""
    if own or language == DEFAULT_LANGUAGE:
        is_machine = language != DEFAULT_LANGUAGE and language in (survey.machine_languages or [])
        return SurveyText(
            own, language, is_machine=is_machine, original=original if is_machine else ""
        )
    return SurveyText(original, DEFAULT_LANGUAGE, is_fallback=bool(original))


def _options(question: Question, *, language: str, survey: Survey) -> list[Option]:
    """In the active interface language for the words the portal writes itself (yes, no)."""
    words_language = interface_language(language)
    if question.kind in CHOICE_KINDS:
        return [
            Option(str(choice.pk), survey_text(choice, "text", language=language, survey=survey))
            for choice in question.choices.all()
        ]
    if question.kind == "scale":
        return [
            Option(str(number), SurveyText(str(number), words_language)) for number in range(1, 6)
        ]
    if question.kind == "yes_no":
        return [
            Option("yes", SurveyText(gettext("Yes"), words_language)),
            Option("no", SurveyText(gettext("No"), words_language)),
        ]
    return []


def _shown_answer(question: Question, answers: list[Answer]) -> tuple[frozenset[str], str]:
    """What the family answered, as the form shows it: ticked options, typed text."""
    if question.kind in CHOICE_KINDS:
        ticked = {str(answer.choice_id) for answer in answers if answer.choice_id}
        return frozenset(ticked), ""
    if question.kind in ("scale", "yes_no"):
        return frozenset(answer.value for answer in answers if answer.value), ""
    return frozenset(), next((answer.text for answer in answers if answer.text), "")


def survey_page(
    survey: Survey,
    *,
    language: str,
    answers: dict[int, list[Answer]],
    url_for: Callable[[str], str],
) -> SurveyPage:
    """The survey in `language` with the family's answers (`surveys.services.answers_of`;
    empty for a preview); `url_for(screen)` is the address of a screen ("1", "2"... "finish"),
    the family's or the preview's. Two queries: the questions and their choices."""
    questions = []
    for number, question in enumerate(survey.questions.prefetch_related("choices"), start=1):
        given = answers.get(question.pk, [])
        selected, typed = _shown_answer(question, given)
        questions.append(
            QuestionOnPage(
                question=question,
                number=number,
                text=survey_text(question, "text", language=language, survey=survey),
                options=_options(question, language=language, survey=survey),
                answers=given,
                url=url_for(str(number)),
                selected=selected,
                typed=typed,
            )
        )
    return SurveyPage(
        survey=survey,
        language=language,
        title=survey_text(survey, "title", language=language, survey=survey),
        introduction=survey_text(survey, "introduction", language=language, survey=survey),
        thank_you=survey_text(survey, "thank_you", language=language, survey=survey),
        questions=questions,
    )
