"""Live results of a survey, read by the staff who may read it (`selectors.surveys_for_staff`):
how many families answered and how fast, what they answered to each question, the same broken
down by language, grade and class, the families' own words with a translation, and CSV exports.

Every figure is an aggregate computed by the database: a constant number of queries whatever
the number of families or answers. What the figures mean:

- invited: invitations written when the survey was sent (one per family);
  started: families that answered at least one question (completed ones included);
  completed: families that reached the end; completed in the first hour / first day: completed
  within 1 hour / 24 hours of their own invitation's `invited_at`. Rates are of the invited.
- respondents: families with at least one answer (a skipped question counts: they took part).
- per question: `answered` families answered it (a skip is not an answer), `skipped` skipped it;
  each choice, scale value or yes/no counts the families that chose it (several choices: one
  family counts once under each choice it ticked), and `written` the answers given as words
  (a short text's; for another kind, an SMS reply that fit no option, kept as the family wrote
  it). Shares are of the families that answered the question.
- breakdowns: a named survey groups families by their home language and by the grades and
  classes of their children at the school (a family with children in two grades counts in each;
  "not known" holds families with no current child there); an anonymous survey groups answers by
  the language they were given in and the grade kept with them, never by class.

Anonymous surveys never show a group of fewer than MIN_GROUP_SIZE respondents: such a group says
"fewer than 5", and when the hidden groups of a breakdown together hold fewer than five families
the smallest shown groups are hidden too, so that no small group can be worked out by subtracting
the others from the total. Below five respondents in all, no answer is shown at all.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import translation
from django.utils.translation import gettext

from messaging.translation import TranslationUnavailable, translation_provider
from portal.languages import UnknownLanguage, language_normalize
from portal.models import Enrollment, GuardianLink
from surveys.models import Answer, Invitation, Question, Survey
from surveys.texts import text_in

logger = logging.getLogger(__name__)

MIN_GROUP_SIZE = 5  # an anonymous survey never shows a group of fewer respondents
FIRST_HOUR = datetime.timedelta(hours=1)
FIRST_DAY = datetime.timedelta(hours=24)
SCALE_VALUES = ("1", "2", "3", "4", "5")
YES_NO_VALUES = ("yes", "no")
BREAKDOWNS = ("language", "grade", "section")  # an anonymous survey has no section breakdown
NOT_KNOWN = ""  # the group of families whose grade or class is not known
WRITTEN_PAGE_SIZE = 50
TRANSLATION_SECONDS = 30 * 24 * 3600  # how long a translated answer is kept in the cache
PENDING_SECONDS = 120  # translations asked for are not asked again for this long
COMPLETED = Invitation.Status.COMPLETED


def reader_language() -> str:
    """The language staff read the page in (their interface language), as a family language."""
    try:
        return language_normalize(translation.get_language() or "")
    except UnknownLanguage:
        return settings.MODELTRANSLATION_DEFAULT_LANGUAGE


def survey_questions(survey: Survey) -> list[Question]:
    """The questions in order, each with its choices in order (two queries)."""
    return list(
        survey.questions.order_by("position").prefetch_related(
            "choices"  # Choice.Meta.ordering: by position
        )
    )


# ---- Response rate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: datetime.date  # in the school's time zone
    completed: int  # families that completed that day
    completed_so_far: int


@dataclass(frozen=True)
class ResponseRate:
    """How many families were invited, started and completed, and how fast."""

    invited: int
    started: int  # answered at least one question, completed ones included
    completed: int
    completed_first_hour: int  # within an hour of their invitation
    completed_first_day: int  # within 24 hours of their invitation
    by_day: tuple[DayCount, ...] = ()

    def _rate(self, count: int) -> float | None:
        return count / self.invited if self.invited else None

    @property
    def started_rate(self) -> float | None:
        return self._rate(self.started)

    @property
    def completed_rate(self) -> float | None:
        return self._rate(self.completed)

    @property
    def first_hour_rate(self) -> float | None:
        return self._rate(self.completed_first_hour)

    @property
    def first_day_rate(self) -> float | None:
        return self._rate(self.completed_first_day)


def survey_response_rate(survey: Survey) -> ResponseRate:
    """Invited, started and completed, in the first hour, the first day and overall, and the
    families completing each day (two queries)."""
    invitations = Invitation.objects.filter(survey=survey)
    figures = invitations.aggregate(
        invited=Count("pk"),
        started=Count("pk", filter=Q(status__in=["started", "completed"])),
        completed=Count("pk", filter=Q(status=COMPLETED)),
        completed_first_hour=Count(
            "pk", filter=Q(status=COMPLETED, completed_at__lte=F("invited_at") + FIRST_HOUR)
        ),
        completed_first_day=Count(
            "pk", filter=Q(status=COMPLETED, completed_at__lte=F("invited_at") + FIRST_DAY)
        ),
    )
    school_zone = zoneinfo.ZoneInfo(survey.school.timezone)
    days = (
        invitations.filter(status=COMPLETED, completed_at__isnull=False)
        .annotate(day=TruncDate("completed_at", tzinfo=school_zone))
        .values("day")
        .annotate(completed=Count("pk"))
        .order_by("day")
    )
    so_far = 0
    by_day = []
    for row in days:
        so_far += row["completed"]
        by_day.append(DayCount(day=row["day"], completed=row["completed"], completed_so_far=so_far))
    return ResponseRate(**figures, by_day=tuple(by_day))


# ---- Per question -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionCount:
    """One bar of a question's chart."""

    key: str  # a choice's id, "1".."5", "yes", "no", or "written" (a reply that fit no option)
    label: str
    count: int  # families
    share: float | None  # of the families that answered the question


