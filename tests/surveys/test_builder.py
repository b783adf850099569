"""Building a survey: a teacher drafts one for their own class (the announcements' audience rules),
writes questions a family can answer by text with one digit, and gets its texts into every family
language, from a person or from the machine (a suggestion until a person accepts it); a sent
survey no longer changes."""

import datetime

import pytest
from django.utils import timezone

from messaging.translation import TranslationUnavailable
from surveys import builder
from surveys.models import Survey, SurveyTranslationSuggestion
from surveys.services import SurveyError

pytestmark = pytest.mark.django_db


def draft(world, actor_key="teacher", **changes) -> Survey:
    arguments = {
        "school": world.north,
        "title": "Conference week",
        "introduction": "Two quick questions.",
        "thank_you": "Thank you!",
        "audience": "section",
        "sections": [world.math],
        **changes,
    }
    return builder.survey_save(actor=world.users[actor_key], **arguments)


def add(world, survey, kind="single_choice", text="Which day suits you?", **options):
    if kind == "single_choice":
        options.setdefault("choices", ["Monday", "Tuesday"])
    return builder.question_add(
        actor=world.users["teacher"], survey=survey, kind=kind, text=text, **options
    )


def texts_of(question) -> list[str]:
    return [choice.text_en for choice in question.choices.order_by("position")]


# ---- The survey -------------------------------------------------------------------------------


def test_a_teacher_drafts_a_survey_for_their_own_class(world):
    survey = draft(world)
    assert (survey.status, survey.created_by, survey.school) == (
        "draft",
        world.teacher,
        world.north,
    )
    assert (survey.title_en, survey.introduction_en) == ("Conference week", "Two quick questions.")
    assert list(survey.sections.all()) == [world.math]
    assert survey.by_sms and survey.on_web and not survey.is_anonymous


def test_a_teacher_cannot_ask_another_teachers_class_or_the_whole_school(world):
    with pytest.raises(SurveyError, match="your own classes"):
        draft(world, sections=[world.art])
    with pytest.raises(SurveyError, match="whole school"):
        draft(world, audience="school", sections=[])
    assert not Survey.objects.exists()


def test_a_school_admin_asks_the_whole_school(world):
    survey = draft(world, "school_admin", audience="school", sections=[world.art])
    assert survey.audience == "school"
    assert not survey.sections.exists()  # classes matter only to a class audience


def test_staff_of_another_school_and_families_cannot_make_its_surveys(world):
    for key in ("south_teacher", "parent"):
        with pytest.raises(SurveyError, match="school's staff"):
            draft(world, key)


def test_a_survey_needs_a_title_a_channel_and_a_closing_time_ahead(world):
    with pytest.raises(SurveyError, match="title"):
        draft(world, title="  ")
    with pytest.raises(SurveyError, match="how families answer"):
        draft(world, by_sms=False, on_web=False)
    with pytest.raises(SurveyError, match="closing time ahead"):
        draft(world, closes_at=timezone.now() - datetime.timedelta(hours=1))
    soon = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(SurveyError, match="after the opening time"):
        draft(world, opens_at=soon, closes_at=soon - datetime.timedelta(hours=1))
    with pytest.raises(SurveyError, match="reminder"):
        draft(world, reminder_after_hours=0)
    assert not Survey.objects.exists()


def test_another_teacher_cannot_change_the_survey_but_the_school_admin_can(world):
    survey = draft(world)
    with pytest.raises(SurveyError, match="not one of yours"):
        builder.survey_save(
            actor=world.users["art_teacher"],
            survey=survey,
            school=world.north,
            title="Mine now",
            audience="section",
            sections=[world.art],
        )
    builder.survey_save(
        actor=world.users["school_admin"],
        survey=survey,
        school=world.north,
        title="Conference week, corrected",
        audience="section",
        sections=[world.math],
    )
    survey.refresh_from_db()
    assert survey.title_en == "Conference week, corrected"
    assert survey.created_by == world.teacher


