"""Confidential help requests: a family asks a service for help and only the service's
counselors see it, in pages, API, search, loop-ins, reassigning and escalation."""

import datetime

import pytest
from django.urls import reverse

from messaging.channels.sms import MemoryBackend
from messaging.models import Thread
from messaging.services import (
    MessagingError,
    participant_add,
    thread_reassign,
    threads_overdue_check,
)
from portal import permissions
from supports.models import HelpRequest
from supports.services import (
    SupportError,
    help_request_assign,
    help_request_close,
    help_request_open,
    help_requests_for_counselor,
    services_for_family,
)
from tests.factories import SupportServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def food(always_open, settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    service = SupportServiceFactory(
        school=always_open.north, owner=always_open.counselor, title="Food pantry"
    )
    return service


@pytest.fixture
def request_open(always_open, food, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return help_request_open(
            actor=always_open.users["parent"],
            service=food,
            note="We are short on groceries this week.",
            student=always_open.ana,
        )


def test_a_family_asks_for_help_and_is_told_who_will_answer(always_open, request_open):
    world = always_open
    thread = request_open.thread
    assert thread.kind == "help_request"
    people = set(thread.participants.values_list("staff", "guardian"))
    assert people == {(world.counselor.pk, None), (None, world.parent.pk)}
    assert thread.messages.filter(author_guardian=world.parent).get().body.startswith("We are")
    [told] = [text for text in MemoryBackend.outbox if "Your request for help arrived" in text.body]
    assert told.to == world.parent.phone and str(world.counselor) in told.body
    assert told.body.startswith("Food pantry:")


@pytest.mark.parametrize(
    "key", ["teacher", "art_teacher", "school_admin", "district_admin", "superuser"]
)
def test_no_one_but_the_services_counselors_sees_the_request(
    always_open, request_open, client, key
):
    thread = request_open.thread
    user = always_open.users[key]
    assert not permissions.threads_visible_to(user).filter(pk=thread.pk).exists()
    client.force_login(user)
    assert client.get(reverse("messaging:thread", args=[thread.pk])).status_code == 404
    assert client.get(f"/api/v1/threads/{thread.pk}/").status_code in (403, 404)
    found = client.get(reverse("messaging:inbox"), {"q": "groceries"}).content.decode()
    assert f"/messages/{thread.pk}/" not in found and "Food pantry" not in found


def test_the_counselor_and_the_family_see_it(always_open, request_open, client):
    for key in ("counselor", "parent"):
        client.force_login(always_open.users[key])
        page = client.get(reverse("messaging:thread", args=[request_open.thread.pk]))
        assert page.status_code == 200 and "groceries" in page.content.decode()


def test_a_teacher_cannot_be_looped_in_nor_the_request_reassigned_to_one(always_open, request_open):
    thread = request_open.thread
    with pytest.raises(MessagingError):
        participant_add(
            actor=always_open.users["counselor"], thread=thread, staff=always_open.teacher
        )
    with pytest.raises(MessagingError):
        thread_reassign(
            actor=always_open.users["school_admin"], thread=thread, staff=always_open.teacher
        )
    assert not thread.participants.filter(staff=always_open.teacher).exists()


def test_the_schools_backup_never_joins_a_waiting_help_request(always_open, request_open):
    school = always_open.north
    school.answer_backup = always_open.school_admin
    school.save()
    Thread.objects.filter(pk=request_open.thread_id).update(
        waiting_since=datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.UTC)
    )
    threads_overdue_check()
    assert not request_open.thread.participants.filter(staff=always_open.school_admin).exists()


def test_counselors_see_new_requests_first_then_assign_and_close_with_an_outcome(
    always_open, request_open, food, django_capture_on_commit_callbacks
):
    counselor = always_open.users["counselor"]
    assert list(help_requests_for_counselor(counselor)) == [request_open]
    assert not help_requests_for_counselor(always_open.users["teacher"]).exists()
    help_request_assign(actor=counselor, help_request=request_open, staff=always_open.counselor)
    with pytest.raises(SupportError):
        help_request_close(
            actor=always_open.users["teacher"], help_request=request_open, outcome="helped"
        )
    with pytest.raises(SupportError):
        help_request_close(actor=counselor, help_request=request_open, outcome="")
    closed = help_request_close(actor=counselor, help_request=request_open, outcome="helped")
    assert (closed.status, closed.outcome) == ("closed", "helped")
    assert closed.closed_at is not None


def test_a_family_only_finds_services_of_its_childrens_schools(always_open, food):
    other = SupportServiceFactory(school=always_open.south, owner=always_open.south_teacher)
    draft = SupportServiceFactory(school=always_open.north, status="draft")
    found = set(services_for_family(always_open.users["parent"]))
    assert food in found and other not in found and draft not in found
    with pytest.raises(SupportError):
        help_request_open(actor=always_open.users["parent"], service=other)
    with pytest.raises(SupportError):
        help_request_open(actor=always_open.users["teacher"], service=food)
    assert not HelpRequest.objects.exists()


def test_the_admin_lists_of_texts_and_deliveries_leave_help_requests_out(
    always_open, request_open, client
):
    from messaging.models import Delivery

    assert Delivery.objects.filter(message__thread=request_open.thread).exists()
    client.force_login(always_open.users["superuser"])
    delivery = Delivery.objects.filter(message__thread=request_open.thread).first()
    assert client.get(
        reverse("admin:messaging_delivery_change", args=[delivery.pk])
    ).status_code in (302, 404)