@dataclass(frozen=True)
class QuestionResult:
    question_id: int
    position: int
    kind: str
    text: str  # in the reader's language
    answered: int  # families that answered it (a skip is not an answer)
    skipped: int
    written: int  # answers given as words: a short text's, or a reply kept as text
    options: tuple[OptionCount, ...]  # empty for a short-text question
    mean: float | None = None  # a scale question's average, 1 to 5

    @property
    def is_chart(self) -> bool:
        return bool(self.options)


def _answers(survey: Survey) -> QuerySet[Answer]:
    return Answer.objects.filter(question__survey=survey)


# (group, question id, choice id, value, is_skipped) -> answers (several choices: one per tick)
OptionRows = dict[tuple, int]
# (group, question id) -> (answered, skipped)
AnsweredRows = dict[tuple, tuple[int, int]]


def _option_rows(answers: QuerySet, group: str | None) -> OptionRows:
    keys = ["question_id", "choice_id", "value", "is_skipped"]
    rows = answers.values(*([group] if group else []), *keys).annotate(
        answers=Count("pk", distinct=bool(group))
    )
    return {
        (row[group] if group else None, *(row[key] for key in keys)): row["answers"]
        for row in rows.order_by()
    }


def _answered_rows(answers: QuerySet, group: str | None) -> AnsweredRows:
    rows = answers.values(*([group] if group else []), "question_id").annotate(
        answered=Count("respondent", distinct=True, filter=Q(is_skipped=False)),
        skipped=Count("respondent", distinct=True, filter=Q(is_skipped=True)),
    )
    return {
        (row[group] if group else None, row["question_id"]): (row["answered"], row["skipped"])
        for row in rows.order_by()
    }


def _share(count: int, answered: int) -> float | None:
    return count / answered if answered else None