def test_a_sent_survey_can_no_longer_be_changed(world):
    survey = draft(world)
    question = add(world, survey)
    Survey.objects.filter(pk=survey.pk).update(status="open")
    with pytest.raises(SurveyError, match="was sent"):
        draft(world, survey=survey, title="Changed after sending")
    with pytest.raises(SurveyError, match="was sent"):
        add(world, survey, kind="yes_no", text="Another one?")
    with pytest.raises(SurveyError, match="was sent"):
        builder.question_remove(actor=world.users["teacher"], question=question)
    survey.refresh_from_db()
    assert survey.title_en == "Conference week" and survey.questions.count() == 1


def test_changing_the_english_title_clears_its_translations_only(world):
    survey = draft(world)
    survey.title_es, survey.introduction_es = "Semana de reuniones", "Dos preguntas rápidas."
    survey.save()
    draft(world, survey=survey, title="Conference days")
    survey.refresh_from_db()
    assert survey.title_en == "Conference days" and survey.title_es == ""
    assert survey.introduction_es == "Dos preguntas rápidas."


# ---- Questions and choices --------------------------------------------------------------------


def test_a_one_choice_question_has_two_to_nine_choices_numbered_in_order(world):
    survey = draft(world)
    with pytest.raises(SurveyError, match="between 2 and 9 choices"):
        add(world, survey, choices=["Monday"])
    with pytest.raises(SurveyError, match="between 2 and 9 choices"):
        add(world, survey, choices=[f"Day {n}" for n in range(1, 11)])
    with pytest.raises(SurveyError, match="say the same"):
        add(world, survey, choices=["Monday", "monday"])
    question = add(world, survey, choices=["Monday", "", " Tuesday ", "Wednesday"])
    assert texts_of(question) == ["Monday", "Tuesday", "Wednesday"]
    assert list(question.choices.values_list("position", flat=True)) == [1, 2, 3]


def test_scale_yes_no_and_short_text_questions_take_no_choices(world):
    survey = draft(world)
    for kind in ("scale", "yes_no", "short_text"):
        with pytest.raises(SurveyError, match="no choices of your own"):
            add(world, survey, kind=kind, text="How was it?", choices=["Good", "Bad"])
    question = add(world, survey, kind="scale", text="How was it?")
    assert question.kind == "scale" and not question.choices.exists()


def test_a_several_choices_question_is_refused_in_a_survey_by_text_only(world):
    by_text = draft(world, on_web=False)
    with pytest.raises(SurveyError, match="only be answered on the web"):
        add(world, by_text, kind="multiple_choice", choices=["Math", "Art"])
    both = draft(world)
    add(world, both, kind="multiple_choice", choices=["Math", "Art"])
    with pytest.raises(SurveyError, match="keep the web"):
        draft(world, survey=both, on_web=False)
    both.refresh_from_db()
    assert both.on_web


def test_questions_move_and_a_removed_one_leaves_no_gap(world):
    survey = draft(world)
    day = add(world, survey)
    laptop = add(world, survey, kind="yes_no", text="Do you have a laptop?")
    wish = add(world, survey, kind="short_text", text="Anything else?", is_required=False)
    teacher = world.users["teacher"]

    builder.question_move(actor=teacher, question=wish, position=1)
    assert list(survey.questions.order_by("position")) == [wish, day, laptop]
    builder.question_move(actor=teacher, question=day, position=99)  # stops at the end
    assert list(survey.questions.order_by("position")) == [wish, laptop, day]

    builder.question_remove(actor=teacher, question=laptop)
    assert list(survey.questions.order_by("position").values_list("pk", "position")) == [
        (wish.pk, 1),
        (day.pk, 2),
    ]


