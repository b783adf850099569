"""Building a survey, before it is sent: its details and audience, its questions and choices, and
its texts in every family language (written by a person, or suggested by a machine and accepted).

Each write checks who may do it (the survey's creator, the school's admins: `surveys_for_staff`)
and that the survey is still a draft (translations may be mended while it is open), raises
SurveyError with a message for the person, and runs in one transaction. The machine translation
provider is asked outside any transaction: for a suggestion by a task
(`survey_translation_suggest_task`), for the languages still untranslated when a survey is sent
by `survey_machine_translate`.

A survey's texts are keyed the same way everywhere (the translations page, suggestions):
"title", "introduction", "thank_you", "question-<id>" and "choice-<id>".
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from messaging.models import Broadcast
from portal import permissions
from portal.languages import family_language_codes
from portal.models import Guardian, School, Section, Staff
from surveys.models import Choice, Question, Survey, SurveyTranslationSuggestion
from surveys.selectors import surveys_for_staff
from surveys.services import SurveyError

logger = logging.getLogger(__name__)

DEFAULT_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
AUDIENCE = Broadcast.Audience
KIND = Question.Kind
SURVEY_TEXTS = ("title", "introduction", "thank_you")
CHOICE_KINDS = (KIND.SINGLE_CHOICE, KIND.MULTIPLE_CHOICE)
CHOICES_MIN, CHOICES_MAX = 2, 9  # by SMS a family answers a choice with one digit
REMINDER_HOURS_MAX = 14 * 24
QUESTIONS_MAX = 50  # by text, far fewer are answered
POSITIONS_ASIDE = 1000  # where rows wait while renumbered (more than QUESTIONS_MAX, CHOICES_MAX)


def column(field: str, language: str) -> str:
    """The column holding one text in one language: ("title", "zh-hans") -> "title_zh_hans"."""
    return build_localized_fieldname(field, language)


def translation_languages() -> list[str]:
    """The family languages a survey's texts are translated into (all but the default)."""
    return [code for code in family_language_codes() if code != DEFAULT_LANGUAGE]


# ---- A survey's texts -------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyText:
    """One text of a survey that families read, wherever it is kept."""

    key: str  # "title", "question-12", "choice-40"
    label: str | Promise  # for staff: "Question 2, choice 3"
    row: Survey | Question | Choice
    field: str  # its translated field: "title", "text"...
    is_long: bool  # written in a text area

    def in_language(self, language: str) -> str:
        return getattr(self.row, column(self.field, language)) or ""


def survey_texts(survey: Survey, questions: list[Question] | None = None) -> list[SurveyText]:
    """Every text of the survey in the order families meet them: its title, introduction and
    thank-you, then each question followed by its choices (questions with choices prefetched;
    read here in two queries when not given)."""
    if questions is None:
        questions = list(survey.questions.prefetch_related("choices").order_by("position"))
    labels = {
        "title": _("Title"),
        "introduction": _("Introduction"),
        "thank_you": _("Thank-you text"),
    }
    texts = [
        SurveyText(field, labels[field], survey, field, field != "title") for field in SURVEY_TEXTS
    ]
    for number, question in enumerate(questions, start=1):
        texts.append(
            SurveyText(
                f"question-{question.pk}",
                format_lazy(_("Question {number}"), number=number),
                question,
                "text",
                False,
            )
        )
        for choice in question.choices.all():
            texts.append(
                SurveyText(
                    f"choice-{choice.pk}",
                    format_lazy(
                        _("Question {number}, choice {choice}"),
                        number=number,
                        choice=choice.position,
                    ),
                    choice,
                    "text",
                    False,
                )
            )
    return texts


def _save_in_default_language(row, **options) -> None:
    """modeltranslation writes the untranslated column from the active language; keep the
    default language there whatever language the staff member's pages are in."""
    with translation.override(DEFAULT_LANGUAGE):
        row.save(**options)


def _changed_text(row, field: str, new: str) -> bool:
    """Sets the default-language text; when it changed, clears its translations, which no
    longer say the same (a person translates it again, or the machine does when it is sent)."""
    if (getattr(row, column(field, DEFAULT_LANGUAGE)) or "") == new:
        return False
    setattr(row, column(field, DEFAULT_LANGUAGE), new)
    for language in translation_languages():
        setattr(row, column(field, language), "")
    return True