def _question_result(
    question: Question, language: str, group, options: OptionRows, answered: AnsweredRows
) -> QuestionResult:
    answered_count, skipped = answered.get((group, question.pk), (0, 0))

    def count(choice_id=None, value="") -> int:
        return options.get((group, question.pk, choice_id, value, False), 0)

    written = count()  # neither a choice nor a value: words
    labelled: list[tuple[str, str, int]] = []
    if question.kind in ("single_choice", "multiple_choice"):
        labelled = [
            (str(choice.pk), text_in(choice, "text", language), count(choice_id=choice.pk))
            for choice in question.choices.all()
        ]
    elif question.kind == "scale":
        labelled = [(value, value, count(value=value)) for value in SCALE_VALUES]
    elif question.kind == "yes_no":
        labelled = [
            ("yes", gettext("Yes"), count(value="yes")),
            ("no", gettext("No"), count(value="no")),
        ]
    if labelled and written:
        labelled.append(("written", gettext("Other answer, kept as written"), written))
    mean = None
    if question.kind == "scale":
        scored = sum(int(value) * votes for value, _label, votes in labelled if value != "written")
        votes = sum(votes for value, _label, votes in labelled if value != "written")
        mean = round(scored / votes, 2) if votes else None
    return QuestionResult(
        question_id=question.pk,
        position=question.position,
        kind=question.kind,
        text=text_in(question, "text", language),
        answered=answered_count,
        skipped=skipped,
        written=written,
        options=tuple(
            OptionCount(key=key, label=label, count=votes, share=_share(votes, answered_count))
            for key, label, votes in labelled
        ),
        mean=mean,
    )


def survey_respondents(survey: Survey) -> int:
    """Families with at least one answer, a skip included (one query)."""
    return _answers(survey).aggregate(n=Count("respondent", distinct=True))["n"]


def survey_question_results(
    survey: Survey, questions: list[Question], *, language: str | None = None
) -> tuple[QuestionResult, ...]:
    """Each question's counts over every family that answered (two queries). Not for an
    anonymous survey below MIN_GROUP_SIZE respondents: `survey_results` checks."""
    language = language or reader_language()
    answers = _answers(survey)
    options, answered = _option_rows(answers, None), _answered_rows(answers, None)
    return tuple(
        _question_result(question, language, None, options, answered) for question in questions
    )


# ---- Breakdowns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One group of a breakdown, with its own per-question counts."""

    key: str  # a language code, a grade, a section id; "" for "not known"
    label: str
    respondents: int | None  # None when hidden
    invited: int | None = None  # named surveys only: families of the group invited...
    completed: int | None = None  # ...and those that completed
    hidden: str = ""  # "" shown; "small": fewer than 5; "complement": shields a small group
    questions: tuple[QuestionResult, ...] = ()  # empty when hidden

    @property
    def is_hidden(self) -> bool:
        return bool(self.hidden)

    @property
    def completed_rate(self) -> float | None:
        return self.completed / self.invited if self.invited else None


@dataclass(frozen=True)
class Breakdown:
    by: str  # "language", "grade" or "section"
    groups: tuple[Group, ...]


def _children_of(guardian_path: str, school_id: int):
    """(FilteredRelation of a guardian's active links, a When condition of a current child at
    the school, and Exists of one): see `_grouped`."""
    links = f"{guardian_path}__student_links"
    relation = FilteredRelation(links, condition=Q(**{f"{links}__is_active": True}))
    at_school = Q(child__student__school_id=school_id, child__student__is_active=True)
    return relation, at_school


def _grouped(queryset: QuerySet, *, by: str, survey: Survey, guardian_path: str) -> QuerySet:
    """`queryset` (answers or invitations of a named survey) annotated with `group` and
    `group_label` for the breakdown `by`. A family appears once per grade or class of its
    current children at the school; a family with none, once in the NOT_KNOWN group; rows
    joined through its other children carry no group (None) and are left out."""
    if by == "language":
        return queryset.annotate(
            group=F(f"{guardian_path}__preferred_language"),
            group_label=F(f"{guardian_path}__preferred_language"),
        )
    school_id = survey.school_id
    relation, at_school = _children_of(guardian_path, school_id)
    queryset = queryset.annotate(child=relation)
    guardian_id = OuterRef(f"{guardian_path}_id")
    if by == "grade":
        has_child = Exists(
            GuardianLink.objects.filter(
                guardian_id=guardian_id,
                is_active=True,
                student__school_id=school_id,
                student__is_active=True,
            )
        )
        grade = Case(
            When(at_school, then=F("child__student__grade")),
            When(~has_child, then=Value(NOT_KNOWN)),
            default=None,
            output_field=CharField(),
        )
        return queryset.annotate(group=grade, group_label=grade)
    if by == "section":
        queryset = queryset.annotate(
            enrolled=FilteredRelation(
                "child__student__enrollments",
                condition=Q(child__student__enrollments__is_active=True),
            )
        )
        in_class = at_school & Q(
            enrolled__section__is_active=True, enrolled__section__school_id=school_id
        )
        has_class = Exists(
            Enrollment.objects.filter(
                is_active=True,
                section__is_active=True,
                section__school_id=school_id,
                student__school_id=school_id,
                student__is_active=True,
                student__guardian_links__guardian_id=guardian_id,
                student__guardian_links__is_active=True,
            )
        )
        section_id = Case(
            When(in_class, then=F("enrolled__section_id")),
            When(~has_class, then=Value(0)),
            default=None,
        )
        name = Case(
            When(in_class, then=F("enrolled__section__name")),
            When(~has_class, then=Value(NOT_KNOWN)),
            default=None,
            output_field=CharField(),
        )
        return queryset.annotate(group=section_id, group_label=name)
    raise ValueError(f"no breakdown by {by!r}")


