"""Runs once what Celery beat runs on its schedule: scheduled announcements, check-ins, overdue
checks, the delivery sweeper, survey reminders and closing. For the embedded default (`make demo`
has no beat) and for running by hand; with a beat running there is no need."""

from django.core.management.base import BaseCommand

from messaging import broadcasts, delivery, inbound, services
from surveys import services as surveys


class Command(BaseCommand):
    help = "Run the portal's periodic work once (what Celery beat schedules)."

    def handle(self, *args, **options):
        sent = broadcasts.broadcasts_send_due()
        prompts = services.check_ins_run_due()
        nudged, escalated = services.threads_overdue_check()
        swept = delivery.deliveries_sweep()
        routed = inbound.inbound_sms_sweep()
        reminded = surveys.survey_reminders_send()
        closed = surveys.surveys_close_due()
        self.stdout.write(
            f"announcements sent: {sent}; check-ins posted: {prompts}; owners nudged: {nudged}; "
            f"backups joined: {escalated}; texts resumed after quiet hours: {swept['resumed']}; "
            f"deliveries handed over again: {swept['handed']}; recovered from dead workers: "
            f"{swept['recovered'] + swept['requeued']}; texts routed: {routed}; survey "
            f"reminders: {reminded}; surveys closed: {closed}"
        )
