"""Surveys answered by hand with known numbers, shared by the results tests (selectors, pages,
API). Every figure the tests check is worked out in the docstrings here."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from portal.models import Guardian, Section
from surveys.models import Answer, Choice, Invitation, Question, Survey, respondent_key
from tests.factories import (
    AnswerFactory,
    ChoiceFactory,
    GuardianFactory,
    GuardianLinkFactory,
    InvitationFactory,
    QuestionFactory,
    StudentFactory,
    SurveyFactory,
)
from tests.world import World

# 17:00 in New York (North's time zone), so that three completions fall on the next day in UTC
# but on the same school day.
SENT_AT = datetime.datetime(2026, 3, 2, 22, 0, tzinfo=datetime.UTC)


@dataclass
class Conference:
    """A named survey of North's teacher to eight families, five questions.

    family  language  children (grade, class)        invited -> completed after
    lan     vi        4 math                         30 min
    jorge   es        4 math                         5 h
    rosa    es        3 art                          30 h
    minh    vi        3 art                          started only
    parent  en        Ana 5 math                     invited only
    ben     en        Ben 5 art                      invited only
    sofia   es        3 art and 4 math               10 min
    hodan   so        a child at South only          2 h

    invited 8, started 6, completed 5, in the first hour 2 (lan, sofia), in the first day 4
    (lan, jorge, sofia, hodan); by school day (New York) 4 on March 2 and rosa on March 3.

    day (one choice): Monday lan, rosa; Tuesday jorge, hodan; Wednesday sofia; minh's SMS reply
        "maybe thursday" fit no choice and was kept as written. Answered 6.
    laptop (yes/no): yes lan, rosa, sofia; no jorge, hodan. Answered 5.
    wish (short text): lan "Cảm ơn cô" (vi), rosa "Más tarea, por favor" (es); jorge skipped.
    help (several choices): lan Homework + Food, jorge Food, sofia Transport; rosa skipped.
    rating (1 to 5): lan 5, jorge 4, rosa 3, sofia 5: mean 4.25.
    """

    survey: Survey
    day: Question
    laptop: Question
    wish: Question
    help: Question
    rating: Question
    monday: Choice
    tuesday: Choice
    wednesday: Choice
    homework: Choice
    food: Choice
    transport: Choice
    families: dict[str, Guardian]
    invitations: dict[str, Invitation]


def family(world: World, name: str, language: str, children: list[tuple[str, Section]]):
    guardian = GuardianFactory(
        given_name=name.title(), family_name="Family", preferred_language=language
    )
    for grade, section in children:
        student = StudentFactory(school=section.school, grade=grade, given_name=f"{name}'s child")
        section.students.add(student)
        GuardianLinkFactory(guardian=guardian, student=student)
    return guardian


def invite(survey: Survey, guardian: Guardian, *, completed_after=None, started=False):
    """An invitation sent at SENT_AT; completed `completed_after` later, or only started."""
    invitation = InvitationFactory(survey=survey, guardian=guardian)
    fields = {"invited_at": SENT_AT}
    if completed_after is not None:
        fields.update(
            status="completed",
            started_at=SENT_AT + completed_after / 2,
            completed_at=SENT_AT + completed_after,
        )
    elif started:
        fields.update(status="started", started_at=SENT_AT + datetime.timedelta(minutes=5))
    Invitation.objects.filter(pk=invitation.pk).update(**fields)
    invitation.refresh_from_db()
    return invitation


def answer(invitation: Invitation, question: Question, **given) -> list[Answer]:
    """A named family's answer: `choices=[...]`, `value=`, `text=`, or `is_skipped=True`."""
    common = {
        "question": question,
        "invitation": invitation,
        "respondent": respondent_key(invitation.token),
        "language": invitation.guardian.preferred_language,
    }
    choices = given.pop("choices", [])
    if choices:
        return [AnswerFactory(choice=choice, **common) for choice in choices]
    return [AnswerFactory(**common, **given)]


