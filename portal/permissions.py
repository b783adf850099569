"""Who may see and change what: the one place that answers it.

Every page, API endpoint and admin list asks here. Reads go through the `*_visible_to` querysets,
so an id that is not the user's simply is not found (404), never shown.

- A guardian sees their own children and what concerns them; nothing of a child whose link says
  they may not receive messages (a court order, a no-contact instruction).
- A teacher sees the students of their sections and those students' guardians.
- A counselor sees every student of their school and those students' guardians.
- A school admin sees their school; a district admin their district; a superuser everything.

Changes: staff may change what their admin role covers; a guardian changes only their own
preferences (through the preference services).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Model, Q, QuerySet

from portal.models import (
    Guardian,
    School,
    Section,
    Staff,
    StaffMembership,
    Student,
)

ROLE = StaffMembership.Role


@dataclass(frozen=True)
class Access:
    """What one signed-in user is, read once per request (three queries at most)."""

    is_superuser: bool = False
    guardian_id: int | None = None
    staff_id: int | None = None
    roles: dict[int, frozenset[str]] = field(default_factory=dict)  # school id -> roles there
    district_ids: frozenset[int] = frozenset()  # districts they administer

    def schools_with(self, *roles: str) -> list[int]:
        return [school for school, held in self.roles.items() if held.intersection(roles)]

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles or self.district_ids or self.is_superuser)

    @property
    def may_import_rosters(self) -> bool:
        """A bundle can touch every school it names, so importing is for the district."""
        return self.is_superuser or bool(self.district_ids)

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or bool(self.district_ids or self.schools_with(ROLE.ADMIN))


NOBODY = Access()


def access_for(user) -> Access:
    """The user's access, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    cached = getattr(user, "_portal_access", None)
    if cached is not None:
        return cached
    guardian = Guardian.objects.filter(user=user, is_active=True).values_list("pk", flat=True)
    staff = Staff.objects.filter(user=user, is_active=True).values_list(
        "pk",
        "memberships__school_id",
        "memberships__role",
        "memberships__is_active",
        "memberships__school__is_active",
        "districts_administered__pk",
        "districts_administered__is_active",
    )
    roles: dict[int, set[str]] = {}
    district_ids: set[int] = set()
    staff_id = None
    for (
        member_id,
        school_id,
        role,
        role_active,
        school_active,
        district_id,
        district_active,
    ) in staff:
        staff_id = member_id
        if school_id is not None and role_active and school_active:
            roles.setdefault(school_id, set()).add(role)
        if district_id is not None and district_active:
            district_ids.add(district_id)
    if district_ids:
        for school_id in School.objects.filter(
            district__in=district_ids, is_active=True
        ).values_list("pk", flat=True):
            roles.setdefault(school_id, set()).add(ROLE.ADMIN)
    access = Access(
        is_superuser=user.is_superuser,
        guardian_id=next(iter(guardian), None),
        staff_id=staff_id,
        roles={school: frozenset(held) for school, held in roles.items()},
        district_ids=frozenset(district_ids),
    )
    user._portal_access = access
    return access


def _children_q(access: Access, prefix: str = "") -> Q:
    """Students a guardian may see: linked, active, and allowed to receive messages."""
    return Q(
        **{
            f"{prefix}guardian_links__guardian_id": access.guardian_id,
            f"{prefix}guardian_links__is_active": True,
            f"{prefix}guardian_links__may_receive_messages": True,
        }
    )


def _children(access: Access) -> QuerySet[Student]:
    return Student.objects.filter(_children_q(access), is_active=True)


def _barred_children(access: Access) -> QuerySet[Student]:
    """Children a no-contact link bars this person from, whatever else they are at school."""
    return Student.objects.filter(
        guardian_links__guardian_id=access.guardian_id,
        guardian_links__may_receive_messages=False,
    ).values("pk")


def students_visible_to(user) -> QuerySet[Student]:
    access = access_for(user)
    students = Student.objects.filter(is_active=True)
    if access.is_superuser:
        return students
    if access.guardian_id:
        students = students.exclude(pk__in=_barred_children(access))
    rule = Q(pk__in=[])
    if access.guardian_id:
        rule |= _children_q(access)
    whole_school = access.schools_with(ROLE.COUNSELOR, ROLE.ADMIN)
    if whole_school:
        rule |= Q(school_id__in=whole_school)
    if access.staff_id and access.schools_with(ROLE.TEACHER):
        rule |= Q(
            enrollments__is_active=True,
            enrollments__section__is_active=True,
            enrollments__section__staff_links__staff_id=access.staff_id,
            enrollments__section__staff_links__is_active=True,
            enrollments__section__school_id__in=access.schools_with(ROLE.TEACHER),
        )
    return students.filter(pk__in=Student.objects.filter(rule).values("pk"))


def guardians_visible_to(user) -> QuerySet[Guardian]:
    """A guardian sees themselves; staff see the guardians of the students they see (including
    a no-contact guardian, so that they know not to contact them)."""
    access = access_for(user)
    guardians = Guardian.objects.filter(is_active=True)
    if access.is_superuser:
        return guardians
    rule = Q(pk=access.guardian_id) if access.guardian_id else Q(pk__in=[])
    if access.is_staff_member:
        rule |= Q(
            student_links__is_active=True,
            student_links__student__in=students_visible_to(user),
        )
    return guardians.filter(pk__in=Guardian.objects.filter(rule).values("pk"))