def _group_label(by: str, key, label) -> str:
    if key in (NOT_KNOWN, 0):
        return gettext("Not known")
    if by == "language":
        return str(dict(settings.FAMILY_LANGUAGES).get(key, key))
    if by == "grade":
        return gettext("Grade %(grade)s") % {"grade": label}
    return str(label)


def _group_order(by: str):
    languages = [code for code, _name in settings.FAMILY_LANGUAGES]

    def order(group: Group):
        if group.key == NOT_KNOWN:
            return (2, 0, "")
        if by == "language":
            position = languages.index(group.key) if group.key in languages else len(languages)
            return (0, position, group.key)
        if by == "grade" and group.key.isdigit():
            return (0, int(group.key), group.key)
        return (1, 0, group.label.lower())

    return order


def _shield(groups: list[tuple[Group, int]]) -> list[Group]:
    """An anonymous survey's rule, on `groups` with their respondent counts: a group of fewer
    than MIN_GROUP_SIZE respondents is hidden ("small"), and while the hidden groups hold fewer
    than that together, the smallest shown group is hidden too ("complement"), else the total
    minus the shown groups would give the small one away."""
    hidden_total = sum(size for group, size in groups if size < MIN_GROUP_SIZE)
    hidden = {group.key for group, size in groups if size < MIN_GROUP_SIZE}
    shown = sorted((size, group.key) for group, size in groups if size >= MIN_GROUP_SIZE)
    shielding = set()
    while hidden and 0 < hidden_total < MIN_GROUP_SIZE and shown:
        size, key = shown.pop(0)
        shielding.add(key)
        hidden_total += size
    result = []
    for group, _size in groups:
        if group.key in hidden:
            group = replace(group, hidden="small", respondents=None, questions=())
        elif group.key in shielding:
            group = replace(group, hidden="complement", respondents=None, questions=())
        result.append(group)
    return result


def survey_breakdown(
    survey: Survey, questions: list[Question], *, by: str, language: str | None = None
) -> Breakdown:
    """Respondents and per-question counts by language, grade or class (three queries; a named
    survey adds one for the families invited in each group)."""
    if by not in BREAKDOWNS or (by == "section" and survey.is_anonymous):
        raise ValueError(f"no breakdown by {by!r} for this survey")
    language = language or reader_language()
    answers = _answers(survey)
    invited: dict = {}
    if survey.is_anonymous:  # the language and grade kept with each answer
        answers = answers.annotate(group=F(by), group_label=F(by))
    else:
        answers = _grouped(answers, by=by, survey=survey, guardian_path="invitation__guardian")
        invitations = _grouped(
            Invitation.objects.filter(survey=survey), by=by, survey=survey, guardian_path="guardian"
        )
        for row in (
            invitations.values("group", "group_label")
            .annotate(
                invited=Count("pk", distinct=True),
                completed=Count("pk", distinct=True, filter=Q(status=COMPLETED)),
            )
            .order_by()
        ):
            if row["group"] is not None:
                invited[row["group"]] = (row["group_label"], row["invited"], row["completed"])
    respondents = {
        row["group"]: (row["group_label"], row["respondents"])
        for row in answers.values("group", "group_label")
        .annotate(respondents=Count("respondent", distinct=True))
        .order_by()
        if row["group"] is not None
    }
    options, answered = _option_rows(answers, "group"), _answered_rows(answers, "group")
    sized: list[tuple[Group, int]] = []
    for key in respondents.keys() | invited.keys():
        label, size = respondents.get(key, (None, 0))
        invited_label, invited_count, completed = invited.get(key, (None, None, None))
        sized.append(
            (
                Group(
                    key=str(key) if key != 0 else NOT_KNOWN,
                    label=_group_label(by, key, label if label is not None else invited_label),
                    respondents=size,
                    invited=invited_count if not survey.is_anonymous else None,
                    completed=completed if not survey.is_anonymous else None,
                    questions=tuple(
                        _question_result(question, language, key, options, answered)
                        for question in questions
                    ),
                ),
                size,
            )
        )
    groups = _shield(sized) if survey.is_anonymous else [group for group, _size in sized]
    return Breakdown(by=by, groups=tuple(sorted(groups, key=_group_order(by))))


