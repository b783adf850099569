"""The messaging API (/api/v1/threads/): each role reads and writes exactly the threads the pages
give it, refusals carry the services' reasons, translations reach the family, and lists cost the
same number of queries whatever their length."""

import io

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from messaging.models import Message, Thread
from messaging.services import message_post, thread_start

pytestmark = pytest.mark.django_db

THREADS = "/api/v1/threads/"


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    """Each test counts its own requests, in memory (never in a Redis that CI shares)."""
    counts = LocMemCache("tests-messaging-api-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@pytest.fixture(autouse=True)
def eager(celery_eager, django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def client_for(world, key: str) -> APIClient:
    client = APIClient()
    client.force_login(world.users[key])
    return client


def start(world, eager, *, by="teacher", about=None, to=(), subject="Ana's math", **extra):
    with eager(execute=True):
        return thread_start(
            actor=world.users[by],
            student=about or world.ana,
            guardians=to or [world.parent],
            subject=subject,
            body="Hello from school",
            **extra,
        )


@pytest.fixture
def threads(world, eager) -> dict[str, Thread]:
    """One thread per pair of people in the world, by subject."""
    made = {
        "math": start(world, eager, subject="math"),
        "art": start(
            world, eager, by="art_teacher", about=world.ben, to=[world.ben_parent], subject="art"
        ),
        "south": start(
            world,
            eager,
            by="south_teacher",
            about=world.cleo,
            to=[world.cleo_parent],
            subject="south",
        ),
        "counseling": start(
            world,
            eager,
            by="counselor",
            about=world.ben,
            to=[world.ben_parent],
            subject="counseling",
        ),
    }
    with eager(execute=True):  # to the school office: its admins answer
        made["office"] = thread_start(
            actor=world.users["parent"], student=world.ana, subject="office", body="Bus times?"
        )
    return made


def subjects(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["subject"] for row in response.json()["results"]}


NORTH = {"math", "art", "counseling", "office"}
LISTED = {
    "parent": {"math", "office"},
    "barred_father": set(),
    "ben_parent": {"art", "counseling"},
    "cleo_parent": {"south"},
    "teacher": {"math"},
    "art_teacher": {"art"},
    "counselor": {"counseling"},
    "school_admin": {"office"},
    "district_admin": set(),
    "south_teacher": {"south"},
    "superuser": set(),
}
OPENS = {
    **LISTED,
    "school_admin": NORTH,  # every thread of their school, listed or not
    "district_admin": NORTH,
    "superuser": NORTH | {"south"},
}


@pytest.mark.parametrize("key", sorted(LISTED))
def test_each_role_lists_the_threads_it_takes_part_in(world, threads, key):
    assert subjects(client_for(world, key).get(THREADS)) == LISTED[key]


@pytest.mark.parametrize("key", sorted(OPENS))
def test_each_role_opens_exactly_the_threads_it_may_read(world, threads, key):
    client = client_for(world, key)
    for subject, thread in threads.items():
        expected = 200 if subject in OPENS[key] else 404
        for path in (f"{THREADS}{thread.pk}/", f"{THREADS}{thread.pk}/messages/"):
            assert client.get(path).status_code == expected, (subject, path)


def test_a_thread_shows_who_takes_part(world, threads):
    shown = client_for(world, "parent").get(f"{THREADS}{threads['office'].pk}/").json()
    assert shown["kind"] == "office"
    assert shown["student"] == world.ana.pk
    assert {(p["staff"], p["guardian"], p["name"]) for p in shown["participants"]} == {
        (world.school_admin.pk, None, str(world.school_admin)),
        (None, world.parent.pk, str(world.parent)),
    }


def test_a_family_can_neither_read_nor_write_in_another_familys_thread(world, threads):
    client = client_for(world, "ben_parent")
    math = threads["math"].pk
    assert client.get(f"{THREADS}{math}/").status_code == 404
    assert client.get(f"{THREADS}{math}/messages/").status_code == 404
    assert client.post(f"{THREADS}{math}/messages/", {"body": "hi"}).status_code == 404
    for action in ("read", "archive"):
        assert client.post(f"{THREADS}{math}/{action}/").status_code == 404
    assert (
        client.post(f"{THREADS}{math}/participants/", {"staff": world.teacher.pk}).status_code
        == 404
    )
    for forged in ("999999", "not-a-number"):
        assert client.get(f"{THREADS}{forged}/messages/").status_code == 404
    assert threads["math"].messages.count() == 1


def test_a_teachers_internal_note_never_reaches_the_family(world, threads):
    teacher, parent = client_for(world, "teacher"), client_for(world, "parent")
    url = f"{THREADS}{threads['math'].pk}/messages/"

    posted = teacher.post(url, {"body": "Dad seemed upset", "is_internal": True})

    assert posted.status_code == 201 and posted.json()["is_internal"] is True
    assert "Dad seemed upset" in teacher.get(url).content.decode()
    assert "Dad seemed upset" not in parent.get(url).content.decode()
    assert subjects(parent.get(THREADS, {"q": "upset"})) == set()  # not even found by search
    assert subjects(teacher.get(THREADS, {"q": "upset"})) == {"math"}
    unread = {row["subject"]: row["unread"] for row in parent.get(THREADS).json()["results"]}
    assert unread["math"] == 1  # the teacher's first message; the note does not count


def test_a_family_cannot_write_an_internal_note(world, threads):
    response = client_for(world, "parent").post(
        f"{THREADS}{threads['math'].pk}/messages/", {"body": "Secret", "is_internal": True}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Only staff can write internal notes."}


def test_a_family_message_waits_in_the_teachers_list_until_answered(world, threads, eager):
    parent, teacher = client_for(world, "parent"), client_for(world, "teacher")
    url = f"{THREADS}{threads['math'].pk}/messages/"
    assert subjects(teacher.get(THREADS, {"waiting": 1})) == set()

    with eager(execute=True):
        posted = parent.post(url, {"body": "What is due Friday?"})

    assert posted.status_code == 201
    assert posted.json()["author_guardian"] == world.parent.pk
    waiting = teacher.get(THREADS, {"waiting": 1}).json()["results"]
    assert [row["subject"] for row in waiting] == ["math"]
    assert waiting[0]["waiting_since"] == posted.json()["created_at"]
    assert waiting[0]["unread"] == 1

    with eager(execute=True):
        assert teacher.post(url, {"body": "The essay."}).status_code == 201
    assert subjects(teacher.get(THREADS, {"waiting": 1})) == set()
    assert subjects(parent.get(THREADS, {"q": "essay"})) == {"math"}


def test_threads_are_listed_newest_activity_first_and_filtered_by_student(world, threads, eager):
    with eager(execute=True):
        message_post(actor=world.users["parent"], thread=threads["math"], body="Newest")
    listed = client_for(world, "parent").get(THREADS).json()["results"]
    assert [row["subject"] for row in listed] == ["math", "office"]

    ben_parent = client_for(world, "ben_parent")
    assert subjects(ben_parent.get(THREADS, {"student": world.ben.pk})) == {"art", "counseling"}
    assert subjects(ben_parent.get(THREADS, {"student": world.ana.pk})) == set()
    assert ben_parent.get(THREADS, {"student": "ben"}).status_code == 400


def test_an_oversized_message_is_refused_with_the_reason(world, threads):
    response = client_for(world, "parent").post(
        f"{THREADS}{threads['math'].pk}/messages/", {"body": "x" * 1601}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A message can be at most 1600 characters; this one has 1601."
    }
    assert threads["math"].messages.count() == 1


def test_posting_translates_the_message_for_the_family(world, fake_libretranslate, eager):
    world.parent.preferred_language = "es"
    world.parent.save()
    thread = start(world, eager)
    teacher, parent = client_for(world, "teacher"), client_for(world, "parent")
    url = f"{THREADS}{thread.pk}/messages/"

    with eager(execute=True):
        posted = teacher.post(url, {"body": "Ana read a whole book."})
    assert posted.status_code == 201
    assert posted.json()["translation"] is None  # made after the answer

    shown = parent.get(url).json()["results"][-1]
    assert shown["body"] == "Ana read a whole book."
    assert shown["language"] == "en"
    assert shown["translation"] == {
        "language": "es",
        "text": "[en->es] Ana read a whole book.",
        "is_machine": True,
    }
    assert teacher.get(url).json()["results"][-1]["translation"] is None

    with eager(execute=True):
        parent.post(url, {"body": "Gracias, maestra."})
    answer = teacher.get(url).json()["results"][-1]
    assert answer["language"] == "es"
    assert answer["translation"]["text"] == "[es->en] Gracias, maestra."


def test_messages_after_an_id_for_polling(world, threads, eager):
    first = threads["math"].messages.get().pk
    with eager(execute=True):
        message_post(actor=world.users["parent"], thread=threads["math"], body="Thank you")
    response = client_for(world, "teacher").get(
        f"{THREADS}{threads['math'].pk}/messages/", {"after": first}
    )
    assert [row["body"] for row in response.json()["results"]] == ["Thank you"]


def test_staff_start_a_thread_with_families_they_may_write_to(world):
    teacher = client_for(world, "teacher")
    started = teacher.post(
        THREADS,
        {
            "subject": "Field trip",
            "body": "Permission slip",
            "student": world.ana.pk,
            "guardians": [world.parent.pk],
        },
        format="json",
    )
    assert started.status_code == 201, started.content
    assert started.json()["unread"] == 0
    assert subjects(client_for(world, "parent").get(THREADS)) == {"Field trip"}

    barred = teacher.post(
        THREADS,
        {
            "subject": "X",
            "body": "Y",
            "student": world.ana.pk,
            "guardians": [world.barred_father.pk],
        },
        format="json",
    )
    assert barred.json() == {
        "detail": f"{world.barred_father} may not receive messages about this student."
    }
    forged = teacher.post(
        THREADS,
        {"subject": "X", "body": "Y", "student": world.ben.pk, "guardians": [world.ben_parent.pk]},
        format="json",
    )
    assert forged.status_code == 400 and set(forged.json()) == {"student", "guardians"}
    colleague = teacher.post(
        THREADS,
        {
            "subject": "X",
            "body": "Y",
            "student": world.ana.pk,
            "guardians": [world.parent.pk],
            "staff": [world.counselor.pk],
        },
        format="json",
    )
    assert colleague.status_code == 400 and set(colleague.json()) == {"staff"}
    assert Thread.objects.count() == 1


def test_a_family_writes_to_the_office_or_to_someone_in_the_directory(world):
    parent = client_for(world, "parent")
    office = parent.post(
        THREADS, {"subject": "Bus", "body": "Bus times?", "student": world.ana.pk}, format="json"
    )
    assert office.status_code == 201, office.content
    assert office.json()["kind"] == "office"
    assert subjects(client_for(world, "school_admin").get(THREADS, {"waiting": 1})) == {"Bus"}

    teacher = parent.post(
        THREADS,
        {
            "subject": "Homework",
            "body": "Due?",
            "student": world.ana.pk,
            "staff": [world.teacher.pk],
        },
        format="json",
    )
    assert teacher.status_code == 201 and teacher.json()["kind"] == "direct"
    assert subjects(client_for(world, "teacher").get(THREADS, {"waiting": 1})) == {"Homework"}

    not_in_directory = parent.post(
        THREADS,
        {"subject": "X", "body": "Y", "student": world.ana.pk, "staff": [world.art_teacher.pk]},
        format="json",
    )
    assert not_in_directory.status_code == 400 and set(not_in_directory.json()) == {"staff"}
    no_child = parent.post(THREADS, {"subject": "X", "body": "Y"}, format="json")
    assert no_child.status_code == 400 and set(no_child.json()) == {"student"}
    no_subject = parent.post(
        THREADS, {"subject": " ", "body": "Y", "student": world.ana.pk}, format="json"
    )
    assert no_subject.json() == {"detail": "Give the conversation a subject."}


def test_a_teacher_loops_in_the_counselor_and_the_family_sees_who_joined(world, threads, eager):
    thread = threads["math"].pk
    with eager(execute=True):
        added = client_for(world, "teacher").post(
            f"{THREADS}{thread}/participants/", {"staff": world.counselor.pk}
        )
    assert added.status_code == 201
    assert added.json()["staff"] == world.counselor.pk

    parent = client_for(world, "parent")
    joined = parent.get(f"{THREADS}{thread}/messages/").json()["results"][-1]
    assert (joined["event"], joined["body"]) == ("joined", str(world.counselor))
    assert subjects(client_for(world, "counselor").get(THREADS)) == {"math", "counseling"}

    refused = parent.post(f"{THREADS}{thread}/participants/", {"staff": world.teacher.pk})
    assert refused.json() == {"detail": "Only staff can add someone to a conversation."}


def test_marking_read_and_archiving(world, threads, eager):
    thread = threads["math"].pk
    with eager(execute=True):
        message_post(actor=world.users["parent"], thread=threads["math"], body="A question")
    teacher, parent = client_for(world, "teacher"), client_for(world, "parent")
    assert teacher.get(f"{THREADS}{thread}/").json()["unread"] == 1

    assert teacher.post(f"{THREADS}{thread}/read/").status_code == 204
    assert teacher.get(f"{THREADS}{thread}/").json()["unread"] == 0

    refused = parent.post(f"{THREADS}{thread}/archive/")
    assert refused.json() == {"detail": "Only staff can archive a conversation."}
    assert teacher.post(f"{THREADS}{thread}/archive/").status_code == 204
    assert subjects(teacher.get(THREADS)) == set()
    assert subjects(teacher.get(THREADS, {"archived": 1})) == {"math"}
    assert subjects(parent.get(THREADS)) == {"office"}
    assert Message.objects.filter(thread=thread).count() == 2  # nothing is lost
    archived = parent.post(f"{THREADS}{thread}/messages/", {"body": "Hello?"})
    assert archived.json() == {"detail": "This conversation is archived."}


def test_a_staff_token_reads_and_writes(world, threads):
    out = io.StringIO()
    call_command("api_token", "teacher@example.org", stdout=out, stderr=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")

    assert subjects(client.get(THREADS)) == {"math"}
    url = f"{THREADS}{threads['math'].pk}/messages/"
    assert client.post(url, {"body": "From the dashboard"}).status_code == 201
    assert client.get(url).json()["count"] == 2
    assert client.get(f"{THREADS}{threads['art'].pk}/").status_code == 404

    assert APIClient().get(THREADS).status_code == 401


def _queries(client: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize("key", ["teacher", "parent"])
def test_the_thread_list_costs_the_same_for_10_and_100_threads(world, eager, key):
    client = client_for(world, key)
    for number in range(10):
        start(world, eager, subject=f"Thread {number}")
    with_10 = _queries(client, THREADS)
    for number in range(90):
        thread = start(world, eager, subject=f"More {number}")
        if number % 3 == 0:
            with eager(execute=True):
                message_post(actor=world.users["parent"], thread=thread, body="A question")
    assert client.get(THREADS).json()["count"] == 100
    assert _queries(client, THREADS) == with_10
    assert _queries(client, f"{THREADS}?waiting=1&q=question") == with_10
    # session and user 2 (and 3 to renew a staff session), access 2, then count, threads with
    # their unread counts, participants
    assert with_10 <= 10, with_10


@pytest.mark.parametrize("key", ["teacher", "parent"])
def test_the_message_list_costs_the_same_for_10_and_100_messages(world, eager, key):
    thread = start(world, eager)
    client = client_for(world, key)
    url = f"{THREADS}{thread.pk}/messages/"

    def write(count):
        with eager(execute=True):
            for number in range(count):
                message_post(actor=world.users["teacher"], thread=thread, body=f"Update {number}")

    write(9)
    with_10 = _queries(client, url)
    write(90)
    assert client.get(url).json()["count"] == 100
    assert _queries(client, url) == with_10
    # session and user 2 (and 3 to renew a staff session), access 2, then the thread, its
    # families, the family reader's language (families only), messages, their translations
    assert with_10 <= 11, with_10


def test_the_schema_describes_the_thread_endpoints_without_warnings(tmp_path):
    GENERATOR_STATS.reset()
    schema = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(schema))
    text = schema.read_text()
    for path in (
        "/api/v1/threads/:",
        "/api/v1/threads/{id}/:",
        "/api/v1/threads/{id}/messages/:",
        "/api/v1/threads/{id}/participants/:",
        "/api/v1/threads/{id}/read/:",
        "/api/v1/threads/{id}/archive/:",
    ):
        assert f"\n  {path}\n" in text, path
