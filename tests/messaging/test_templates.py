"""Message templates: people's translations reach families instead of machine ones, with each
family's placeholders filled safely."""

import pytest
from django.urls import reverse

from messaging.models import MessageTemplate, MessageTranslation, Thread
from messaging.services import template_fill, thread_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def absence_template(world):
    return MessageTemplate.objects.create(
        school=world.north,
        name="Absence",
        subject_en="Absence",
        body_en="{student_first_name} was absent today at {school}.",
        subject_es="Ausencia",
        body_es="{student_first_name} faltó hoy a clases en {school}.",
    )


def test_a_human_translation_is_used_where_there_is_one(
    world, absence_template, fake_libretranslate, celery_eager, django_capture_on_commit_callbacks
):
    world.parent.preferred_language = "es"
    world.parent.save()
    world.barred_father.student_links.update(may_receive_messages=True)
    world.barred_father.preferred_language = "vi"
    world.barred_father.save()
    body = template_fill(
        absence_template.body_en, student=world.ana, school=world.north, language="en"
    )

    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent, world.barred_father],
            subject="Absence",
            body=body,
            template=absence_template,
        )

    message = thread.messages.get()
    spanish = message.translations.get(language="es")
    assert spanish.text == "Ana faltó hoy a clases en North Elementary."
    assert (spanish.provider, spanish.is_machine) == ("person", False)
    vietnamese = message.translations.get(language="vi")
    assert vietnamese.is_machine  # no person translated it: the machine did
    assert [r["target"] for r in fake_libretranslate.translations()] == ["vi"]


def test_an_edited_template_text_is_machine_translated(
    world, absence_template, celery_eager, django_capture_on_commit_callbacks
):
    world.parent.preferred_language = "es"
    world.parent.save()
    with django_capture_on_commit_callbacks(execute=True):
        thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject="Absence",
            body="Ana left early today.",
            template=absence_template,
        )
    assert not MessageTranslation.objects.filter(provider="person").exists()


def test_placeholders_are_filled_plainly():
    from tests.factories import SchoolFactory, StudentFactory

    school = SchoolFactory(name="North")
    student = StudentFactory(school=school, given_name="Ana")

    text = template_fill(
        "{student_first_name} {school} {student_first_name.__class__} {other}",
        student=student,
        school=school,
        language="en",
    )

    assert text == "Ana North {student_first_name.__class__} {other}"


def test_compose_page_prefills_the_template_for_the_student(
    client, world, absence_template, celery_eager
):
    client.force_login(world.users["teacher"])
    url = reverse("messaging:new_thread", args=[world.ana.pk])

    page = client.get(url, {"template": absence_template.pk}).content.decode()

    assert "Ana was absent today at North Elementary." in page
    client.post(
        url,
        {
            "recipients": [str(world.parent.pk)],
            "subject": "Absence",
            "body": "Ana was absent today at North Elementary.",
            "template": absence_template.pk,
        },
    )
    assert Thread.objects.filter(subject="Absence").exists()


def test_school_admins_keep_their_schools_templates_only(client, world, absence_template):
    other = MessageTemplate.objects.create(
        school=world.south, name="South only", subject_en="x", body_en="y"
    )
    client.force_login(world.users["school_admin"])

    page = client.get(reverse("admin:messaging_messagetemplate_changelist")).content.decode()

    assert "Absence" in page and "South only" not in page
    assert (
        client.get(reverse("admin:messaging_messagetemplate_change", args=[other.pk])).status_code
        == 302
    )