@dataclass(frozen=True)
class Cell:
    count: int | None  # None where the group is hidden
    share: float | None = None
    hidden: str = ""  # the group's reason, as `Group.hidden`


@dataclass(frozen=True)
class BreakdownTable:
    """One question's counts side by side for every group of a breakdown."""

    question: QuestionResult  # over every family
    groups: tuple[Group, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]  # (what was answered, a cell per group)


def _option_figure(result: QuestionResult, key: str) -> tuple[int, float | None]:
    """A group's count and share for one option (a group may lack the "written" one)."""
    for option in result.options:
        if option.key == key:
            return option.count, option.share
    return 0, _share(0, result.answered)


def breakdown_tables(
    breakdown: Breakdown, questions: tuple[QuestionResult, ...]
) -> list[BreakdownTable]:
    """Each question's breakdown as a table: a row per choice (or value, or written answers),
    then the families that answered and that skipped; a hidden group's cells stay empty."""
    tables = []
    for index, question in enumerate(questions):

        def cells(figure, groups=breakdown.groups, index=index) -> tuple[Cell, ...]:
            return tuple(
                Cell(count=None, hidden=group.hidden)
                if group.is_hidden
                else Cell(*figure(group.questions[index]))
                for group in groups
            )

        rows = [
            (option.label, cells(lambda result, key=option.key: _option_figure(result, key)))
            for option in question.options
        ]
        if not question.options:
            rows.append((gettext("Written answers"), cells(lambda result: (result.written,))))
        rows.append((gettext("Answered"), cells(lambda result: (result.answered,))))
        rows.append((gettext("Skipped"), cells(lambda result: (result.skipped,))))
        tables.append(BreakdownTable(question=question, groups=breakdown.groups, rows=tuple(rows)))
    return tables


# ---- Everything on one page -------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyResults:
    """What the results page and the API show of a survey."""

    survey_id: int
    is_anonymous: bool
    response: ResponseRate
    respondents: int | None  # families with an answer; None when hidden
    is_hidden: bool  # an anonymous survey with fewer than MIN_GROUP_SIZE respondents
    questions: tuple[QuestionResult, ...]  # empty when hidden
    breakdowns: dict[str, Breakdown] = field(default_factory=dict)


def breakdowns_for(survey: Survey) -> tuple[str, ...]:
    """The breakdowns a survey offers: an anonymous one has no class breakdown."""
    return tuple(by for by in BREAKDOWNS if not (survey.is_anonymous and by == "section"))


def survey_results(
    survey: Survey,
    questions: list[Question],
    *,
    breakdowns: tuple[str, ...] | None = None,
    language: str | None = None,
) -> SurveyResults:
    """The figures of a survey (`questions` from `survey_questions`): response rate, each
    question's counts and the breakdowns asked for (every one the survey offers by default),
    the anonymity rule applied. Five queries, and three or four per breakdown."""
    language = language or reader_language()
    response = survey_response_rate(survey)
    respondents = survey_respondents(survey)
    if survey.is_anonymous and respondents < MIN_GROUP_SIZE:
        return SurveyResults(
            survey_id=survey.pk,
            is_anonymous=True,
            response=response,
            respondents=None,
            is_hidden=True,
            questions=(),
        )
    offered = breakdowns_for(survey)
    asked = offered if breakdowns is None else [by for by in breakdowns if by in offered]
    return SurveyResults(
        survey_id=survey.pk,
        is_anonymous=survey.is_anonymous,
        response=response,
        respondents=respondents,
        is_hidden=False,
        questions=survey_question_results(survey, questions, language=language),
        breakdowns={
            by: survey_breakdown(survey, questions, by=by, language=language) for by in asked
        },
    )


