"""A class of families in three languages and a three-question survey to it, translated by people
into Spanish and Vietnamese: shared by the survey tests."""

from __future__ import annotations

from dataclasses import dataclass

from portal.models import Guardian
from surveys.models import Choice, Question, Survey
from tests.factories import GuardianFactory, GuardianLinkFactory, StudentFactory
from tests.world import World


@dataclass
class ClassSurvey:
    survey: Survey
    day: Question  # single choice: Monday, Tuesday, Wednesday
    laptop: Question  # yes / no
    wish: Question  # short text, optional
    lan: Guardian  # Vietnamese
    jorge: Guardian  # Spanish
    rosa: Guardian  # Spanish
    minh: Guardian  # Vietnamese
    parent: Guardian  # the world's English-speaking mother of Ana


def family(world: World, name: str, language: str, phone: str) -> Guardian:
    student = StudentFactory(school=world.north, given_name=f"{name}'s child", grade="4")
    world.math.students.add(student)
    guardian = GuardianFactory(
        given_name=name, preferred_language=language, phone=phone, wants_email=False
    )
    GuardianLinkFactory(guardian=guardian, student=student, is_primary_contact=True)
    return guardian


def class_survey(world: World, **options) -> ClassSurvey:
    """The math class's families and a draft survey to the class by SMS and web."""
    lan = family(world, "Lan", "vi", "+14155550101")
    jorge = family(world, "Jorge", "es", "+14155550102")
    rosa = family(world, "Rosa", "es", "+14155550103")
    minh = family(world, "Minh", "vi", "+14155550104")
    survey = Survey.objects.create(
        school=world.north,
        created_by=world.teacher,
        title_en="Conference week",
        title_es="Semana de reuniones",
        title_vi="Tuần họp phụ huynh",
        introduction_en="Three quick questions.",
        introduction_es="Tres preguntas rápidas.",
        introduction_vi="Ba câu hỏi nhanh.",
        thank_you_en="Thank you!",
        thank_you_es="¡Gracias!",
        thank_you_vi="Cảm ơn!",
        audience="section",
        **options,
    )
    survey.sections.add(world.math)
    day = Question.objects.create(
        survey=survey,
        position=1,
        kind="single_choice",
        text_en="Which day suits you?",
        text_es="¿Qué día le conviene?",
        text_vi="Ngày nào phù hợp với bạn?",
    )
    days = [
        ("Monday", "Lunes", "Thứ Hai"),
        ("Tuesday", "Martes", "Thứ Ba"),
        ("Wed", "Miér", "Thứ Tư"),
    ]
    for position, (en, es, vi) in enumerate(days, start=1):
        Choice.objects.create(question=day, position=position, text_en=en, text_es=es, text_vi=vi)
    laptop = Question.objects.create(
        survey=survey,
        position=2,
        kind="yes_no",
        text_en="Do you have a laptop at home?",
        text_es="¿Tiene una computadora en casa?",
        text_vi="Nhà bạn có máy tính không?",
    )
    wish = Question.objects.create(
        survey=survey,
        position=3,
        kind="short_text",
        is_required=False,
        text_en="Anything else?",
        text_es="¿Algo más?",
        text_vi="Còn gì nữa không?",
    )
    return ClassSurvey(
        survey=survey,
        day=day,
        laptop=laptop,
        wish=wish,
        lan=lan,
        jorge=jorge,
        rosa=rosa,
        minh=minh,
        parent=world.parent,
    )
