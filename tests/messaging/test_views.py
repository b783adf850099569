"""The inbox, the thread page and writing a first message, as teachers and families use them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.models import MessageTranslation, Thread
from messaging.services import message_post, thread_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def conversation(world, eager, subject="Ana's math", family_writes=False):
    with eager(execute=True):
        thread = thread_start(
            actor=world.users["teacher"],
            student=world.ana,
            guardians=[world.parent],
            subject=subject,
            body="Hello from school",
        )
        if family_writes:
            message_post(actor=world.users["parent"], thread=thread, body="A question")
    return thread


def test_waiting_for_you_lists_unanswered_families_oldest_first(client, world, eager):
    answered = conversation(world, eager, "Answered", family_writes=True)
    first = conversation(world, eager, "First to wait", family_writes=True)
    second = conversation(world, eager, "Second to wait", family_writes=True)
    with eager(execute=True):
        message_post(actor=world.users["teacher"], thread=answered, body="Answer")
    client.force_login(world.users["teacher"])

    response = client.get(reverse("messaging:inbox"))

    assert [t.pk for t in response.context["waiting"]] == [first.pk, second.pk]
    page = response.content.decode()
    assert page.index("First to wait") < page.index("Second to wait")
    assert "Waiting" in page


def test_unread_counts_and_filters(client, world, eager):
    conversation(world, eager, "Math", family_writes=True)
    conversation(world, eager, "Field trip")
    client.force_login(world.users["teacher"])

    response = client.get(reverse("messaging:inbox"))
    threads = {t.subject: t for t in response.context["page"]}
    assert threads["Math"].unread == 1 and threads["Field trip"].unread == 0

    found = client.get(reverse("messaging:inbox"), {"q": "question"}).context["page"]
    assert [t.subject for t in found] == ["Math"]
    waiting = client.get(reverse("messaging:inbox"), {"waiting": "on"}).context["page"]
    assert [t.subject for t in waiting] == ["Math"]


def _inbox_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("key", ["teacher", "parent"])
def test_inbox_queries_are_the_same_for_10_and_200_threads(client, world, eager, key):
    client.force_login(world.users[key])
    for n in range(10):
        conversation(world, eager, f"Thread {n}", family_writes=True)
    with_10 = _inbox_queries(client, reverse("messaging:inbox"))
    for n in range(190):
        conversation(world, eager, f"More {n}", family_writes=n % 2 == 0)
    assert _inbox_queries(client, reverse("messaging:inbox")) == with_10


def test_thread_page_queries_do_not_grow_with_messages(client, world, eager):
    thread = conversation(world, eager)
    client.force_login(world.users["parent"])
    url = reverse("messaging:thread", args=[thread.pk])
    few = _inbox_queries(client, url)
    with eager(execute=True):
        for n in range(40):
            message_post(actor=world.users["teacher"], thread=thread, body=f"Update {n}")
    assert _inbox_queries(client, url) == few


def test_family_reads_the_translation_with_the_original_one_tap_away(client, world, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = conversation(world, eager)
    message = thread.messages.get()
    MessageTranslation.objects.create(
        message=message, language="es", text="Hola desde la escuela", provider="libretranslate"
    )
    client.force_login(world.users["parent"])

    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()

    assert "Hola desde la escuela" in page
    assert "<details" in page and "Hello from school" in page
    assert thread.participants.get(guardian=world.parent).last_read_at is not None


def test_an_internal_note_never_reaches_the_family(client, world, eager):
    thread = conversation(world, eager)
    with eager(execute=True):
        message_post(
            actor=world.users["teacher"], thread=thread, body="Dad seemed upset", is_internal=True
        )
    client.force_login(world.users["parent"])

    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    updates = client.get(reverse("messaging:thread_updates", args=[thread.pk])).content.decode()

    assert "Dad seemed upset" not in page and "Dad seemed upset" not in updates


@pytest.mark.parametrize("key", ["ben_parent", "barred_father", "south_teacher", "art_teacher"])
def test_someone_elses_thread_is_404(client, world, eager, key):
    thread = conversation(world, eager)
    client.force_login(world.users[key])

    for name in ("messaging:thread", "messaging:thread_updates"):
        assert client.get(reverse(name, args=[thread.pk])).status_code == 404
    assert (
        client.post(reverse("messaging:thread", args=[thread.pk]), {"body": "hi"}).status_code
        == 404
    )


def test_reply_from_the_page_and_new_messages_without_reload(client, world, eager):
    thread = conversation(world, eager)
    first_id = thread.messages.get().pk
    client.force_login(world.users["parent"])

    with eager(execute=True):
        response = client.post(reverse("messaging:thread", args=[thread.pk]), {"body": "Thank you"})
    assert response.status_code == 302

    updates = client.get(
        reverse("messaging:thread_updates", args=[thread.pk]), {"after": first_id}
    ).content.decode()
    assert "Thank you" in updates and "Hello from school" not in updates


def test_an_oversized_reply_is_refused_and_kept_in_the_form(client, world, eager):
    thread = conversation(world, eager)
    client.force_login(world.users["parent"])

    response = client.post(reverse("messaging:thread", args=[thread.pk]), {"body": "x" * 1601})

    assert response.status_code == 400
    assert thread.messages.count() == 1


def test_teacher_loops_in_the_counselor_from_the_page(client, world, eager):
    thread = conversation(world, eager)
    client.force_login(world.users["teacher"])

    with eager(execute=True):
        client.post(reverse("messaging:loop_in", args=[thread.pk]), {"staff": world.counselor.pk})

    client.force_login(world.users["parent"])
    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert f"{world.counselor} joined the conversation" in page


def test_family_writes_to_the_teacher_from_the_directory(client, world, eager):
    client.force_login(world.users["parent"])
    url = reverse("messaging:new_thread", args=[world.ana.pk])
    assert str(world.teacher) in client.get(url).content.decode()

    with eager(execute=True):
        response = client.post(
            url,
            {
                "recipients": [str(world.teacher.pk)],
                "subject": "Homework",
                "body": "What is due Friday?",
            },
        )

    thread = Thread.objects.get(subject="Homework")
    assert response["Location"] == reverse("messaging:thread", args=[thread.pk])
    client.force_login(world.users["teacher"])
    waiting = client.get(reverse("messaging:inbox")).context["waiting"]
    assert [t.pk for t in waiting] == [thread.pk]


def test_new_thread_about_someone_elses_child_is_404(client, world):
    client.force_login(world.users["parent"])
    assert client.get(reverse("messaging:new_thread", args=[world.ben.pk])).status_code == 404
    client.force_login(world.users["teacher"])
    assert client.get(reverse("messaging:new_thread", args=[world.cleo.pk])).status_code == 404


def test_a_family_flags_a_confusing_translation_and_staff_are_told(client, world, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = conversation(world, eager)
    message = thread.messages.get()
    MessageTranslation.objects.create(
        message=message, language="es", text="Hola", provider="libretranslate"
    )
    client.force_login(world.users["parent"])
    assert (
        "This translation is confusing"
        in client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    )

    client.post(reverse("messaging:translation_flag", args=[thread.pk, message.pk]))
    client.post(reverse("messaging:translation_flag", args=[thread.pk, message.pk]))

    assert MessageTranslation.objects.get(message=message).flagged_at is not None
    client.force_login(world.users["teacher"])
    inbox = client.get(reverse("messaging:inbox")).context["page"]
    assert [t.unread for t in inbox] == [1]  # one note, however often it was tapped
    page = client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    assert "confusing" in page
    client.force_login(world.users["parent"])
    assert (
        "Translation flagged"
        not in client.get(reverse("messaging:thread", args=[thread.pk])).content.decode()
    )
    client.force_login(world.users["ben_parent"])
    assert (
        client.post(reverse("messaging:translation_flag", args=[thread.pk, message.pk])).status_code
        == 404
    )
