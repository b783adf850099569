from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "supports"
    verbose_name = _("Support services")

    def ready(self) -> None:
        from messaging import inbound
        from supports import followup_tasks  # noqa: F401 (not a `tasks` module: Celery is told)
        from supports.sms import sms_answer

        if sms_answer not in inbound.inbound_handlers:  # the directory and follow-up by text
            inbound.inbound_handlers.append(sms_answer)
