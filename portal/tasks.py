from celery import shared_task

from portal.services import roster_import_run


@shared_task(acks_late=True)
def roster_import_task(roster_import_id: int) -> None:
    """Imports an uploaded bundle; running it again for a finished import does nothing."""
    roster_import_run(roster_import_id=roster_import_id)
