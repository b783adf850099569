"""A small world of two schools, with one person in every role, for permission and page tests."""

import datetime
from dataclasses import dataclass

import pytest

from portal.models import Guardian, School, Section, Staff, Student, User
from tests.factories import (
    GuardianFactory,
    GuardianLinkFactory,
    SchoolFactory,
    SectionFactory,
    StaffFactory,
    StaffMembershipFactory,
    StudentFactory,
    UserFactory,
)

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    north: School
    south: School
    math: Section  # north, taught by `teacher`
    art: Section  # north, taught by another teacher
    south_class: Section
    ana: Student  # north, in math; mother `parent`, father `barred_father` (no contact)
    ben: Student  # north, in art only
    cleo: Student  # south
    parent: Guardian
    barred_father: Guardian
    ben_parent: Guardian
    cleo_parent: Guardian
    teacher: Staff
    art_teacher: Staff
    counselor: Staff
    school_admin: Staff
    district_admin: Staff
    south_teacher: Staff
    users: dict[str, User]


def _account(key: str, **extra) -> User:
    return UserFactory(
        username=f"{key}@example.org", email=f"{key}@example.org", password=PASSWORD, **extra
    )


@pytest.fixture
def world(db) -> World:
    north = SchoolFactory(name="North Elementary")
    south = SchoolFactory(name="South Elementary")  # another district
    users = {
        key: _account(key)
        for key in (
            "parent",
            "barred_father",
            "ben_parent",
            "cleo_parent",
            "teacher",
            "art_teacher",
            "counselor",
            "school_admin",
            "district_admin",
            "south_teacher",
        )
    }
    users["superuser"] = _account("superuser", is_superuser=True, is_staff=True)

    def staff(key, school, role):
        member = StaffFactory(user=users[key])
        if role:
            StaffMembershipFactory(staff=member, school=school, role=role)
        return member

    teacher = staff("teacher", north, "teacher")
    art_teacher = staff("art_teacher", north, "teacher")
    counselor = staff("counselor", north, "counselor")
    school_admin = staff("school_admin", north, "admin")
    district_admin = staff("district_admin", north, None)
    north.district.admins.add(district_admin)
    south_teacher = staff("south_teacher", south, "teacher")

    math = SectionFactory(school=north, name="Math 4")
    art = SectionFactory(school=north, name="Art 4")
    south_class = SectionFactory(school=south, name="South 4")
    math.staff.add(teacher)
    art.staff.add(art_teacher)
    south_class.staff.add(south_teacher)

    ana = StudentFactory(school=north, given_name="Ana")
    ben = StudentFactory(school=north, given_name="Ben")
    cleo = StudentFactory(school=south, given_name="Cleo")
    math.students.add(ana)
    art.students.add(ben)
    south_class.students.add(cleo)

    def guardian(key, student, **link):
        person = GuardianFactory(user=users[key], given_name=key.replace("_", " ").title())
        GuardianLinkFactory(guardian=person, student=student, **link)
        return person

    return World(
        north=north,
        south=south,
        math=math,
        art=art,
        south_class=south_class,
        ana=ana,
        ben=ben,
        cleo=cleo,
        parent=guardian("parent", ana, is_primary_contact=True),
        barred_father=guardian("barred_father", ana, may_receive_messages=False),
        ben_parent=guardian("ben_parent", ben),
        cleo_parent=guardian("cleo_parent", cleo),
        teacher=teacher,
        art_teacher=art_teacher,
        counselor=counselor,
        school_admin=school_admin,
        district_admin=district_admin,
        south_teacher=south_teacher,
        users=users,
    )


@pytest.fixture
def always_open(world) -> World:
    """The world's schools with no quiet hours and an office open around the clock on school
    days, so tests of sending pass at whatever hour they run (at a weekend the office is still
    closed, and a family that writes is told so)."""
    for school in (world.north, world.south):
        school.quiet_hours_start = school.quiet_hours_end = datetime.time(0, 0)
        school.office_opens_at, school.office_closes_at = datetime.time(0, 0), datetime.time(23, 59)
        school.save()
    return world
