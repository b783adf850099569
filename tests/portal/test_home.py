"""Each person's home page shows what is theirs, in a constant number of queries."""

import pytest
from django.urls import reverse

from tests.factories import SectionFactory, StudentFactory

pytestmark = pytest.mark.django_db


def home_as(client, world, key):
    client.force_login(world.users[key])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_guardian_sees_their_child_and_who_to_contact(client, world):
    page = home_as(client, world, "parent")

    assert "Ana" in page and "Ben" not in page and "Cleo" not in page
    assert str(world.teacher) in page  # Ana's math teacher
    assert str(world.counselor) in page
    assert str(world.art_teacher) not in page  # teaches Ben, not Ana
    assert "School office" in page


def test_a_barred_guardian_sees_no_child(client, world):
    page = home_as(client, world, "barred_father")

    assert "Ana" not in page
    assert "No children are linked to you yet" in page


def test_teacher_sees_their_sections_families_with_language_and_channels(client, world):
    page = home_as(client, world, "teacher")

    assert "Math 4" in page and "Art 4" not in page
    assert str(world.parent) in page
    assert "Do not contact" in page  # the barred father is shown, flagged
    assert "SMS and email" in page
    assert str(world.ben_parent) not in page


def test_counselor_and_admin_see_their_school_overview(client, world):
    for key in ("counselor", "school_admin", "district_admin"):
        page = home_as(client, world, key)
        assert "North Elementary" in page
        assert "South Elementary" not in page
    assert "Import a roster" in page  # the district admin may import


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sign_in"))


def _grow(world, students_per_section: int) -> None:
    for n in range(3):
        section = SectionFactory(school=world.north, name=f"Extra {n}")
        section.staff.add(world.teacher)
        for _ in range(students_per_section):
            student = StudentFactory(school=world.north)
            section.students.add(student)
            world.parent.student_links.create(student=student)


@pytest.mark.parametrize("key", ["parent", "teacher", "counselor", "superuser"])
def test_home_page_queries_do_not_grow_with_the_data(client, world, key, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.users[key])
    _grow(world, 2)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("home"))
    _grow(world, 20)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("home"))


def test_front_page_sends_a_signed_in_person_home(client, world):
    client.force_login(world.users["teacher"])
    assert client.get("/")["Location"] == reverse("home")


@pytest.mark.django_db
def test_families_find_help_and_counselors_their_workspace_from_home(world, client):
    client.force_login(world.users["parent"])
    assert 'href="/supports/"' in client.get("/home/").content.decode()
    client.force_login(world.users["counselor"])
    assert 'href="/supports/manage/"' in client.get("/home/").content.decode()
    client.force_login(world.users["teacher"])
    assert 'href="/supports/manage/"' not in client.get("/home/").content.decode()