def conference(world: World) -> Conference:
    survey = SurveyFactory(
        school=world.north, created_by=world.teacher, title_en="Conference week", sent_at=SENT_AT
    )
    day = QuestionFactory(survey=survey, position=1, kind="single_choice", text_en="Which day?")
    monday, tuesday, wednesday = (
        ChoiceFactory(question=day, position=number, text_en=name, text_es=spanish)
        for number, (name, spanish) in enumerate(
            [("Monday", "Lunes"), ("Tuesday", "Martes"), ("Wednesday", "Miércoles")], 1
        )
    )
    laptop = QuestionFactory(survey=survey, position=2, kind="yes_no", text_en="A laptop at home?")
    wish = QuestionFactory(survey=survey, position=3, kind="short_text", text_en="Any wish?")
    help_ = QuestionFactory(
        survey=survey, position=4, kind="multiple_choice", text_en="What would help?"
    )
    homework, food, transport = (
        ChoiceFactory(question=help_, position=number, text_en=name)
        for number, name in enumerate(["Homework", "=Food", "Transport"], 1)
    )
    rating = QuestionFactory(survey=survey, position=5, kind="scale", text_en="How is school?")
    far = StudentFactory(school=world.south, grade="7")
    families = {
        "lan": family(world, "lan", "vi", [("4", world.math)]),
        "jorge": family(world, "jorge", "es", [("4", world.math)]),
        "rosa": family(world, "rosa", "es", [("3", world.art)]),
        "minh": family(world, "minh", "vi", [("3", world.art)]),
        "parent": world.parent,
        "ben": world.ben_parent,
        "sofia": family(world, "sofia", "es", [("3", world.art), ("4", world.math)]),
        "hodan": GuardianFactory(given_name="Hodan", family_name="Family", preferred_language="so"),
    }
    GuardianLinkFactory(guardian=families["hodan"], student=far)
    minutes = datetime.timedelta(minutes=1)
    hours = datetime.timedelta(hours=1)
    invitations = {
        "lan": invite(survey, families["lan"], completed_after=30 * minutes),
        "jorge": invite(survey, families["jorge"], completed_after=5 * hours),
        "rosa": invite(survey, families["rosa"], completed_after=30 * hours),
        "minh": invite(survey, families["minh"], started=True),
        "parent": invite(survey, families["parent"]),
        "ben": invite(survey, families["ben"]),
        "sofia": invite(survey, families["sofia"], completed_after=10 * minutes),
        "hodan": invite(survey, families["hodan"], completed_after=2 * hours),
    }
    given = invitations
    answer(given["lan"], day, choices=[monday])
    answer(given["lan"], laptop, value="yes")
    answer(given["lan"], wish, text="Cảm ơn cô")
    answer(given["lan"], help_, choices=[homework, food])
    answer(given["lan"], rating, value="5")
    answer(given["jorge"], day, choices=[tuesday])
    answer(given["jorge"], laptop, value="no")
    answer(given["jorge"], wish, is_skipped=True)
    answer(given["jorge"], help_, choices=[food])
    answer(given["jorge"], rating, value="4")
    answer(given["rosa"], day, choices=[monday])
    answer(given["rosa"], laptop, value="yes")
    answer(given["rosa"], wish, text="Más tarea, por favor")
    answer(given["rosa"], help_, is_skipped=True)
    answer(given["rosa"], rating, value="3")
    answer(given["minh"], day, text="maybe thursday")
    answer(given["sofia"], day, choices=[wednesday])
    answer(given["sofia"], laptop, value="yes")
    answer(given["sofia"], help_, choices=[transport])
    answer(given["sofia"], rating, value="5")
    answer(given["hodan"], day, choices=[tuesday])
    answer(given["hodan"], laptop, value="no")
    return Conference(
        survey=survey,
        day=day,
        laptop=laptop,
        wish=wish,
        help=help_,
        rating=rating,
        monday=monday,
        tuesday=tuesday,
        wednesday=wednesday,
        homework=homework,
        food=food,
        transport=transport,
        families=families,
        invitations=invitations,
    )


@dataclass
class Anonymous:
    survey: Survey
    fair: Question  # yes / no
    idea: Question  # short text


def anonymous_survey(world: World, groups: dict[tuple[str, str], int]) -> Anonymous:
    """An anonymous survey answered by `groups[(language, grade)]` families each: every family
    says yes to "fair" but the first of each group, who says no; and writes an idea."""
    survey = SurveyFactory(
        school=world.north,
        created_by=world.teacher,
        title_en="Is school fair?",
        is_anonymous=True,
        sent_at=SENT_AT,
    )
    fair = QuestionFactory(survey=survey, position=1, kind="yes_no", text_en="Is it fair?")
    idea = QuestionFactory(survey=survey, position=2, kind="short_text", text_en="An idea?")
    day = SENT_AT.replace(hour=0, minute=0, second=0)
    for (language, grade), count in groups.items():
        for number in range(count):
            invitation = invite(
                survey,
                GuardianFactory(preferred_language=language),
                completed_after=datetime.timedelta(hours=2),
            )
            common = {
                "invitation": None,
                "respondent": respondent_key(invitation.token),
                "language": language,
                "grade": grade,
                "created_at": day,
            }
            AnswerFactory(question=fair, value="no" if number == 0 else "yes", **common)
            AnswerFactory(question=idea, text=f"idea {language} {grade} {number}", **common)
    return Anonymous(survey=survey, fair=fair, idea=idea)