def _wrong(field: str, message: str | Promise) -> SurveyError:
    """A refusal about one field of the form that asked, for the page to show beside it."""
    error = SurveyError(message)
    error.field = field
    return error


# ---- Who may build ----------------------------------------------------------------------------


def _builder(actor, survey: Survey, *, while_open: bool = False) -> Survey:
    """The survey, locked, when the actor may change it now; else a SurveyError."""
    if not surveys_for_staff(actor).filter(pk=survey.pk).exists():
        raise SurveyError(_("This survey is not one of yours."))
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    allowed = [Survey.Status.DRAFT, Survey.Status.OPEN] if while_open else [Survey.Status.DRAFT]
    if survey.status not in allowed:
        if survey.status == Survey.Status.CLOSED:
            raise SurveyError(_("This survey is closed: it can no longer be changed."))
        raise SurveyError(_("This survey was sent: it can no longer be changed."))
    return survey


def _staff_of(actor, school: School) -> Staff:
    access = permissions.access_for(actor)
    if access.staff_id is None or not access.roles.get(school.pk):
        raise SurveyError(_("Only the school's staff can make its surveys."))
    return Staff.objects.get(pk=access.staff_id)


# ---- The survey -------------------------------------------------------------------------------


@transaction.atomic
def survey_save(
    *,
    actor,
    survey: Survey | None = None,
    school: School,
    title: str,
    introduction: str = "",
    thank_you: str = "",
    audience: str,
    sections: Iterable[Section] = (),
    grade: str = "",
    guardians: Iterable[Guardian] = (),
    by_sms: bool = True,
    on_web: bool = True,
    is_anonymous: bool = False,
    opens_at: datetime.datetime | None = None,
    closes_at: datetime.datetime | None = None,
    reminder_after_hours: int | None = None,
) -> Survey:
    """Creates a draft survey (kept by the actor) or changes a draft: its texts in the default
    language, who it goes to (the rules of an announcement: a teacher asks the families of
    their own classes), how families answer, and when. A text changed in the default language
    loses its translations."""
    from messaging.broadcasts import broadcast_audience
    from messaging.services import MessagingError

    staff = _staff_of(actor, school)
    if survey is not None:
        survey = _builder(actor, survey)
    title, introduction, thank_you = title.strip(), introduction.strip(), thank_you.strip()
    if not title:
        raise _wrong("title", _("Give the survey a title."))
    if not (by_sms or on_web):
        raise _wrong(
            "by_sms", _("Choose how families answer: by text message, on the web, or both.")
        )
    if opens_at and closes_at and opens_at >= closes_at:
        raise _wrong("closes_at", _("Choose a closing time after the opening time."))
    if closes_at and closes_at <= timezone.now():
        raise _wrong("closes_at", _("Choose a closing time ahead, or none."))
    if reminder_after_hours is not None and not 1 <= reminder_after_hours <= REMINDER_HOURS_MAX:
        raise _wrong(
            "reminder_after_hours",
            _("A reminder goes between 1 and %(hours)d hours after the survey is sent.")
            % {"hours": REMINDER_HOURS_MAX},
        )
    if (
        not on_web
        and survey is not None
        and survey.questions.filter(kind=KIND.MULTIPLE_CHOICE).exists()
    ):
        raise _wrong(
            "on_web",
            _(
                "A question with several choices can only be answered on the web: keep the web "
                "for this survey, or change that question."
            ),
        )
    sections = list(sections) if audience in (AUDIENCE.SECTION, AUDIENCE.SECTIONS) else []
    grade = grade.strip() if audience == AUDIENCE.GRADE else ""
    guardians = list(guardians) if audience == AUDIENCE.LIST else []
    try:  # an announcement's rules: who this person may ask
        broadcast_audience(
            actor=actor,
            school=school,
            kind=audience,
            sections=sections,
            grade=grade,
            guardians=guardians,
        )
    except MessagingError as error:
        raise _wrong("audience", str(error)) from error

    if survey is None:
        survey = Survey(created_by=staff)
    texts = {"title": title, "introduction": introduction, "thank_you": thank_you}
    for field, text in texts.items():
        _changed_text(survey, field, text)
    survey.school = school
    survey.audience, survey.grade = audience, grade
    survey.by_sms, survey.on_web, survey.is_anonymous = by_sms, on_web, is_anonymous
    survey.opens_at, survey.closes_at = opens_at, closes_at
    survey.reminder_after_hours = reminder_after_hours
    _save_in_default_language(survey)
    survey.sections.set(sections)
    survey.guardians.set(guardians)
    return survey


