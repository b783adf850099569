"""django-modeltranslation registrations of surveys: every text a family reads, in every family
language (FAMILY_LANGUAGES)."""

from modeltranslation.translator import TranslationOptions, register

from surveys.models import Choice, Question, Survey


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "introduction", "thank_you")


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("text",)


@register(Choice)
class ChoiceTranslation(TranslationOptions):
    fields = ("text",)
