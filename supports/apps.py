from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supports"
    verbose_name = _("Support services")

    def ready(self) -> None:
        from messaging import inbound
        from supports import followup_tasks  # noqa: F401 (not a `tasks` module: Celery is told)
        from supports.sms import follow_up_expected, sms_answer

        handler = ("directory", sms_answer)  # SERVICES, categories, follow-up answers
        if handler not in inbound.inbound_handlers:
            inbound.inbound_handlers.append(handler)
        if follow_up_expected not in inbound.answer_expected:
            inbound.answer_expected.append(follow_up_expected)
