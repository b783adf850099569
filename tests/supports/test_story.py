"""The support directory's story as the issue tells it: a counselor publishes a service in
English and Somali; a Somali-speaking family finds it by search and asks for help; the counselor
answers; a teacher cannot reach the request by page, API or search; a family with only SMS finds
the service by texting."""

import pytest
from django.urls import reverse

from messaging.channels.sms import MemoryBackend, twilio_signature
from supports.models import HelpRequest, SupportService
from tests.factories import SupportCategoryFactory

pytestmark = pytest.mark.django_db


def test_a_service_in_somali_found_asked_answered_and_kept_from_teachers(
    always_open, client, settings, celery_eager, django_capture_on_commit_callbacks
):
    world = always_open
    settings.SMS_BACKEND = "memory"
    settings.TWILIO_AUTH_TOKEN = "story-token"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    MemoryBackend.outbox.clear()
    category = SupportCategoryFactory(name_en="Food", name_so="Cunto", sms_keywords="FOOD CUNTO")

    # The counselor writes the service in English and Somali, and publishes it.
    client.force_login(world.users["counselor"])
    client.post(
        reverse("support_workspace:new"),
        {
            "place": f"school:{world.north.pk}",
            "category": category.pk,
            "answerers": [world.counselor.pk],
            "offered_in": ["en", "so"],
            "title_en": "Food pantry",
            "summary_en": "Free groceries every Friday.",
        },
    )
    service = SupportService.objects.get()
    client.post(
        reverse("support_workspace:edit", args=[service.pk]) + "?language=so",
        {
            "place": f"school:{world.north.pk}",
            "category": category.pk,
            "answerers": [world.counselor.pk],
            "offered_in": ["en", "so"],
            "title_en": "Food pantry",
            "summary_en": "Free groceries every Friday.",
            "title_so": "Bakhaarka cuntada",
            "summary_so": "Cunto bilaash ah Jimce kasta.",
        },
    )
    client.post(reverse("support_workspace:publish", args=[service.pk]))
    service.refresh_from_db()
    assert (service.status, service.title_so) == ("published", "Bakhaarka cuntada")

    # A Somali-speaking mother finds it by a Somali word and asks for help.
    world.parent.preferred_language = "so"
    world.parent.save()
    client.force_login(world.users["parent"])
    found = client.get(reverse("supports:directory"), {"q": "cuntada"}).content.decode()
    assert "Bakhaarka cuntada" in found
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(
            reverse("supports:ask", args=[service.pk]), {"note": "Waxaan u baahanahay cunto."}
        )
    help_request = HelpRequest.objects.get()
    assert asked["Location"] == reverse("messaging:thread", args=[help_request.thread_id])

    # The counselor answers in the confidential thread.
    client.force_login(world.users["counselor"])
    thread_url = reverse("messaging:thread", args=[help_request.thread_id])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(thread_url, {"body": "Come on Friday at 3.", "action": "send"})
    assert help_request.thread.messages.filter(author_staff=world.counselor).exists()

    # A teacher reaches it by no page, API call or search.
    client.force_login(world.users["teacher"])
    assert client.get(thread_url).status_code == 404
    assert client.get(f"/api/v1/threads/{help_request.thread_id}/").status_code == 404
    assert client.get(f"/api/v1/help-requests/{help_request.pk}/").status_code == 404
    searched = client.get(reverse("messaging:inbox"), {"q": "Friday"}).content.decode()
    assert thread_url not in searched

    # A father with only SMS finds the service by texting.
    MemoryBackend.outbox.clear()
    params = {
        "MessageSid": "SM" + "5" * 32,
        "From": str(world.ben_parent.phone),
        "To": "+16175550100",
        "Body": "FOOD",
    }
    url = settings.PUBLIC_BASE_URL + "/sms/twilio/inbound/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/sms/twilio/inbound/",
            params,
            HTTP_X_TWILIO_SIGNATURE=twilio_signature(url=url, params=params),
        )
    [answer] = MemoryBackend.outbox
    assert answer.to == world.ben_parent.phone and "Food pantry" in answer.body