def sections_visible_to(user) -> QuerySet[Section]:
    access = access_for(user)
    sections = Section.objects.filter(is_active=True)
    if access.is_superuser:
        return sections
    rule = Q(pk__in=[])
    if access.guardian_id:
        rule |= Q(
            enrollments__is_active=True,
            enrollments__student__in=_children(access),
        )
    whole_school = access.schools_with(ROLE.COUNSELOR, ROLE.ADMIN)
    if whole_school:
        rule |= Q(school_id__in=whole_school)
    if access.staff_id:
        rule |= Q(
            staff_links__staff_id=access.staff_id,
            staff_links__is_active=True,
            school_id__in=access.schools_with(ROLE.TEACHER),
        )
    return sections.filter(pk__in=Section.objects.filter(rule).values("pk"))


def schools_visible_to(user) -> QuerySet[School]:
    access = access_for(user)
    schools = School.objects.filter(is_active=True)
    if access.is_superuser:
        return schools
    rule = Q(pk__in=list(access.roles))
    if access.guardian_id:
        rule |= Q(students__in=_children(access))
    return schools.filter(pk__in=School.objects.filter(rule).values("pk"))


def staff_visible_to(user) -> QuerySet[Staff]:
    """Staff a user may see: colleagues at their schools; for a guardian, the people in their
    children's "who to contact" directory."""
    access = access_for(user)
    staff = Staff.objects.filter(is_active=True)
    if access.is_superuser:
        return staff
    rule = Q(memberships__school_id__in=list(access.roles), memberships__is_active=True)
    if access.guardian_id:
        children = _children(access)
        rule |= Q(
            section_links__is_active=True,
            section_links__section__is_active=True,
            section_links__section__enrollments__is_active=True,
            section_links__section__enrollments__student__in=children,
        )
        rule |= Q(
            memberships__role=ROLE.COUNSELOR,
            memberships__is_active=True,
            memberships__school__students__in=children,
        )
    return staff.filter(pk__in=Staff.objects.filter(rule).values("pk"))


def threads_visible_to(user):
    """Threads a user may read: the ones they take part in; for a school admin, every thread of
    their schools, and for a superuser every thread, except confidential help requests (those are
    for the family and the service's counselors only). A guardian never sees a thread about a
    child their link bars them from, and sees an announcement's thread once it was sent to them
    (they read it as a recipient, not a participant, so they cannot answer all)."""
    from messaging.models import BroadcastRecipient, Thread

    access = access_for(user)
    threads = Thread.objects.all()
    rule = Q(pk__in=[])
    if access.is_superuser:  # every thread but the help requests it takes no part in
        rule |= ~Q(kind=Thread.Kind.HELP_REQUEST)
    if access.staff_id:
        rule |= Q(participants__staff_id=access.staff_id)
    admin_schools = access.schools_with(ROLE.ADMIN)
    if admin_schools:
        rule |= Q(school_id__in=admin_schools) & ~Q(kind=Thread.Kind.HELP_REQUEST)
    if access.guardian_id:
        rule |= Q(participants__guardian_id=access.guardian_id) & (
            Q(student__isnull=True) | Q(student__in=_children(access))
        )
        received = BroadcastRecipient.objects.filter(
            guardian_id=access.guardian_id, broadcast__status="sent"
        ).values("broadcast__thread_id")
        rule |= Q(kind=Thread.Kind.BROADCAST, pk__in=received)
    # A survey's thread only carries its texts to families: it is nobody's conversation.
    return threads.filter(pk__in=Thread.objects.filter(rule).values("pk")).exclude(
        kind=Thread.Kind.SURVEY
    )


VISIBLE = {
    School: schools_visible_to,
    Section: sections_visible_to,
    Student: students_visible_to,
    Guardian: guardians_visible_to,
    Staff: staff_visible_to,
}


def may_view(user, obj: Model) -> bool:
    """May this user see this record? Answers with one query."""
    visible = VISIBLE.get(type(obj))
    return visible is not None and visible(user).filter(pk=obj.pk).exists()


def may_change(user, obj: Model) -> bool:
    """May this user change this record? Admins change what their schools hold; a guardian
    changes their own preferences; teachers and counselors change people records through the
    office."""
    access = access_for(user)
    if access.is_superuser:
        return True
    if isinstance(obj, Guardian) and obj.pk == access.guardian_id:
        return True
    admin_schools = access.schools_with(ROLE.ADMIN)
    if not admin_schools:
        return False
    if isinstance(obj, School):
        return obj.pk in admin_schools
    if isinstance(obj, Section | Student):
        return obj.school_id in admin_schools
    if isinstance(obj, Guardian):
        return obj.student_links.filter(
            is_active=True, student__school_id__in=admin_schools
        ).exists()
    if isinstance(obj, Staff):
        return obj.memberships.filter(school_id__in=admin_schools).exists()
    return False