# ---- Written answers and their translation ----------------------------------------------------


@dataclass(frozen=True)
class WrittenAnswer:
    """A family's own words, as written, with a translation for the reader."""

    id: str
    question_position: int
    question_text: str
    text: str  # as the family wrote it
    language: str  # the language it was written in; "" for an anonymous survey
    family: str  # who wrote it; "" for an anonymous survey
    translation: str  # in the reader's language, when `state` is "translated"
    state: str  # "original" (the reader's language), "translated", "translating", "not_translated"


def _translation_key(*, provider: str, target: str, answer_id) -> str:
    return f"survey-answer-translation:{provider}:{target}:{answer_id}"


def answers_translate(*, survey_id: int, answer_ids: list[str], target: str) -> int:
    """Translates written answers into `target` and keeps each in the cache for the results
    page (run by `results_tasks.survey_answers_translate`; one provider call per language the
    answers were written in). The school's name and its "never translate" list stay as they
    are. Safe to run twice. Raises TranslationUnavailable for the task to try again later."""
    from messaging.services import _protect, _restore, glossary_terms

    provider = translation_provider()
    if provider.name == "none":
        return 0
    survey = Survey.objects.select_related("school").get(pk=survey_id)
    terms = glossary_terms(school=survey.school, people=[])
    rows = (
        Answer.objects.filter(question__survey_id=survey_id, pk__in=answer_ids)
        .exclude(text="")
        .exclude(language=target)
        .values_list("pk", "language", "text")
    )
    by_language: dict[str, list[tuple[str, str]]] = {}
    for answer_id, language, text in rows:
        by_language.setdefault(language, []).append((str(answer_id), text))
    made = 0
    for source, written in sorted(by_language.items()):
        protected = [_protect(text, terms) for _answer_id, text in written]
        texts = provider.translate(
            [text for text, _kept in protected], source=source, target=target
        )
        for index, (answer_id, _text) in enumerate(written):
            translated = None if texts is None else _restore(texts[index], protected[index][1])
            key = _translation_key(provider=provider.name, target=target, answer_id=answer_id)
            cache.set(key, {"text": translated}, TRANSLATION_SECONDS)
            made += translated is not None
    return made


def _ask_translation(*, survey_id: int, answer_ids: list[str], target: str, provider: str) -> None:
    """Hands the translation of answers to a worker, once per PENDING_SECONDS."""
    from celery.exceptions import Retry
    from kombu.exceptions import OperationalError

    from surveys.results_tasks import survey_answers_translate

    digest = hashlib.sha256("\x1f".join([provider, target, *sorted(answer_ids)]).encode())
    asked = f"survey-answer-translation:asked:{digest.hexdigest()}"
    if not cache.add(asked, 1, PENDING_SECONDS):
        return
    try:
        survey_answers_translate.delay(survey_id, answer_ids, target)
    except OperationalError as error:
        logger.warning("broker unavailable, written answers not translated: %s", error)
        cache.delete(asked)
    except (TranslationUnavailable, Retry) as error:  # run in-process (the demo): it gave up
        logger.warning("translation unavailable, written answers not translated: %s", error)


