"""Rules the database itself enforces, whatever path writes the row."""

import pytest
from django.db import IntegrityError, connection, transaction

from portal.models import GuardianLink, StaffMembership
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    StaffMembershipFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


def test_a_student_has_at_most_one_primary_contact():
    student = StudentFactory()
    GuardianLinkFactory(student=student, is_primary_contact=True)

    assert refused(lambda: GuardianLinkFactory(student=student, is_primary_contact=True))
    assert not refused(lambda: GuardianLinkFactory(student=student, is_primary_contact=False))


def test_a_guardian_is_linked_to_a_student_once():
    link = GuardianLinkFactory()

    assert refused(
        lambda: GuardianLink.objects.create(student=link.student, guardian=link.guardian)
    )


def test_phones_are_stored_only_in_e164():
    guardian = GuardianFactory()

    table = type(guardian)._meta.db_table

    def raw_update():
        with connection.cursor() as cursor:  # past the field, which would normalise the number
            cursor.execute(
                f"UPDATE {table} SET phone = %s WHERE id = %s", ["617-555-0100", guardian.pk]
            )

    assert refused(raw_update)


def test_a_person_holds_each_role_at_a_school_once_but_may_hold_several():
    membership = StaffMembershipFactory(role="teacher")

    assert not refused(
        lambda: StaffMembershipFactory(
            staff=membership.staff, school=membership.school, role="counselor"
        )
    )
    assert refused(
        lambda: StaffMembershipFactory(
            staff=membership.staff, school=membership.school, role="teacher"
        )
    )
    assert refused(lambda: StaffMembership.objects.filter(pk=membership.pk).update(role="janitor"))


def test_school_country_is_an_iso_code_and_office_hours_run_forward():
    school = SchoolFactory()
    model = type(school)

    assert refused(lambda: model.objects.filter(pk=school.pk).update(country="us"))
    assert refused(lambda: SchoolFactory(office_opens_at="17:00", office_closes_at="08:00"))


def test_a_guardian_who_may_not_receive_messages_is_never_the_primary_contact():
    assert refused(lambda: GuardianLinkFactory(is_primary_contact=True, may_receive_messages=False))
