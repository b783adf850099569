"""The Django admin, for school and district admins, shows only what the permission module lets
them see; teachers and families never reach it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_school_admin_lists_only_their_school(client, world):
    client.force_login(world.users["school_admin"])

    page = client.get(reverse("admin:portal_student_changelist")).content.decode()

    assert "Ana" in page and "Ben" in page and "Cleo" not in page


def test_school_admin_gets_404_for_another_schools_record(client, world):
    client.force_login(world.users["school_admin"])

    response = client.get(reverse("admin:portal_student_change", args=[world.cleo.pk]))

    assert response.status_code == 302  # the admin's "does not exist" redirect, nothing shown
    assert "Cleo" not in client.get(response["Location"]).content.decode()


def test_school_admin_changes_a_no_contact_flag_in_their_school(client, world):
    client.force_login(world.users["school_admin"])
    url = reverse("admin:portal_student_change", args=[world.ben.pk])

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("key", ["teacher", "counselor", "parent"])
def test_teachers_counselors_and_families_do_not_reach_the_admin(client, world, key):
    client.force_login(world.users[key])

    response = client.get(reverse("admin:index"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("sign_in_staff"))
    assert "Students" not in response.content.decode()


def test_only_the_district_imports_rosters(client, world):
    client.force_login(world.users["school_admin"])
    assert client.get(reverse("admin:portal_rosterimport_add")).status_code == 403
    client.force_login(world.users["district_admin"])
    assert client.get(reverse("admin:portal_rosterimport_add")).status_code == 200
