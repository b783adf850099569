"""The support API (/api/v1/support-categories/, support-services/, help-requests/): families find
the services offered to them in their own language and ask for help; staff see their schools'
services; help requests reach only their family and the service's counselors, whatever anyone
else's role."""

import datetime

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from messaging.channels.sms import MemoryBackend
from supports.models import HelpRequest
from supports.services import help_request_open
from tests.factories import SupportCategoryFactory, SupportServiceFactory

pytestmark = pytest.mark.django_db

SERVICES = "/api/v1/support-services/"
REQUESTS = "/api/v1/help-requests/"
NOBODY_ELSE = ["teacher", "art_teacher", "school_admin", "district_admin", "superuser"]


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    """Each test counts its own requests, in memory (never in a Redis that CI shares)."""
    counts = LocMemCache("tests-supports-api-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@pytest.fixture(autouse=True)
def texts_in_memory(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()


def client_for(world, key: str) -> APIClient:
    client = APIClient()
    client.force_login(world.users[key])
    return client


def titles(client: APIClient, path: str = SERVICES) -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return {row["title"] for row in response.json()["results"]}


@pytest.fixture
def directory(always_open):
    """North's food pantry (translated into Spanish: the title by a machine) and a draft;
    a district-wide clinic; a service that ended; South's own service."""
    world = always_open
    food = SupportCategoryFactory(name_en="Food", name_es="Comida", position=1)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    return {
        "pantry": SupportServiceFactory(
            school=world.north,
            category=food,
            owner=world.counselor,
            title_en="Food pantry",
            title_es="Despensa de alimentos",
            summary_en="Groceries every Friday.",
            phone="+16175550123",
            languages="en es",
            machine_translated={"es": ["title"]},
        ),
        "draft": SupportServiceFactory(
            school=world.north, owner=world.counselor, title="Tutoring", status="draft"
        ),
        "clinic": SupportServiceFactory(
            district=world.north.district, title="District clinic", category=food
        ),
        "ended": SupportServiceFactory(school=world.north, title="Summer camp", ends_on=yesterday),
        "south": SupportServiceFactory(school=world.south, title="South clothing closet"),
    }


# ---- The directory ----------------------------------------------------------------------------


def test_a_family_finds_the_live_services_of_its_childs_school_and_district(always_open, directory):
    assert titles(client_for(always_open, "parent")) == {"Food pantry", "District clinic"}
    assert titles(client_for(always_open, "cleo_parent")) == {"South clothing closet"}


def test_a_family_reads_the_directory_in_its_language_and_is_told_what_is_not(
    always_open, directory
):
    always_open.parent.preferred_language = "es"
    always_open.parent.save()
    client = client_for(always_open, "parent")
    pantry = client.get(f"{SERVICES}{directory['pantry'].pk}/").json()
    assert pantry["language"] == "es"
    assert pantry["title"] == "Despensa de alimentos"
    assert pantry["machine_translated"] == ["title"]
    assert pantry["summary"] == "Groceries every Friday."  # nobody wrote it in Spanish
    assert "summary" in pantry["untranslated"] and "title" not in pantry["untranslated"]
    assert pantry["category_name"] == "Comida"
    assert pantry["phone"] == "+16175550123" and pantry["languages"] == ["en", "es"]
    categories = client.get("/api/v1/support-categories/").json()["results"]
    assert "Comida" in {category["name"] for category in categories}


def test_a_family_in_english_sees_no_translation_marks(always_open, directory):
    pantry = client_for(always_open, "parent").get(f"{SERVICES}{directory['pantry'].pk}/").json()
    assert pantry["title"] == "Food pantry"
    assert pantry["machine_translated"] == [] and pantry["untranslated"] == []


def test_staff_see_their_schools_live_services_and_counselors_also_the_drafts(
    always_open, directory
):
    live = {"Food pantry", "District clinic"}
    assert titles(client_for(always_open, "teacher")) == live
    assert titles(client_for(always_open, "school_admin")) == live
    assert titles(client_for(always_open, "counselor")) == live | {"Tutoring", "Summer camp"}
    assert titles(client_for(always_open, "south_teacher")) == {"South clothing closet"}


def test_nobody_opens_a_service_they_are_not_shown(always_open, directory):
    for key, hidden in [
        ("parent", "draft"),
        ("parent", "south"),
        ("parent", "ended"),
        ("teacher", "draft"),
        ("south_teacher", "pantry"),
    ]:
        response = client_for(always_open, key).get(f"{SERVICES}{directory[hidden].pk}/")
        assert response.status_code == 404, (key, hidden)


def test_the_directory_list_costs_the_same_queries_whatever_its_length(always_open, directory):
    client = client_for(always_open, "parent")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(SERVICES).status_code == 200
        return len(captured)

    few = queries()
    for number in range(10):
        SupportServiceFactory(school=always_open.north, title=f"More help {number}")
    assert queries() == few


# ---- Help requests ----------------------------------------------------------------------------


@pytest.fixture
def asked(always_open, directory, django_capture_on_commit_callbacks) -> HelpRequest:
    with django_capture_on_commit_callbacks(execute=True):
        return help_request_open(
            actor=always_open.users["parent"],
            service=directory["pantry"],
            note="We are short on groceries this week.",
            student=always_open.ana,
        )


def test_a_family_asks_for_help_through_the_api_and_sees_only_its_own(always_open, directory):
    client = client_for(always_open, "parent")
    response = client.post(
        REQUESTS,
        {
            "service": directory["pantry"].pk,
            "note": "Short on food.",
            "student": always_open.ana.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    opened = HelpRequest.objects.get()
    assert response.json()["id"] == opened.pk
    assert response.json()["service_title"] == "Food pantry"
    assert response.json()["status"] == "new" and response.json()["thread"] == opened.thread_id
    assert opened.guardian == always_open.parent and opened.student == always_open.ana
    assert [row["id"] for row in client.get(REQUESTS).json()["results"]] == [opened.pk]
    other_family = client_for(always_open, "ben_parent")
    assert other_family.get(REQUESTS).json()["results"] == []
    assert other_family.get(f"{REQUESTS}{opened.pk}/").status_code == 404


def test_the_services_counselor_lists_and_opens_the_request(always_open, asked):
    client = client_for(always_open, "counselor")
    [row] = client.get(REQUESTS).json()["results"]
    assert row["id"] == asked.pk and row["guardian_name"] == str(always_open.parent)
    assert client.get(f"{REQUESTS}{asked.pk}/").status_code == 200


@pytest.mark.parametrize("key", NOBODY_ELSE)
def test_no_one_else_lists_or_opens_a_help_request_whatever_their_role(always_open, asked, key):
    client = client_for(always_open, key)
    response = client.get(REQUESTS)
    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []
    opened = client.get(f"{REQUESTS}{asked.pk}/")
    assert opened.status_code == 404
    assert "groceries" not in opened.content.decode()


def test_staff_cannot_open_a_help_request_and_are_told_why(always_open, directory):
    response = client_for(always_open, "teacher").post(
        REQUESTS, {"service": directory["pantry"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Only families can ask for help here."
    assert not HelpRequest.objects.exists()


def test_a_family_cannot_ask_a_service_it_is_not_offered(always_open, directory):
    client = client_for(always_open, "parent")
    for hidden in ("south", "draft"):
        response = client.post(REQUESTS, {"service": directory[hidden].pk}, format="json")
        assert response.status_code == 400 and "service" in response.json()
    assert not HelpRequest.objects.exists()


def test_a_service_nobody_answers_refuses_the_request_with_the_reason(always_open, directory):
    response = client_for(always_open, "parent").post(
        REQUESTS, {"service": directory["clinic"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Nobody answers this service here yet. Please call it."
