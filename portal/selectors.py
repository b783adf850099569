"""Reads shared by pages and reports, each a constant number of SQL queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from portal import permissions
from portal.models import (
    GuardianLink,
    RosterImport,
    School,
    Section,
    SectionStaff,
    Staff,
    StaffMembership,
    Student,
)


def schools_for_front_page() -> QuerySet[School]:
    return School.objects.filter(is_active=True).select_related("district").order_by("name")


@dataclass
class ChildContacts:
    """One child of a guardian and the people to contact about them."""

    student: Student
    teachers: list[tuple[Staff, str]]  # (teacher, the section they teach the child)
    counselors: list[Staff]
    school: School


def children_for_guardian(user) -> list[ChildContacts]:
    """A guardian's children with "who to contact": teachers, counselors and the office.
    Four queries whatever the number of children."""
    children = list(
        permissions.students_visible_to(user)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "enrollments__section__staff_links",
                queryset=SectionStaff.objects.filter(is_active=True, staff__is_active=True)
                .select_related("staff", "section")
                .order_by("section__name"),
            )
        )
        .order_by("given_name")
    )
    counselors: dict[int, list[Staff]] = {}
    for membership in StaffMembership.objects.filter(
        role=StaffMembership.Role.COUNSELOR,
        is_active=True,
        staff__is_active=True,
        school__in={child.school_id for child in children},
    ).select_related("staff"):
        counselors.setdefault(membership.school_id, []).append(membership.staff)
    contacts = []
    for child in children:
        teachers = [
            (link.staff, link.section.name)
            for enrollment in child.enrollments.all()
            if enrollment.is_active and enrollment.section.is_active
            for link in enrollment.section.staff_links.all()
        ]
        contacts.append(
            ChildContacts(child, teachers, counselors.get(child.school_id, []), child.school)
        )
    return contacts


def sections_for_teacher(user) -> QuerySet[Section]:
    """The sections a teacher teaches, each with its students and their guardians (with the
    no-contact links, marked). Four queries whatever the size of the sections."""
    access = permissions.access_for(user)
    return (
        permissions.sections_visible_to(user)
        .filter(staff_links__staff_id=access.staff_id, staff_links__is_active=True)
        .select_related("school")
        .prefetch_related(
            Prefetch(
                "students",
                queryset=Student.objects.filter(is_active=True, enrollments__is_active=True)
                .distinct()
                .order_by("family_name", "given_name"),
            ),
            Prefetch(
                "students__guardian_links",
                queryset=GuardianLink.objects.filter(is_active=True, guardian__is_active=True)
                .select_related("guardian")
                .order_by("-is_primary_contact", "guardian__family_name"),
            ),
        )
        .order_by("name")
    )


@dataclass
class SchoolOverview:
    school: School
    students: int
    families: int
    families_unreachable: int  # no channel a message can reach them by
    no_contact_links: int
    languages: list[tuple[str, int]]  # language code, guardians
    staff_by_role: dict[str, int]
    last_import: RosterImport | None


def school_overviews(user) -> list[SchoolOverview]:
    """Counts for each school the user oversees (counselor or admin), by aggregate SQL: five
    queries whatever the number of students (after the user's access, read once)."""
    access = permissions.access_for(user)
    school_ids = (
        list(School.objects.filter(is_active=True).values_list("pk", flat=True))
        if access.is_superuser
        else access.schools_with(StaffMembership.Role.COUNSELOR, StaffMembership.Role.ADMIN)
    )
    family_link = Q(
        students__is_active=True,
        students__guardian_links__is_active=True,
        students__guardian_links__guardian__is_active=True,
    )
    guardian = "students__guardian_links__guardian"
    reachable = Q(**{f"{guardian}__wants_sms": True}) & ~Q(**{f"{guardian}__phone": ""}) | Q(
        **{f"{guardian}__wants_email": True}
    ) & ~Q(**{f"{guardian}__email": ""})
    schools = School.objects.filter(pk__in=school_ids).annotate(
        student_count=Count("students", filter=Q(students__is_active=True), distinct=True),
        family_count=Count(guardian, filter=family_link, distinct=True),
        reachable_count=Count(guardian, filter=family_link & reachable, distinct=True),
    )
    languages: dict[int, list[tuple[str, int]]] = {}
    for school, language, count in (
        School.objects.filter(pk__in=school_ids, **{f"{guardian}__isnull": False})
        .filter(family_link)
        .values_list("pk", f"{guardian}__preferred_language")
        .annotate(count=Count(guardian, distinct=True))
        .order_by("-count", f"{guardian}__preferred_language")
    ):
        languages.setdefault(school, []).append((language, count))
    no_contact = dict(
        GuardianLink.objects.filter(
            is_active=True, may_receive_messages=False, student__school__in=school_ids
        )
        .values_list("student__school")
        .annotate(count=Count("pk"))
    )
    roles: dict[int, dict[str, int]] = {}
    for school, role, count in (
        StaffMembership.objects.filter(school__in=school_ids, is_active=True)
        .values_list("school", "role")
        .annotate(count=Count("pk"))
    ):
        roles.setdefault(school, {})[role] = count
    last_import = RosterImport.objects.filter(
        status=RosterImport.Status.DONE, is_dry_run=False
    ).first()
    return [
        SchoolOverview(
            school=school,
            students=school.student_count,
            families=school.family_count,
            families_unreachable=school.family_count - school.reachable_count,
            no_contact_links=no_contact.get(school.pk, 0),
            languages=languages.get(school.pk, []),
            staff_by_role=roles.get(school.pk, {}),
            last_import=last_import,
        )
        for school in schools.order_by("name")
    ]
