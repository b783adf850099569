"""django-modeltranslation registrations of messaging (messaging/translation.py, the name it
would look for, holds the machine-translation providers; settings point here instead)."""

from modeltranslation.translator import TranslationOptions, register

from messaging.models import MessageTemplate


@register(MessageTemplate)
class MessageTemplateTranslation(TranslationOptions):
    fields = ("subject", "body")
