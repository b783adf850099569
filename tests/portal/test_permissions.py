"""The permission module answers, for each role, exactly what they may see and change."""

import pytest

from portal import permissions

pytestmark = pytest.mark.django_db


def names(queryset) -> set[str]:
    return {str(getattr(row, "given_name", None) or row.name) for row in queryset}


def students(world, key):
    return {s.given_name for s in permissions.students_visible_to(world.users[key])}


def guardians(world, key):
    return {g.pk for g in permissions.guardians_visible_to(world.users[key])}


def test_a_guardian_sees_only_their_own_children(world):
    assert students(world, "parent") == {"Ana"}
    assert students(world, "ben_parent") == {"Ben"}
    assert guardians(world, "parent") == {world.parent.pk}


def test_a_guardian_who_may_not_receive_messages_sees_nothing_of_that_child(world):
    assert students(world, "barred_father") == set()
    assert permissions.sections_visible_to(world.users["barred_father"]).count() == 0
    assert permissions.schools_visible_to(world.users["barred_father"]).count() == 0
    assert permissions.staff_visible_to(world.users["barred_father"]).count() == 0


def test_a_teacher_sees_the_students_and_families_of_their_sections(world):
    assert students(world, "teacher") == {"Ana"}
    assert guardians(world, "teacher") == {world.parent.pk, world.barred_father.pk}
    assert {s.name for s in permissions.sections_visible_to(world.users["teacher"])} == {"Math 4"}


def test_a_counselor_sees_their_whole_school_and_no_other(world):
    assert students(world, "counselor") == {"Ana", "Ben"}
    assert world.cleo_parent.pk not in guardians(world, "counselor")


def test_a_school_admin_sees_the_school_and_a_district_admin_the_district(world):
    assert students(world, "school_admin") == {"Ana", "Ben"}
    assert students(world, "district_admin") == {"Ana", "Ben"}
    assert {s.name for s in permissions.schools_visible_to(world.users["district_admin"])} == {
        "North Elementary"
    }


def test_a_superuser_sees_everything(world):
    assert students(world, "superuser") == {"Ana", "Ben", "Cleo"}


def test_nobody_signed_in_sees_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert permissions.students_visible_to(AnonymousUser()).count() == 0


def test_who_to_contact_is_the_childs_teachers_and_the_school_counselor(world):
    visible = permissions.staff_visible_to(world.users["parent"])
    assert set(visible) == {world.teacher, world.counselor}


def test_inactive_links_and_records_disappear(world):
    world.parent.student_links.update(is_active=False)
    assert students(world, "parent") == set()
    world.ana.is_active = False
    world.ana.save()
    assert students(world, "teacher") == set()


def test_may_view_and_may_change_follow_the_roles(world):
    u = world.users
    assert permissions.may_view(u["teacher"], world.ana)
    assert not permissions.may_view(u["teacher"], world.ben)
    assert not permissions.may_view(u["parent"], world.cleo)
    assert permissions.may_change(u["parent"], world.parent)
    assert not permissions.may_change(u["parent"], world.ben_parent)
    assert not permissions.may_change(u["teacher"], world.ana)
    assert permissions.may_change(u["school_admin"], world.ana)
    assert not permissions.may_change(u["school_admin"], world.cleo)
    assert permissions.may_change(u["district_admin"], world.math)
    assert permissions.may_change(u["superuser"], world.cleo)


def test_access_is_read_with_at_most_three_queries(world, django_assert_max_num_queries):
    user = type(world.users["teacher"]).objects.get(pk=world.users["teacher"].pk)
    with django_assert_max_num_queries(3):
        permissions.access_for(user)
        permissions.access_for(user)


def test_a_barred_parent_who_works_at_the_school_still_does_not_see_the_child(world):
    from tests.factories import StaffMembershipFactory

    StaffMembershipFactory(
        staff__user=world.users["barred_father"], school=world.north, role="counselor"
    )

    assert students(world, "barred_father") == {"Ben"}


def test_roles_at_an_inactive_school_or_district_give_nothing(world):
    world.north.district.is_active = False
    world.north.district.save()
    assert students(world, "district_admin") == set()
    world.north.is_active = False
    world.north.save()
    assert students(world, "counselor") == set()


def test_sections_of_an_inactive_child_disappear_for_the_parent(world):
    world.ana.is_active = False
    world.ana.save()
    assert permissions.sections_visible_to(world.users["parent"]).count() == 0
