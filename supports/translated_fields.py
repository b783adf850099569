"""django-modeltranslation registrations of the support directory: every text a family reads,
in every family language (FAMILY_LANGUAGES)."""

from modeltranslation.translator import TranslationOptions, register

from supports.models import SupportCategory, SupportService


@register(SupportCategory)
class SupportCategoryTranslation(TranslationOptions):
    fields = ("name", "description")


@register(SupportService)
class SupportServiceTranslation(TranslationOptions):
    fields = SupportService.TRANSLATED_FIELDS
