"""The JSON API (/api/v1/) shows each role exactly what the permission module lets it see, answers
404 for anything else, and keeps every list page at a constant number of queries."""

import io
from dataclasses import dataclass

import pytest
import yaml
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.throttling import SimpleRateThrottle

from portal.models import Guardian, School, Section, Student
from portal.serializers import GuardianSerializer
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    SectionFactory,
    StudentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LISTS = ("schools", "sections", "students", "guardians")


@pytest.fixture(autouse=True)
def own_throttle_counts(monkeypatch):
    """Each test counts its own requests, in memory (never in a Redis that CI shares)."""
    counts = LocMemCache("tests-api-throttle", {})
    counts.clear()
    monkeypatch.setattr(SimpleRateThrottle, "cache", counts)


@dataclass
class West:
    """A second school of North's district, which the North school admin must not see."""

    school: School
    section: Section
    wes: Student
    wes_parent: Guardian


@pytest.fixture
def west(world) -> West:
    school = SchoolFactory(name="West Elementary", district=world.north.district)
    section = SectionFactory(school=school, name="West 4")
    wes = StudentFactory(school=school, given_name="Wes")
    section.students.add(wes)
    wes_parent = GuardianFactory(given_name="Wes Parent")
    GuardianLinkFactory(guardian=wes_parent, student=wes, is_primary_contact=True)
    return West(school=school, section=section, wes=wes, wes_parent=wes_parent)


def client_for(world, key: str | None) -> APIClient:
    client = APIClient()
    if key is not None:
        client.force_login(world.users[key])
    return client


def listed(client: APIClient, name: str) -> list[dict]:
    response = client.get(f"/api/v1/{name}/")
    assert response.status_code == 200, response.content
    assert response.json()["next"] is None
    return response.json()["results"]


def shown(client: APIClient, name: str) -> set[str]:
    return {row.get("name") or row["given_name"] for row in listed(client, name)}


NORTH_STAFF_VIEW = {
    "schools": {"North Elementary"},
    "sections": {"Math 4", "Art 4"},
    "students": {"Ana", "Ben"},
    "guardians": {"Parent", "Barred Father", "Ben Parent"},
}
VISIBLE = {
    "parent": {
        "schools": {"North Elementary"},
        "sections": {"Math 4"},
        "students": {"Ana"},
        "guardians": {"Parent"},
    },
    "barred_father": {
        "schools": set(),
        "sections": set(),
        "students": set(),
        "guardians": {"Barred Father"},
    },
    "ben_parent": {
        "schools": {"North Elementary"},
        "sections": {"Art 4"},
        "students": {"Ben"},
        "guardians": {"Ben Parent"},
    },
    "teacher": {
        "schools": {"North Elementary"},
        "sections": {"Math 4"},
        "students": {"Ana"},
        "guardians": {"Parent", "Barred Father"},
    },
    "counselor": NORTH_STAFF_VIEW,
    "school_admin": NORTH_STAFF_VIEW,
    "district_admin": {
        "schools": {"North Elementary", "West Elementary"},
        "sections": {"Math 4", "Art 4", "West 4"},
        "students": {"Ana", "Ben", "Wes"},
        "guardians": {"Parent", "Barred Father", "Ben Parent", "Wes Parent"},
    },
    "south_teacher": {
        "schools": {"South Elementary"},
        "sections": {"South 4"},
        "students": {"Cleo"},
        "guardians": {"Cleo Parent"},
    },
    "superuser": {
        "schools": {"North Elementary", "South Elementary", "West Elementary"},
        "sections": {"Math 4", "Art 4", "South 4", "West 4"},
        "students": {"Ana", "Ben", "Cleo", "Wes"},
        "guardians": {"Parent", "Barred Father", "Ben Parent", "Cleo Parent", "Wes Parent"},
    },
}


@pytest.mark.parametrize("key", sorted(VISIBLE))
def test_each_role_lists_exactly_what_it_may_see(world, west, key):
    client = client_for(world, key)
    assert {name: shown(client, name) for name in LISTS} == VISIBLE[key]


