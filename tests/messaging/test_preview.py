""" "Preview as the family sees it": the text each family will receive, in its language and
with its SMS cost, before anything is sent; translation never runs in the request."""

import pytest
from django.urls import reverse

from messaging.broadcasts import broadcast_audience, broadcast_preview
from messaging.models import Delivery, Message
from messaging.services import thread_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(world, celery_eager, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "memory"
    world.parent.preferred_language = "es"
    world.parent.save()
    with django_capture_on_commit_callbacks(execute=True):
        return thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Ana's math",
            body="Ana did well.",
        )


def test_teacher_previews_a_reply_in_the_familys_language_and_nothing_is_sent(
    world, client, conversation, fake_libretranslate
):
    client.force_login(world.users["teacher"])
    messages_before, deliveries_before = Message.objects.count(), Delivery.objects.count()
    page = client.post(
        reverse("messaging:thread", args=[conversation.pk]),
        {"body": "Ana needs her calculator tomorrow.", "action": "preview"},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{world.teacher} (North Elementary): [en-&gt;es] Ana needs her calculator" in html
    assert 'lang="es"' in html and "Machine translation" in html
    assert Message.objects.count() == messages_before
    assert Delivery.objects.count() == deliveries_before


def test_a_preview_is_translated_once_however_often_it_is_asked(
    world, client, conversation, fake_libretranslate
):
    client.force_login(world.users["teacher"])
    url = reverse("messaging:thread", args=[conversation.pk])
    draft = {"body": "The field trip is on Friday.", "action": "preview"}
    client.post(url, draft)
    asked = len(fake_libretranslate.translations())
    fragment = client.post(url, draft, HTTP_X_REQUESTED_WITH="fetch")
    assert fragment.content.decode().lstrip().startswith('<section id="preview"')
    assert len(fake_libretranslate.translations()) == asked


def test_a_preview_waiting_for_its_translation_says_so_and_asks_to_be_refreshed(
    world, client, conversation, fake_libretranslate, celery_eager
):
    celery_eager.conf.task_always_eager = False  # the broker takes the task; no worker runs it
    client.force_login(world.users["teacher"])
    page = client.post(
        reverse("messaging:thread", args=[conversation.pk]),
        {"body": "See you at the conference.", "action": "preview"},
    ).content.decode()
    assert 'data-pending="1"' in page and "Translating" in page
    assert fake_libretranslate.translations() == []  # nothing translated in the request


def test_families_cannot_preview(world, client, conversation):
    client.force_login(world.users["parent"])
    response = client.post(
        reverse("messaging:thread", args=[conversation.pk]),
        {"body": "Hello", "action": "preview"},
    )
    assert response.status_code == 404
    assert not conversation.messages.filter(body="Hello").exists()


def test_an_announcement_preview_shows_each_language_and_its_sms_parts(
    world, fake_libretranslate, celery_eager
):
    world.ben_parent.preferred_language = "ar"
    world.ben_parent.save()
    audience = broadcast_audience(
        actor=world.users["school_admin"], school=world.north, kind="school"
    )
    previews = broadcast_preview(school=world.north, body="No school on Monday.", audience=audience)
    by_language = {preview.language: preview for preview in previews}
    assert set(by_language) == {"en", "ar"}
    assert by_language["en"].text == "North Elementary: No school on Monday."
    assert (by_language["en"].is_machine, by_language["en"].encoding) == (False, "GSM-7")
    assert by_language["ar"].text == "North Elementary: [en->ar] No school on Monday."
    assert by_language["ar"].segments == 1


def test_compose_page_shows_the_preview_after_the_audience_check(
    world, client, fake_libretranslate, celery_eager
):
    client.force_login(world.users["teacher"])
    page = client.post(
        reverse("broadcasts:compose"),
        {
            "school": world.north.pk,
            "audience": "section",
            "sections": [world.math.pk],
            "subject": "Field trip",
            "body": "Field trip on Friday.",
            "action": "check",
        },
    ).content.decode()
    assert "Preview as each family sees it" in page
    assert "North Elementary: Field trip on Friday." in page


def test_a_first_message_from_a_template_previews_the_human_translation(
    world, client, fake_libretranslate, celery_eager
):
    from messaging.models import MessageTemplate, Thread

    template = MessageTemplate.objects.create(
        school=world.north,
        name="Absence",
        subject_en="Absence",
        body_en="{student_first_name} was absent today.",
        subject_es="Ausencia",
        body_es="{student_first_name} faltó hoy a clases.",
    )
    world.parent.preferred_language = "es"
    world.parent.save()
    client.force_login(world.users["teacher"])
    page = client.post(
        reverse("messaging:new_thread", args=[world.ana.pk]) + f"?template={template.pk}",
        {
            "recipients": [str(world.parent.pk)],
            "subject": "Absence",
            "body": "Ana was absent today.",
            "template": template.pk,
            "action": "preview",
        },
    ).content.decode()
    assert "(North Elementary): Ana faltó hoy a clases." in page
    assert "Machine translation" not in page
    assert fake_libretranslate.translations() == []
    assert not Thread.objects.exists()