# ---- Questions and choices --------------------------------------------------------------------


def _question_check(survey: Survey, *, kind: str, text: str, choices: list[str]) -> None:
    if kind not in KIND.values:
        raise _wrong("kind", _("Choose what kind of question it is."))
    if not text:
        raise _wrong("text", _("Write the question."))
    if len(text) > Question._meta.get_field("text").max_length:
        raise _wrong(
            "text", _("Keep the question under 300 characters: by text it is read on a phone.")
        )
    if kind in CHOICE_KINDS:
        if not CHOICES_MIN <= len(choices) <= CHOICES_MAX:
            raise _wrong(
                "choices",
                _("Give it between %(least)d and %(most)d choices.")
                % {"least": CHOICES_MIN, "most": CHOICES_MAX},
            )
        if len({choice.casefold() for choice in choices}) != len(choices):
            raise _wrong("choices", _("Two choices say the same: make each one different."))
        if any(len(choice) > Choice._meta.get_field("text").max_length for choice in choices):
            raise _wrong("choices", _("Keep each choice under 150 characters."))
    elif choices:
        raise _wrong(
            "choices",
            _("%(kind)s questions have no choices of your own: empty the choices.")
            % {"kind": KIND(kind).label},
        )
    if kind == KIND.MULTIPLE_CHOICE and not survey.on_web:
        raise _wrong(
            "kind",
            _(
                "A question with several choices can only be answered on the web, and this "
                "survey goes by text message only."
            ),
        )


def _clean(texts: Sequence[str]) -> list[str]:
    return [text.strip() for text in texts if text and text.strip()]


def _default_text(row: Question | Choice) -> str:
    return getattr(row, column("text", DEFAULT_LANGUAGE)) or ""


def _choices_set(question: Question, choices: list[str]) -> None:
    """The question's choices become `choices`, in order. A choice whose words are kept keeps
    its translations, even when it moves; the others are new."""
    existing = {}
    for choice in question.choices.all():
        existing.setdefault(_default_text(choice), choice)
    kept = [existing.pop(text, None) for text in choices]
    Choice.objects.filter(pk__in=[choice.pk for choice in existing.values()]).delete()
    # positions are unique: the kept choices leave theirs first
    Choice.objects.filter(question=question).update(position=F("position") + POSITIONS_ASIDE)
    for position, (text, choice) in enumerate(zip(choices, kept, strict=True), start=1):
        if choice is None:
            choice = Choice(question=question)
        choice.position = position
        _changed_text(choice, "text", text)
        _save_in_default_language(choice)


def _renumber(questions: list[Question]) -> None:
    """Positions 1, 2, 3... in the order given (positions are unique: each leaves its own
    first)."""
    ids = [question.pk for question in questions]
    Question.objects.filter(pk__in=ids).update(position=F("position") + POSITIONS_ASIDE)
    for position, question in enumerate(questions, start=1):
        Question.objects.filter(pk=question.pk).update(position=position)
        question.position = position


@transaction.atomic
def question_add(
    *,
    actor,
    survey: Survey,
    kind: str,
    text: str,
    is_required: bool = True,
    choices: Sequence[str] = (),
) -> Question:
    """Adds a question at the end of a draft survey, with its choices (2 to 9, for a one-choice
    or several-choices question; none for the others)."""
    survey = _builder(actor, survey)
    text, choices = text.strip(), _clean(choices)
    _question_check(survey, kind=kind, text=text, choices=choices)
    last = survey.questions.aggregate(last=Max("position"))["last"] or 0
    if survey.questions.count() >= QUESTIONS_MAX:
        raise SurveyError(_("A survey has %(most)d questions at most.") % {"most": QUESTIONS_MAX})
    question = Question(survey=survey, position=last + 1, kind=kind, is_required=is_required)
    _changed_text(question, "text", text)
    _save_in_default_language(question)
    _choices_set(question, choices)
    return question


@transaction.atomic
def question_save(
    *,
    actor,
    question: Question,
    kind: str,
    text: str,
    is_required: bool,
    choices: Sequence[str] = (),
) -> Question:
    """Changes a question of a draft survey and its choices. Its translations, and its choices',
    are kept where the text is kept."""
    survey = _builder(actor, question.survey)
    question = Question.objects.select_for_update().get(pk=question.pk, survey=survey)
    text, choices = text.strip(), _clean(choices)
    _question_check(survey, kind=kind, text=text, choices=choices)
    question.kind, question.is_required = kind, is_required
    _changed_text(question, "text", text)
    _save_in_default_language(question)
    _choices_set(question, choices)
    return question


