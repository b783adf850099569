from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from messaging import delivery, inbound
        from messaging.models import Message
        from surveys import (  # noqa: F401 (not `tasks` modules: Celery is told here)
            builder_tasks,
            results_tasks,
        )
        from surveys.delivery_texts import survey_delivery_text, survey_email_subject
        from surveys.sms import sms_answer, yes_no_expected

        # A number in a survey's conversation answers it before anything else but keywords.
        handler = ("survey", sms_answer)
        if handler not in inbound.inbound_handlers:
            inbound.inbound_handlers.insert(0, handler)
        if yes_no_expected not in inbound.answer_expected:
            inbound.answer_expected.append(yes_no_expected)
        for event in (
            Message.Event.SURVEY_INVITATION,
            Message.Event.SURVEY_QUESTION,
            Message.Event.SURVEY_HINT,
            Message.Event.SURVEY_THANKS,
            Message.Event.SURVEY_REMINDER,
        ):
            delivery.event_texts[event] = survey_delivery_text
            delivery.event_subjects[event] = survey_email_subject
