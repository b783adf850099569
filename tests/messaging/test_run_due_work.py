import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from messaging.channels.sms import MemoryBackend
from messaging.models import Delivery
from messaging.services import thread_start


@pytest.mark.django_db
def test_run_due_work_sends_what_the_beat_would(
    always_open, settings, celery_eager, capsys, django_capture_on_commit_callbacks
):
    world = always_open
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):  # the hand-off was lost
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well.",
        )
    thread.messages.update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    call_command("run_due_work")
    assert "deliveries handed over again: 2" in capsys.readouterr().out
    assert len(MemoryBackend.outbox) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