def _translated(answers: list[Answer], *, survey_id: int, target: str) -> dict[str, tuple]:
    """answer id -> (translation, state) for answers written in another language than
    `target`: from the cache, else asked of a worker ("translating")."""
    provider = translation_provider()
    foreign = [str(answer.pk) for answer in answers if answer.language != target]
    if provider.name == "none":
        return dict.fromkeys(foreign, ("", "not_translated"))
    keys = {
        answer_id: _translation_key(provider=provider.name, target=target, answer_id=answer_id)
        for answer_id in foreign
    }
    found = cache.get_many(list(keys.values()))
    missing = [answer_id for answer_id, key in keys.items() if key not in found]
    if missing:
        _ask_translation(
            survey_id=survey_id, answer_ids=missing, target=target, provider=provider.name
        )
        found.update(cache.get_many([keys[answer_id] for answer_id in missing]))  # eager tasks
    states = {}
    for answer_id, key in keys.items():
        if key not in found:
            states[answer_id] = ("", "translating")
        elif found[key]["text"] is None:  # the provider does not translate this language
            states[answer_id] = ("", "not_translated")
        else:
            states[answer_id] = (found[key]["text"], "translated")
    return states


def written_answers_of(survey: Survey) -> QuerySet[Answer]:
    """A survey's answers given as words, by question; an anonymous survey's in no telling
    order (their ids are random), with nothing of the family."""
    answers = _answers(survey).filter(is_skipped=False).exclude(text="").select_related("question")
    if survey.is_anonymous:
        return answers.order_by("question__position", "pk")
    return answers.select_related("invitation__guardian").order_by(
        "question__position", "created_at", "pk"
    )


def survey_written_answers(
    survey: Survey,
    *,
    page_number=1,
    language: str | None = None,
    respondents: int | None = None,
) -> Page | None:
    """A page of the families' own words, each with its translation into the reader's language
    (two queries, and one to count an anonymous survey's `respondents` unless given). None for
    an anonymous survey below MIN_GROUP_SIZE respondents: `survey_results` says so."""
    target = language or reader_language()
    if survey.is_anonymous:
        if respondents is None:
            respondents = survey_respondents(survey)
        if respondents < MIN_GROUP_SIZE:
            return None
    page = Paginator(written_answers_of(survey), WRITTEN_PAGE_SIZE).get_page(page_number)
    answers = list(page.object_list)
    translated = _translated(answers, survey_id=survey.pk, target=target)
    page.object_list = [
        WrittenAnswer(
            id=str(answer.pk),
            question_position=answer.question.position,
            question_text=text_in(answer.question, "text", target),
            text=answer.text,
            language="" if survey.is_anonymous else answer.language,
            family="" if survey.is_anonymous else str(answer.invitation.guardian),
            translation=translated.get(str(answer.pk), ("", "original"))[0],
            state=translated.get(str(answer.pk), ("", "original"))[1],
        )
        for answer in answers
    ]
    return page


# ---- Exports ----------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula


def csv_cell(value) -> str:
    """A cell as text that no spreadsheet runs as a formula: one starting with = + - @ (or a
    tab or carriage return) gets a leading apostrophe, as OWASP advises."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def may_show_answers(survey: Survey) -> bool:
    """Whether a survey's answers may be shown at all: always for a named survey; for an
    anonymous one, from MIN_GROUP_SIZE respondents on (one query)."""
    if not survey.is_anonymous:
        return True
    return survey_respondents(survey) >= MIN_GROUP_SIZE


def _answer_cell(rows: list[dict], choices: dict[int, str]) -> str:
    """A family's answer to one question as one spreadsheet cell."""
    if any(row["is_skipped"] for row in rows):
        return gettext("(skipped)")
    parts = []
    for row in rows:
        if row["choice_id"] is not None:
            parts.append(choices.get(row["choice_id"], ""))
        elif row["value"] in YES_NO_VALUES:
            parts.append(gettext("Yes") if row["value"] == "yes" else gettext("No"))
        else:
            parts.append(row["value"] or row["text"])
    return "; ".join(parts)


def _answer_cells(answers: Iterator[dict], questions: list[Question], choices) -> list[str]:
    by_question: dict[int, list[dict]] = {}
    for row in answers:
        by_question.setdefault(row["question_id"], []).append(row)
    return [
        _answer_cell(by_question[question.pk], choices) if question.pk in by_question else ""
        for question in questions
    ]


ANSWER_FIELDS = ("question_id", "choice_id", "value", "text", "is_skipped")