def test_editing_choices_keeps_the_translations_of_the_ones_kept(world):
    survey = draft(world)
    question = add(world, survey, choices=["Monday", "Tuesday", "Wednesday"])
    spanish_choices = ["Lunes", "Martes", "Mié"]
    for choice, spanish in zip(question.choices.order_by("position"), spanish_choices, strict=True):
        choice.text_es = spanish
        choice.save()
    question.text_es = "¿Qué día le conviene?"
    question.save()

    builder.question_save(
        actor=world.users["teacher"],
        question=question,
        kind="single_choice",
        text="Which day suits you?",
        is_required=True,
        choices=["Wednesday", "Monday", "Friday"],
    )
    choices = list(question.choices.order_by("position"))
    assert [(c.position, c.text_en, c.text_es) for c in choices] == [
        (1, "Wednesday", "Mié"),
        (2, "Monday", "Lunes"),
        (3, "Friday", ""),
    ]
    question.refresh_from_db()
    assert question.text_es == "¿Qué día le conviene?"  # its words did not change


# ---- Translations -----------------------------------------------------------------------------


def test_a_person_writing_a_language_takes_the_machine_mark_off_it(world):
    survey = draft(world)
    question = add(world, survey)
    survey.title_es, survey.machine_languages = "Semana (máquina)", ["es", "vi"]
    survey.save()
    builder.survey_translation_save(
        actor=world.users["teacher"],
        survey=survey,
        language="es",
        texts={"title": "Semana de reuniones", f"question-{question.pk}": "¿Qué día?"},
    )
    survey.refresh_from_db()
    question.refresh_from_db()
    assert (survey.title_es, question.text_es) == ("Semana de reuniones", "¿Qué día?")
    assert survey.machine_languages == ["vi"]

    builder.survey_translation_save(
        actor=world.users["teacher"], survey=survey, language="vi", texts={}, is_reviewed=True
    )
    survey.refresh_from_db()
    assert survey.machine_languages == []


def test_saving_a_language_unchanged_keeps_it_marked_machine_translated(world):
    survey = draft(world)
    survey.title_es, survey.machine_languages = "Semana (máquina)", ["es"]
    survey.save()
    builder.survey_translation_save(
        actor=world.users["teacher"],
        survey=survey,
        language="es",
        texts={"title": "Semana (máquina)"},
    )
    survey.refresh_from_db()
    assert survey.machine_languages == ["es"]


def test_the_default_language_is_not_a_translation(world):
    survey = draft(world)
    with pytest.raises(SurveyError, match="families' languages"):
        builder.survey_translation_save(
            actor=world.users["teacher"], survey=survey, language="en", texts={"title": "X"}
        )


@pytest.fixture
def suggest(world, celery_eager, fake_libretranslate, django_capture_on_commit_callbacks):
    def ask(survey, language="es"):
        with django_capture_on_commit_callbacks(execute=True):
            builder.survey_translation_suggest(
                actor=world.users["teacher"], survey=survey, language=language
            )
        return SurveyTranslationSuggestion.objects.get(survey=survey, language=language)

    return ask


def test_a_suggestion_translates_every_text_in_one_batch_and_waits_for_a_person(
    world, suggest, fake_libretranslate
):
    survey = draft(world)
    question = add(world, survey)
    suggestion = suggest(survey)

    (asked,) = fake_libretranslate.translations()
    assert (asked["source"], asked["target"]) == ("en", "es")
    texts = ["Conference week", "Two quick questions.", "Thank you!", "Which day suits you?"]
    assert sorted(asked["q"]) == sorted([*texts, "Monday", "Tuesday"])
    monday = question.choices.get(position=1)
    assert suggestion.status == "ready"
    assert suggestion.texts["title"] == "[en->es] Conference week"
    assert suggestion.texts[f"choice-{monday.pk}"] == "[en->es] Monday"
    survey.refresh_from_db()
    assert survey.title_es == "" and survey.machine_languages == []  # only a suggestion yet


def test_accepting_fills_what_nobody_wrote_and_marks_the_language(world, suggest):
    survey = draft(world)
    question = add(world, survey)
    survey.title_es = "Semana de reuniones"  # a person wrote it
    survey.save()
    suggestion = suggest(survey)

    builder.survey_translation_accept(actor=world.users["teacher"], suggestion=suggestion)
    survey.refresh_from_db()
    question.refresh_from_db()
    assert survey.title_es == "Semana de reuniones"
    assert survey.thank_you_es == "[en->es] Thank you!"
    assert question.text_es == "[en->es] Which day suits you?"
    assert texts_of_language(question, "es") == ["[en->es] Monday", "[en->es] Tuesday"]
    assert survey.machine_languages == ["es"]
    assert not SurveyTranslationSuggestion.objects.exists()


