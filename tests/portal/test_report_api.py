"""The engagement report as JSON (/api/v1/reports/engagement/): the report page's figures, every
slice at once, for the same people."""

import io

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import GuardianFactory, GuardianLinkFactory, SchoolFactory, StudentFactory
from tests.portal.report_school import maple_school

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/engagement/"
PERIOD = {"start": "2026-03-02", "end": "2026-03-15"}


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    counts = LocMemCache("tests-report-api-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@pytest.fixture
def maple():
    return maple_school()


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def row(rows: list[dict], dimension: str, key: str = "") -> dict:
    return next(item for item in rows if (item["dimension"], item["key"]) == (dimension, key))


def test_an_admin_gets_every_figure_of_the_report(maple):
    response = client_for(maple.users["admin"]).get(URL, PERIOD)
    assert response.status_code == 200, response.content
    report = response.json()

    assert report["scope"] == {
        "school_ids": [maple.school.pk],
        "district_id": None,
        "teacher_id": None,
        "counselor_id": None,
    }
    assert report["period"] == {
        "start": "2026-03-02",
        "end": "2026-03-15",
        "time_zone": "America/Chicago",
    }
    everyone = row(report["reach"], "all")
    assert (everyone["label"], everyone["families"], everyone["works"]) == ("All families", 7, 4)
    assert row(report["reach"], "language", "es")["families"] == 2
    assert row(report["answer_times"], "all")["median_seconds"] == 21 * 3600
    assert row(report["answer_times"], "teacher", str(maple.chen.pk))["label"] == "Li Chen"
    assert row(report["deliveries"], "channel", "sms")["deliveries"] == 13
    assert row(report["engagement"], "all")["messages_to_families"] == 15
    assert row(report["surveys"], "survey", str(maple.anonymous_survey.pk))["completed"] == 2
    assert row(report["supports"], "service", str(maple.food.pk))["requests"] == 2
    assert report["consent_weeks"] == [
        {"week_of": "2026-03-02", "opt_outs": 1, "opt_ins": 1},
        {"week_of": "2026-03-09", "opt_outs": 1, "opt_ins": 0},
    ]
    assert {error["error_code"] for error in report["delivery_errors"]} == {
        "21211",
        "email-refused",
        "opted-out",
    }
    english = report["languages"][0]
    assert (english["language"], english["families"], english["reached_share"]) == ("en", 2, 0.5)
    # Every slice of every dimension at once, whatever the page would break down by.
    assert {item["dimension"] for item in report["reach"]} == {
        "all", "grade", "section", "language", "channel", "teacher",
    }  # fmt: skip


def test_a_district_report_has_a_slice_per_school(world):
    west = SchoolFactory(name="West Elementary", district=world.north.district)
    GuardianLinkFactory(student=StudentFactory(school=west), guardian=GuardianFactory())
    response = client_for(world.users["district_admin"]).get(
        URL, {"scope": f"district:{world.north.district_id}"}
    )
    report = response.json()
    assert report["scope"]["district_id"] == world.north.district_id
    schools = {item["label"]: item["families"] for item in report["reach"]
               if item["dimension"] == "school"}  # fmt: skip
    assert schools == {"North Elementary": 2, "West Elementary": 1}
    assert row(report["reach"], "all")["families"] == 3


def test_filters_narrow_the_figures_as_on_the_page(maple):
    response = client_for(maple.users["admin"]).get(
        URL, {**PERIOD, "language": "es", "channel": "sms"}
    )
    report = response.json()
    assert report["filters"]["language"] == "es"
    assert row(report["reach"], "all")["families"] == 2
    assert row(report["answer_times"], "all")["waits"] == 2


def test_a_teacher_gets_their_own_figures_and_a_counselor_their_services(maple):
    teacher = client_for(maple.users["chen"]).get(URL, PERIOD).json()
    assert teacher["scope"]["teacher_id"] == maple.chen.pk
    assert row(teacher["reach"], "all")["families"] == 4
    assert teacher["supports"] == []

    counselor = client_for(maple.users["counselor"]).get(URL, PERIOD).json()
    assert counselor["reach"] == counselor["deliveries"] == []
    assert [item["key"] for item in counselor["supports"]] == ["", str(maple.food.pk)]


def test_others_are_refused(maple, world):
    assert client_for(world.users["parent"]).get(URL).status_code == 404
    other_admin = client_for(world.users["school_admin"])
    assert other_admin.get(URL, {"scope": f"school:{maple.school.pk}"}).status_code == 404
    assert client_for(maple.users["rivera"]).get(URL, {"teacher": maple.chen.pk}).status_code == 404
    assert APIClient().get(URL).status_code == 401


def test_a_date_that_cannot_be_read_is_a_400_naming_it(maple):
    response = client_for(maple.users["admin"]).get(URL, {"start": "March", "end": "2026-03-15"})
    assert response.status_code == 400
    assert "start" in response.json()


def test_a_district_dashboard_reads_it_with_a_token(maple):
    out = io.StringIO()
    call_command("api_token", "admin@maple.example.org", stdout=out)
    key = out.getvalue().strip().split()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert row(response.json()["reach"], "all")["families"] == 7