@transaction.atomic
def question_remove(*, actor, question: Question) -> None:
    """Takes a question (and its choices) out of a draft survey; the ones after it move up."""
    survey = _builder(actor, question.survey)
    Question.objects.filter(pk=question.pk, survey=survey).delete()
    _renumber(list(survey.questions.order_by("position")))


@transaction.atomic
def question_move(*, actor, question: Question, position: int) -> Question:
    """Moves a question of a draft survey to `position` (1 is first; beyond either end it
    stops there); the others keep their order around it."""
    survey = _builder(actor, question.survey)
    others = list(survey.questions.exclude(pk=question.pk).order_by("position"))
    question = Question.objects.get(pk=question.pk, survey=survey)
    position = min(max(position, 1), len(others) + 1)
    others.insert(position - 1, question)
    _renumber(others)
    return question


# ---- Translations -----------------------------------------------------------------------------


def _language_check(language: str) -> None:
    if language not in translation_languages():
        raise SurveyError(_("Choose one of the families' languages."))


@transaction.atomic
def survey_translation_save(
    *, actor, survey: Survey, language: str, texts: dict[str, str], is_reviewed: bool = False
) -> Survey:
    """A person's texts in one language (keys as `survey_texts`; a key left out is kept as it
    is). When a person changes any of them, or says they checked them (`is_reviewed`), the
    language is no longer marked machine translated; a change also ends the suggestion waiting
    for that language (a person wrote the texts instead)."""
    survey = _builder(actor, survey, while_open=True)
    _language_check(language)
    parts = {part.key: part for part in survey_texts(survey)}
    if set(texts) - set(parts):
        raise SurveyError(_("The survey's questions changed meanwhile: open the page again."))
    changed = []
    for key, text in texts.items():
        part, text = parts[key], (text or "").strip()
        if part.in_language(language) != text:
            setattr(part.row, column(part.field, language), text)
            changed.append(part.row)
    for row in {(type(row), row.pk): row for row in changed}.values():
        _save_in_default_language(row)
    if (changed or is_reviewed) and language in survey.machine_languages:
        survey.machine_languages = [code for code in survey.machine_languages if code != language]
        survey.save(update_fields=["machine_languages"])
    if changed:
        SurveyTranslationSuggestion.objects.filter(survey=survey, language=language).delete()
    return survey


def _source_texts(survey: Survey) -> dict[str, str]:
    return {
        part.key: part.in_language(DEFAULT_LANGUAGE)
        for part in survey_texts(survey)
        if part.in_language(DEFAULT_LANGUAGE)
    }


@transaction.atomic
def survey_translation_suggest(
    *, actor, survey: Survey, language: str
) -> SurveyTranslationSuggestion:
    """Asks the translation provider, through a task on the translation queue, for every text of
    the survey in `language`, in one batch. The answer waits as a suggestion, shown beside the
    texts, until a person accepts or discards it. Asking again replaces the earlier one."""
    survey = _builder(actor, survey, while_open=True)
    _language_check(language)
    suggestion, _created = SurveyTranslationSuggestion.objects.update_or_create(
        survey=survey,
        language=language,
        defaults={
            "status": SurveyTranslationSuggestion.Status.ASKED,
            "source_texts": _source_texts(survey),
            "texts": {},
            "asked_at": timezone.now(),
            "made_at": None,
        },
    )

    def hand_over():
        from kombu.exceptions import OperationalError

        from surveys.builder_tasks import survey_translation_suggest_task

        try:
            survey_translation_suggest_task.apply_async([suggestion.pk], queue="translation")
        except OperationalError as error:  # the page says it is still asked: ask again
            logger.warning("broker unavailable, no survey suggestion: %s", error)

    transaction.on_commit(hand_over)
    return suggestion


def survey_translation_make(*, suggestion_id: int) -> None:
    """Runs in the task: the provider's suggestion for a survey's texts, or failed when it
    translates nothing. Raises TranslationUnavailable for the task to retry."""
    from messaging.translation_suggestions import suggestion_make

    suggestion_make(
        suggestions=SurveyTranslationSuggestion,
        suggestion_id=suggestion_id,
        source=DEFAULT_LANGUAGE,
        untranslated=SurveyTranslationSuggestion.Status.FAILED,
    )