def respondent_rows(
    survey: Survey, questions: list[Question], *, language: str | None = None
) -> Iterator[list[str]]:
    """The respondents' table, a header then one row per family that answered: a named survey's
    with the family's name, language and children's grades; an anonymous survey's numbered in
    an order that says nothing of who or when, with nothing else of the family. Streams the
    answers from the database (two queries), holding one family's at a time."""
    language = language or reader_language()
    choices = {
        choice.pk: text_in(choice, "text", language)
        for question in questions
        for choice in question.choices.all()
    }
    headings = [
        f"{question.position}. {text_in(question, 'text', language)}" for question in questions
    ]
    answers = _answers(survey)
    if survey.is_anonymous:
        yield [gettext("Respondent"), *headings]
        stream = (
            answers.values("respondent", *ANSWER_FIELDS)
            .order_by("respondent", "question__position", "choice__position")
            .iterator(chunk_size=2000)
        )
        for number, (_key, rows) in enumerate(
            groupby(stream, key=lambda row: row["respondent"]), 1
        ):
            yield [str(number), *_answer_cells(rows, questions, choices)]
        return
    yield [
        gettext("Family"),
        gettext("Language"),
        gettext("Grades"),
        gettext("Channel"),
        gettext("Status"),
        *headings,
    ]
    families = (
        _grouped(
            Invitation.objects.filter(survey=survey).filter(
                Exists(Answer.objects.filter(invitation=OuterRef("pk")))
            ),
            by="grade",
            survey=survey,
            guardian_path="guardian",
        )
        .values(
            "pk",
            "guardian__given_name",
            "guardian__family_name",
            "guardian__preferred_language",
            "channel",
            "status",
            "group",
        )
        .order_by("pk")
        .iterator(chunk_size=2000)
    )
    stream = (
        answers.filter(invitation__isnull=False)
        .values("invitation_id", *ANSWER_FIELDS)
        .order_by("invitation_id", "question__position", "choice__position")
        .iterator(chunk_size=2000)
    )
    by_family = groupby(stream, key=lambda row: row["invitation_id"])
    pending = next(by_family, None)
    languages = dict(settings.FAMILY_LANGUAGES)
    statuses = dict(Invitation.Status.choices)
    channels = {"sms": gettext("Text message"), "web": gettext("Web")}
    for invitation_id, rows in groupby(families, key=lambda row: row["pk"]):
        rows = list(rows)
        # Both streams run in invitation order; an answer given between the two queries may
        # belong to a family the first did not see: it is passed over.
        while pending is not None and pending[0] < invitation_id:
            pending = next(by_family, None)
        cells = [""] * len(questions)
        if pending is not None and pending[0] == invitation_id:
            cells = _answer_cells(pending[1], questions, choices)
            pending = next(by_family, None)
        first = rows[0]
        grades = sorted({row["group"] for row in rows if row["group"]}, key=_grade_order)
        yield [
            f"{first['guardian__given_name']} {first['guardian__family_name']}",
            str(languages.get(first["guardian__preferred_language"], "")),
            ", ".join(grades),
            channels.get(first["channel"], first["channel"]),
            str(statuses.get(first["status"], first["status"])),
            *cells,
        ]


def _grade_order(grade: str):
    return (0, int(grade), grade) if grade.isdigit() else (1, 0, grade)


def count_rows(results: SurveyResults) -> Iterator[list[str]]:
    """The per-question counts as a table: a header, then for each question a row per choice
    (or value), the written answers, the families that answered and those that skipped."""
    yield [
        gettext("Question"),
        gettext("Question text"),
        gettext("Answer"),
        gettext("Families"),
        gettext("Share of the families that answered (%)"),
    ]
    for question in results.questions:
        start = [str(question.position), question.text]
        for option in question.options:
            share = "" if option.share is None else f"{option.share * 100:.1f}"
            yield [*start, option.label, str(option.count), share]
        if not question.options:
            yield [*start, gettext("Written answers"), str(question.written), ""]
        if question.mean is not None:
            yield [*start, gettext("Average (1 to 5)"), f"{question.mean:.2f}", ""]
        yield [*start, gettext("Answered"), str(question.answered), ""]
        yield [*start, gettext("Skipped"), str(question.skipped), ""]