def texts_of_language(question, language) -> list[str]:
    column = builder.column("text", language)
    return list(question.choices.order_by("position").values_list(column, flat=True))


def test_accepting_leaves_out_a_text_whose_english_changed_since(world, suggest):
    survey = draft(world)
    question = add(world, survey)
    suggestion = suggest(survey)
    builder.question_save(
        actor=world.users["teacher"],
        question=question,
        kind="single_choice",
        text="Which evening suits you?",
        is_required=True,
        choices=["Monday", "Tuesday"],
    )
    builder.survey_translation_accept(actor=world.users["teacher"], suggestion=suggestion)
    question.refresh_from_db()
    assert question.text_es == ""
    assert texts_of_language(question, "es") == ["[en->es] Monday", "[en->es] Tuesday"]


def test_discarding_a_suggestion_leaves_the_texts_alone(world, suggest):
    survey = draft(world)
    suggestion = suggest(survey)
    builder.survey_translation_discard(actor=world.users["teacher"], suggestion=suggestion)
    survey.refresh_from_db()
    assert survey.title_es == "" and not SurveyTranslationSuggestion.objects.exists()


def test_a_provider_that_does_not_answer_leaves_the_suggestion_failed(
    world, suggest, fake_libretranslate
):
    fake_libretranslate.fail_with = 503
    survey = draft(world)
    suggestion = suggest(survey)
    assert suggestion.status == "failed" and suggestion.texts == {}
    with pytest.raises(SurveyError, match="not ready"):
        builder.survey_translation_accept(actor=world.users["teacher"], suggestion=suggestion)


def test_another_teacher_cannot_ask_for_or_accept_a_suggestion(world, suggest):
    survey = draft(world)
    suggestion = suggest(survey)
    art = world.users["art_teacher"]
    with pytest.raises(SurveyError, match="not one of yours"):
        builder.survey_translation_suggest(actor=art, survey=survey, language="vi")
    with pytest.raises(SurveyError, match="not one of yours"):
        builder.survey_translation_accept(actor=art, suggestion=suggestion)
    survey.refresh_from_db()
    assert survey.title_es == ""


# ---- The machine, when a survey is sent -------------------------------------------------------


def test_the_machine_fills_only_empty_texts_of_the_languages_asked(world, fake_libretranslate):
    survey = draft(world)
    question = add(world, survey)
    survey.title_vi = "Tuần họp phụ huynh"
    survey.save()

    filled = builder.survey_machine_translate(survey=survey, languages=["vi", "es", "en"])
    assert filled == ["vi", "es"]
    assert [body["target"] for body in fake_libretranslate.translations()] == ["vi", "es"]
    survey.refresh_from_db()
    question.refresh_from_db()
    assert survey.title_vi == "Tuần họp phụ huynh"
    assert survey.introduction_vi == "[en->vi] Two quick questions."
    assert question.text_es == "[en->es] Which day suits you?"
    assert survey.machine_languages == ["vi", "es"]
    assert survey.title_ar == ""  # not asked

    assert builder.survey_machine_translate(survey=survey, languages=["es"]) == []  # all there


def test_the_machine_down_raises_and_changes_nothing(world, fake_libretranslate):
    fake_libretranslate.fail_with = 503
    survey = draft(world)
    with pytest.raises(TranslationUnavailable):
        builder.survey_machine_translate(survey=survey, languages=["es"])
    survey.refresh_from_db()
    assert survey.title_es == "" and survey.machine_languages == []


def test_no_machine_set_up_translates_nothing(world, settings):
    settings.TRANSLATION_PROVIDER = "none"
    survey = draft(world)
    assert builder.survey_machine_translate(survey=survey, languages=["es"]) == []
    survey.refresh_from_db()
    assert survey.title_es == "" and survey.machine_languages == []