def survey_translation_fail(*, suggestion_id: int) -> None:
    """The provider stayed down through every retry: the page says so, and offers to ask again."""
    Status = SurveyTranslationSuggestion.Status
    SurveyTranslationSuggestion.objects.filter(pk=suggestion_id, status=Status.ASKED).update(
        status=Status.FAILED, made_at=timezone.now()
    )


@transaction.atomic
def survey_translation_accept(*, actor, suggestion: SurveyTranslationSuggestion) -> Survey:
    """Copies a ready suggestion into the survey's texts in its language and marks the language
    machine translated, so families are told. A text a person wrote in that language stays, and
    so does a text whose default-language words changed since the suggestion was made."""
    survey = _builder(actor, suggestion.survey, while_open=True)
    suggestion = SurveyTranslationSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SurveyTranslationSuggestion.Status.READY:
        raise SurveyError(_("This suggestion is not ready yet."))
    language = suggestion.language
    was_machine = language in survey.machine_languages
    filled = {}
    for part in survey_texts(survey):
        text = suggestion.texts.get(part.key)
        if not text or suggestion.source_texts.get(part.key) != part.in_language(DEFAULT_LANGUAGE):
            continue
        if part.in_language(language) and not was_machine:
            continue  # a person wrote it
        setattr(part.row, column(part.field, language), text)
        filled[(type(part.row), part.row.pk)] = part.row
    for row in filled.values():
        if row is not survey:
            _save_in_default_language(row)
    if filled and not was_machine:
        survey.machine_languages = [*survey.machine_languages, language]
    _save_in_default_language(survey)
    suggestion.delete()
    return survey


@transaction.atomic
def survey_translation_discard(*, actor, suggestion: SurveyTranslationSuggestion) -> None:
    """Throws a suggestion away; the survey's texts are untouched."""
    _builder(actor, suggestion.survey, while_open=True)
    SurveyTranslationSuggestion.objects.filter(pk=suggestion.pk).delete()


def survey_machine_translate(*, survey: Survey, languages: list[str]) -> list[str]:
    """Fills the empty texts of `languages` with the provider's translation, one batch per
    language, and marks those languages machine translated; returns the languages it filled.
    Asks the provider outside any transaction; a text a person wrote meanwhile is kept. Raises
    TranslationUnavailable when the provider does not answer (what was translated before is
    kept). Does nothing when no provider is set up, or for a language the provider lacks."""
    from messaging.translation import TranslationUnavailable, translation_provider

    provider = translation_provider()
    if provider.name == "none":
        return []
    survey = Survey.objects.get(pk=survey.pk)
    wanted = [code for code in dict.fromkeys(languages) if code in translation_languages()]
    parts = survey_texts(survey)
    made: dict[str, dict[str, tuple[str, str]]] = {}  # language -> key -> (source, text)
    failure = None
    for language in wanted:
        missing = [
            part
            for part in parts
            if part.in_language(DEFAULT_LANGUAGE) and not part.in_language(language)
        ]
        if not missing:
            continue
        sources = [part.in_language(DEFAULT_LANGUAGE) for part in missing]
        try:
            translated = provider.translate(sources, source=DEFAULT_LANGUAGE, target=language)
        except TranslationUnavailable as error:
            failure = error
            break
        if translated is not None:
            made[language] = {
                part.key: (source, text)
                for part, source, text in zip(missing, sources, translated, strict=True)
            }
    filled = _machine_texts_keep(survey, made) if made else []
    if failure is not None:
        raise failure
    return filled


@transaction.atomic
def _machine_texts_keep(survey: Survey, made: dict[str, dict[str, tuple[str, str]]]) -> list[str]:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    parts = survey_texts(survey)
    filled, rows = [], {}
    for language, texts in made.items():
        for part in parts:
            source, text = texts.get(part.key, ("", ""))
            if not text or part.in_language(language):
                continue
            if source != part.in_language(DEFAULT_LANGUAGE):
                continue  # its words changed while the machine translated them
            setattr(part.row, column(part.field, language), text)
            rows[(type(part.row), part.row.pk)] = part.row
            if language not in filled:
                filled.append(language)
    for row in rows.values():
        if row is not survey:
            _save_in_default_language(row)
    survey.machine_languages = [
        *survey.machine_languages,
        *(code for code in filled if code not in survey.machine_languages),
    ]
    _save_in_default_language(survey)
    return filled