@pytest.mark.parametrize("key", sorted(VISIBLE))
def test_each_role_can_open_every_row_it_lists_and_no_other(world, west, key):
    client = client_for(world, key)
    everything = {
        "schools": School.objects.all(),
        "sections": Section.objects.all(),
        "students": Student.objects.all(),
        "guardians": Guardian.objects.all(),
    }
    for name, rows in everything.items():
        listed_ids = {row["id"] for row in listed(client, name)}
        for row in rows:
            status = client.get(f"/api/v1/{name}/{row.pk}/").status_code
            assert status == (200 if row.pk in listed_ids else 404), (name, str(row))


@pytest.mark.parametrize("path", ["me/", *(f"{name}/" for name in LISTS), "students/1/", ""])
def test_nobody_signed_in_is_told_to_authenticate(world, path):
    response = APIClient().get(f"/api/v1/{path}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_account_that_is_no_one_here_is_refused(world):
    client = APIClient()
    client.force_login(UserFactory(username="stranger@example.org"))
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/students/").status_code == 403


def test_a_guardian_asking_for_another_familys_ids_gets_404(world):
    client = client_for(world, "parent")
    assert client.get(f"/api/v1/students/{world.ana.pk}/").status_code == 200
    forged = [
        f"students/{world.ben.pk}",
        f"students/{world.cleo.pk}",
        f"guardians/{world.ben_parent.pk}",
        f"guardians/{world.cleo_parent.pk}",
        f"guardians/{world.barred_father.pk}",  # Ana's other parent, barred: not theirs to see
        f"sections/{world.art.pk}",
        f"sections/{world.south_class.pk}",
        f"schools/{world.south.pk}",
        "students/999999",
        "students/not-a-number",
    ]
    for path in forged:
        response = client.get(f"/api/v1/{path}/")
        assert response.status_code == 404, path
        assert "Ben" not in response.content.decode()


def test_a_no_contact_link_hides_the_child_from_that_guardian(world):
    client = client_for(world, "barred_father")
    assert client.get(f"/api/v1/students/{world.ana.pk}/").status_code == 404
    assert client.get(f"/api/v1/sections/{world.math.pk}/").status_code == 404
    assert client.get(f"/api/v1/schools/{world.north.pk}/").status_code == 404
    himself = client.get(f"/api/v1/guardians/{world.barred_father.pk}/").json()
    assert himself["students"] == []
    assert "is_no_contact" not in himself
    assert "Ana" not in client.get("/api/v1/students/").content.decode()


def test_staff_see_a_no_contact_guardian_flagged_with_the_link_facts(world):
    world.barred_father.contact_restrictions = "Court order: no contact."
    world.barred_father.save()
    rows = {row["id"]: row for row in listed(client_for(world, "teacher"), "guardians")}
    barred, parent = rows[world.barred_father.pk], rows[world.parent.pk]
    assert barred["is_no_contact"] is True
    assert barred["contact_restrictions"] == "Court order: no contact."
    assert barred["students"] == [
        {
            "student": world.ana.pk,
            "relationship": "parent",
            "is_primary_contact": False,
            "may_receive_messages": False,
        }
    ]
    assert parent["is_no_contact"] is False
    assert parent["students"][0]["is_primary_contact"] is True
    assert parent["phone"] == str(world.parent.phone)
    assert parent["email"] == world.parent.email


def test_staff_see_only_the_links_to_students_they_see(world):
    GuardianLinkFactory(guardian=world.parent, student=world.cleo)  # a child at South too
    north = listed(client_for(world, "teacher"), "guardians")
    assert [row["students"] for row in north if row["id"] == world.parent.pk] == [
        [{"student": world.ana.pk, **_link_facts(primary=True)}]
    ]
    south = listed(client_for(world, "south_teacher"), "guardians")
    assert [row["students"] for row in south if row["id"] == world.parent.pk] == [
        [{"student": world.cleo.pk, **_link_facts(primary=False)}]
    ]


def _link_facts(*, primary: bool) -> dict:
    return {"relationship": "parent", "is_primary_contact": primary, "may_receive_messages": True}


def test_a_guardian_sees_their_own_contact_details_but_no_staff_notes(world):
    world.parent.wants_email = False
    world.parent.contact_restrictions = "Prefers calls after 5pm."
    world.parent.save()
    row = client_for(world, "parent").get(f"/api/v1/guardians/{world.parent.pk}/").json()
    assert row["phone"] == str(world.parent.phone)
    assert row["email"] == world.parent.email
    assert row["reachable_channels"] == ["sms"]
    assert row["preferred_language"] == "en"
    assert row["students"] == [{"student": world.ana.pk, **_link_facts(primary=True)}]
    assert "contact_restrictions" not in row
    assert "is_no_contact" not in row


def test_another_guardians_phone_and_email_never_reach_a_guardian(world):
    """The permission module shows a guardian no other guardian today; should that change, the
    serializer still keeps their phone and email from them."""
    request = APIRequestFactory().get("/api/v1/guardians/")
    request.user = world.users["parent"]
    from portal.permissions import access_for

    other = Guardian.objects.get(pk=world.ben_parent.pk)
    other.visible_links = []
    row = GuardianSerializer(
        other, context={"request": request, "access": access_for(request.user)}
    ).data
    assert {"phone", "email", "contact_restrictions", "is_no_contact"}.isdisjoint(row)
    assert row["given_name"] == "Ben Parent"
    assert (
        GuardianSerializer(
            other, context={"request": request, "access": access_for(AnonymousUser())}
        )
        .data.keys()
        .isdisjoint({"phone", "email"})
    )


def test_students_carry_only_the_section_ids_the_viewer_may_see(world):
    world.art.students.add(world.ana)

    def sections_of_ana(key):
        return client_for(world, key).get(f"/api/v1/students/{world.ana.pk}/").json()["sections"]

    assert sections_of_ana("teacher") == [world.math.pk]
    assert sorted(sections_of_ana("counselor")) == sorted([world.math.pk, world.art.pk])
    assert sorted(sections_of_ana("parent")) == sorted([world.math.pk, world.art.pk])
    row = client_for(world, "teacher").get(f"/api/v1/students/{world.ana.pk}/").json()
    assert row["school"] == world.north.pk
    assert row["grade"] == world.ana.grade


def test_me_says_who_a_guardian_is(world):
    world.parent.preferred_language = "es"
    world.parent.save()
    me = client_for(world, "parent").get("/api/v1/me/").json()
    assert me == {
        "id": world.users["parent"].pk,
        "name": str(world.parent),
        "kind": "guardian",
        "is_superuser": False,
        "guardian_id": world.parent.pk,
        "staff_id": None,
        "preferred_language": "es",
        "roles": [],
        "district_ids": [],
    }


def test_me_says_who_staff_are_with_roles_per_school(world, west):
    me = client_for(world, "district_admin").get("/api/v1/me/").json()
    assert me["kind"] == "staff"
    assert me["name"] == str(world.district_admin)
    assert me["staff_id"] == world.district_admin.pk
    assert me["guardian_id"] is None and me["preferred_language"] is None
    assert me["district_ids"] == [world.north.district_id]
    assert me["roles"] == sorted(
        [
            {"school": world.north.pk, "roles": ["admin"]},
            {"school": west.school.pk, "roles": ["admin"]},
        ],
        key=lambda held: held["school"],
    )
    teacher = client_for(world, "teacher").get("/api/v1/me/").json()
    assert teacher["roles"] == [{"school": world.north.pk, "roles": ["teacher"]}]
    superuser = client_for(world, "superuser").get("/api/v1/me/").json()
    assert superuser["kind"] == "staff" and superuser["is_superuser"] is True


def _token(email: str, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", email, *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_a_staff_token_authenticates_and_sees_what_its_staff_member_sees(world):
    key = _token("Teacher@Example.org")
    assert key == _token("teacher@example.org")  # printed again, not replaced
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["staff_id"] == world.teacher.pk
    assert shown(client, "students") == {"Ana"}
    assert client.get(f"/api/v1/students/{world.ben.pk}/").status_code == 404

    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_a_rotated_token_replaces_the_old_one_and_a_deactivated_account_stops_it(world):
    old = _token("teacher@example.org")
    new = _token("teacher@example.org", "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/me/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/v1/me/").status_code == 200
    world.users["teacher"].is_active = False
    world.users["teacher"].save()
    assert client.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("parent@example.org", "guardian's account: API tokens are for staff only"),
        ("nobody@example.org", "No account signs in with nobody@example.org"),
    ],
)
def test_tokens_are_for_staff_only(world, email, reason):
    with pytest.raises(CommandError, match=reason):
        _token(email)


