"""The family pages of the support directory: browse and search in one's own language, read a
service on a phone, ask it for help."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from messaging.models import Thread
from supports.models import HelpRequest
from supports.selectors import services_search
from tests.factories import (
    GuardianLinkFactory,
    StudentFactory,
    SupportCategoryFactory,
    SupportServiceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def food(always_open):
    category = SupportCategoryFactory(name="Food and clothing", name_es="Comida y ropa")
    return SupportServiceFactory(
        school=always_open.north,
        owner=always_open.counselor,
        category=category,
        title="Food pantry",
        title_es="Banco de alimentos",
        summary="Free groceries every Friday.",
        summary_es="Comida gratis cada viernes.",
        description="Bring a bag.",
        phone="+16175550142",
        address="12 Main St, Springfield",
    )


@pytest.fixture
def spanish_parent(always_open, client):
    always_open.parent.preferred_language = "es"
    always_open.parent.save()
    client.force_login(always_open.users["parent"])
    return always_open.parent


def _page(client, name, *args, **query):
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_spanish_speaking_family_browses_and_finds_a_service_by_a_spanish_word(
    always_open, food, spanish_parent, client
):
    SupportServiceFactory(school=always_open.north, title="Tutoring", title_es="Tutorías")
    page = _page(client, "supports:directory")
    assert "Comida y ropa" in page and "Banco de alimentos" in page
    assert "Comida gratis cada viernes." in page and "Food pantry" not in page
    found = _page(client, "supports:directory", q="alimentos")
    assert "Banco de alimentos" in found and "Tutorías" not in found
    assert reverse("supports:service", args=[food.pk]) in found


@pytest.mark.postgres
def test_search_stems_the_readers_language_on_postgres(always_open, food, spanish_parent):
    SupportServiceFactory(school=always_open.north, title="Tutoring", title_es="Tutorías")
    user = always_open.users["parent"]
    # Spanish stemming: the singular finds the plural, which a plain "contains" would not
    assert list(services_search(user, "alimento", "es")) == [food]
    assert list(services_search(user, "comidas", "es")) == [food]  # "Comida gratis..."
    assert list(services_search(user, "viernes gratis", "es")) == [food]
    # the default language is searched too, with English stemming
    assert list(services_search(user, "grocery", "es")) == [food]
    assert list(services_search(user, "natación", "es")) == []


def test_a_somali_family_sees_the_english_text_marked_not_yet_in_its_language(
    always_open, food, client
):
    always_open.parent.preferred_language = "so"
    always_open.parent.save()
    food.title_so = "Bangiga cuntada"
    food.save()
    client.force_login(always_open.users["parent"])
    page = _page(client, "supports:service", food.pk)
    assert "Bangiga cuntada" in page  # what is in Somali is shown in Somali
    assert "Free groceries every Friday." in page and "Bring a bag." in page
    assert page.count("Not yet in your language") == 2  # the summary and the description
    assert "Comida gratis" not in page


def test_machine_translated_text_is_marked_with_its_original_one_tap_away(
    always_open, food, spanish_parent, client
):
    food.description_es = "Traiga una bolsa."
    food.machine_translated = {"es": ["description"]}
    food.save()
    page = _page(client, "supports:service", food.pk)
    assert "Traiga una bolsa." in page and "Machine translated" in page
    assert "Bring a bag." in page  # the original, under "See original"


def test_a_family_cannot_find_another_schools_service_nor_a_draft(always_open, food, client):
    elsewhere = SupportServiceFactory(school=always_open.south, title="South pantry")
    draft = SupportServiceFactory(school=always_open.north, status="draft", title="Not yet")
    client.force_login(always_open.users["parent"])
    for service in (elsewhere, draft):
        assert client.get(reverse("supports:service", args=[service.pk])).status_code == 404
        assert client.post(reverse("supports:ask", args=[service.pk])).status_code == 404
    page = _page(client, "supports:directory")
    assert "Food pantry" in page and "South pantry" not in page and "Not yet" not in page
    assert "South pantry" not in _page(client, "supports:directory", q="pantry")
    assert not HelpRequest.objects.exists()


def test_staff_see_their_schools_directory_but_cannot_ask(always_open, food, client):
    SupportServiceFactory(school=always_open.south, title="South pantry")
    client.force_login(always_open.users["teacher"])
    page = _page(client, "supports:directory")
    assert "Food pantry" in page and "South pantry" not in page
    assert "Ask for help" not in _page(client, "supports:service", food.pk)
    assert client.post(reverse("supports:ask", args=[food.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(food, client):
    response = client.get(reverse("supports:directory"))
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_the_service_page_calls_texts_and_gives_directions_in_one_tap(
    always_open, food, spanish_parent, client
):
    page = _page(client, "supports:service", food.pk)
    assert 'href="tel:+16175550142"' in page and 'href="sms:+16175550142"' in page
    assert "openstreetmap.org/search?query=12+Main+St%2C+Springfield" in page
    assert reverse("supports:ask", args=[food.pk]) in page


def test_asking_for_help_opens_the_request_and_lands_on_its_thread(
    always_open, food, client, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "memory"
    client.force_login(always_open.users["parent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("supports:ask", args=[food.pk]), {"note": "We need food this week."}
        )
    help_request = HelpRequest.objects.get()
    assert (help_request.service, help_request.guardian) == (food, always_open.parent)
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:thread", args=[help_request.thread_id])
    thread = client.get(response["Location"]).content.decode()
    assert "We need food this week." in thread


def test_a_family_with_several_children_says_which_one_it_is_about(
    always_open, food, client, settings, celery_eager
):
    settings.SMS_BACKEND = "memory"
    sister = StudentFactory(school=always_open.north, given_name="Dora")
    GuardianLinkFactory(guardian=always_open.parent, student=sister)
    client.force_login(always_open.users["parent"])
    page = _page(client, "supports:ask", food.pk)
    assert "Which child is it about?" in page and "Dora" in page and "Ana" in page
    client.post(reverse("supports:ask", args=[food.pk]), {"student": sister.pk})
    assert HelpRequest.objects.get().student == sister


def test_a_refusal_is_shown_in_the_form(always_open, food, client):
    food.owner = None
    food.save()  # nobody answers it
    client.force_login(always_open.users["parent"])
    response = client.post(reverse("supports:ask", args=[food.pk]), {"note": "Hello"})
    assert response.status_code == 400
    assert "Nobody answers this service here yet" in response.content.decode()
    assert not Thread.objects.filter(kind="help_request").exists()


def test_the_directory_costs_the_same_queries_for_3_and_30_services(always_open, client):
    client.force_login(always_open.users["parent"])
    categories = SupportCategoryFactory.create_batch(3)

    def queries_with(count: int) -> int:
        for number in range(count - SupportServiceFactory._meta.model.objects.count()):
            SupportServiceFactory(school=always_open.north, category=categories[number % 3])
        with CaptureQueriesContext(connection) as context:
            assert client.get(reverse("supports:directory")).status_code == 200
        return len(context.captured_queries)

    assert queries_with(3) == queries_with(30)
    page = _page(client, "supports:directory")
    assert page.count('class="card"') == 30
