"""Celery tasks of the help-request follow-up (supports.followup)."""

from celery import shared_task

from supports import followup


@shared_task(acks_late=True)
def help_requests_follow_up() -> int:
    """Every 15 minutes: asks the families whose request was closed HELP_FOLLOW_UP_DAYS ago
    whether they got the help they needed, once per closure. Safe to run twice."""
    return followup.help_requests_follow_up()