def test_lists_are_paged_fifty_at_a_time(world):
    for number in range(53):
        StudentFactory(school=world.north, given_name=f"Extra {number:02d}")
    client = client_for(world, "counselor")
    first = client.get("/api/v1/students/").json()
    assert first["count"] == 55
    assert len(first["results"]) == 50
    assert first["previous"] is None
    assert first["next"].endswith("/api/v1/students/?page=2")
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(ids)) == 55


def _grow(world, families: int) -> None:
    """Adds families to North: each child in a section of their own, taught by `teacher`."""
    for number in range(families):
        section = SectionFactory(school=world.north, name=f"Extra {number}")
        section.staff.add(world.teacher)
        student = StudentFactory(school=world.north)
        section.students.add(student)
        world.math.students.add(student)
        GuardianLinkFactory(student=student, is_primary_contact=True)
        GuardianLinkFactory(student=student, may_receive_messages=False)


def _queries(client: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def _queries_per_page(client: APIClient, world) -> tuple[dict[str, int], dict[str, int]]:
    paths = ["/api/v1/me/", *(f"/api/v1/{name}/" for name in LISTS)]
    _grow(world, 3)
    small = {path: _queries(client, path) for path in paths}
    _grow(world, 27)
    large = {path: _queries(client, path) for path in paths}
    return small, large


@pytest.mark.parametrize("key", ["teacher", "counselor", "district_admin", "superuser", "parent"])
def test_list_pages_keep_a_constant_number_of_queries(world, key):
    client = client_for(world, key)
    small, large = _queries_per_page(client, world)
    if key != "parent":
        assert client.get("/api/v1/guardians/").json()["count"] >= 60
    assert large == small
    # A staff session costs 2 queries to read and 3 to renew (SessionPolicyMiddleware); access 2
    # (3 for a district admin); a page 2 or 3 (count, rows, related rows).
    assert max(small.values()) <= 11, small


def test_a_token_page_costs_a_handful_of_queries(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {_token('teacher@example.org')}")
    small, large = _queries_per_page(client, world)
    assert large == small
    # token and user 1, access 2, count, rows, related rows
    assert small["/api/v1/students/"] == small["/api/v1/guardians/"] == 6, small


def test_the_api_is_read_only(world):
    client = client_for(world, "superuser")
    assert client.post("/api/v1/students/", {"given_name": "X"}).status_code == 405
    assert client.delete(f"/api/v1/students/{world.ana.pk}/").status_code == 405


def test_requests_are_throttled_per_user_and_for_the_public_schema(world, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "2/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/minute")
    anonymous = APIClient()
    assert [anonymous.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    teacher = client_for(world, "teacher")
    assert [teacher.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert client_for(world, "counselor").get("/api/v1/me/").status_code == 200


def test_the_schema_is_public_and_names_every_v1_endpoint():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/me/",
        *(f"/api/v1/{name}/" for name in LISTS),
        *(f"/api/v1/{name}/{{id}}/" for name in LISTS),
        "/api/v1/threads/",
        "/api/v1/threads/{id}/",
        *(
            f"/api/v1/threads/{{id}}/{action}/"
            for action in ("messages", "participants", "read", "archive")
        ),
        "/api/v1/broadcasts/",
        "/api/v1/broadcasts/audience/",
        "/api/v1/broadcasts/{id}/",
        "/api/v1/broadcasts/{id}/progress/",
        "/api/v1/broadcasts/{id}/recipients/",
        "/api/v1/announcements/",
        "/api/v1/announcements/{id}/",
        "/api/v1/announcements/{id}/read/",
        "/api/v1/announcements/{id}/reply/",
        "/api/v1/templates/",
        "/api/v1/templates/{id}/",
        "/api/v1/support-categories/",
        "/api/v1/support-categories/{id}/",
        "/api/v1/support-services/",
        "/api/v1/support-services/{id}/",
        "/api/v1/help-requests/",
        "/api/v1/help-requests/{id}/",
        "/api/v1/reports/engagement/",
        "/api/v1/surveys/",
        "/api/v1/surveys/{id}/",
        "/api/v1/surveys/{id}/questions/",
        "/api/v1/surveys/{id}/results/",
        "/api/v1/surveys/{id}/send/",
        "/api/v1/surveys/{id}/close/",
    }
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_render_offline_from_the_sidecar():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    bundle = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert f"/static/{bundle}" in html
    assert finders.find(bundle) is not None
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "https://", "http://"):
        assert cdn not in html, cdn
