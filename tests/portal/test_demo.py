"""The demo school, as a newcomer meets it after `make demo`."""

import io

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from portal.demo import DEMO_PASSWORD, demo_school_seed
from portal.models import (
    Enrollment,
    Guardian,
    GuardianLink,
    School,
    Section,
    SectionStaff,
    Staff,
    StaffMembership,
    Student,
    User,
)

pytestmark = pytest.mark.django_db

DEMO_MODELS = [
    School,
    Section,
    SectionStaff,
    Staff,
    StaffMembership,
    Student,
    Enrollment,
    Guardian,
    GuardianLink,
    User,
]


@pytest.fixture
def demo():
    return demo_school_seed()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def test_demo_has_one_school_with_sections_and_about_forty_families(demo):
    assert School.objects.get() == demo.school
    assert demo.school.timezone == "America/Chicago"
    assert Section.objects.filter(school=demo.school).count() >= 5
    assert demo.family_count == 40
    assert 40 <= Guardian.objects.count() <= 80
    assert 40 <= Student.objects.count() <= 120
    primary_contacts = Guardian.objects.filter(student_links__is_primary_contact=True).distinct()
    assert primary_contacts.count() == 40


def test_every_family_language_is_spoken_by_some_guardian(demo):
    languages = set(Guardian.objects.values_list("preferred_language", flat=True))
    assert {"en", "es", "vi", "zh-hans", "ar", "so"} <= languages


def test_exactly_one_guardian_may_not_be_contacted_and_staff_are_told_why(demo):
    no_contact = GuardianLink.objects.get(may_receive_messages=False)
    assert not no_contact.is_primary_contact
    assert "court order" in no_contact.guardian.contact_restrictions.lower()
    assert list(Guardian.objects.exclude(contact_restrictions="")) == [no_contact.guardian]


def test_every_student_has_one_primary_contact_who_may_receive_messages(demo):
    students = Student.objects.annotate(
        primaries=Count("guardian_links", filter=Q(guardian_links__is_primary_contact=True)),
        reachable_primaries=Count(
            "guardian_links",
            filter=Q(
                guardian_links__is_primary_contact=True, guardian_links__may_receive_messages=True
            ),
        ),
    )
    assert {(s.primaries, s.reachable_primaries) for s in students} == {(1, 1)}


def test_every_student_is_enrolled_only_in_sections_of_their_grade(demo):
    assert not Student.objects.filter(enrollments=None).exists()
    for enrollment in Enrollment.objects.select_related("student", "section"):
        assert enrollment.section.grade == enrollment.student.grade


def test_every_role_has_a_staff_member_who_can_sign_in(demo, client):
    for role in StaffMembership.Role.values:
        staff = Staff.objects.filter(memberships__role=role, user__isnull=False).first()
        assert staff is not None, role
        response = client.post(
            "/sign-in/staff/", {"username": staff.user.email, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, role
        assert client.get("/home/").status_code == 200, role
        client.post("/sign-out/")
        assert (role, staff.user.email, DEMO_PASSWORD) in demo.sign_ins
    teachers = Staff.objects.filter(memberships__role="teacher")
    assert teachers.count() >= 3
    assert all(teacher.sections.count() == 2 for teacher in teachers)


def test_the_superuser_signs_in_to_the_django_admin(demo, client):
    login = client.post(
        "/sign-in/staff/?next=/admin/",
        {"username": "admin@riverside.example", "password": DEMO_PASSWORD, "next": "/admin/"},
    )
    assert login["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_guardian_accounts_have_no_usable_password(demo):
    accounts = User.objects.filter(guardian__isnull=False)
    assert accounts.count() == len(demo.guardian_usernames) >= 2
    assert not any(account.has_usable_password() for account in accounts)


def test_phones_are_valid_e164_numbers_and_every_guardian_has_a_channel(demo):
    phones = [
        str(phone) for phone in Guardian.objects.exclude(phone="").values_list("phone", flat=True)
    ]
    phones += [str(demo.school.sms_number), str(demo.school.office_phone)]
    for phone in phones:
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
    assert len(set(phones)) == len(phones)
    for guardian in Guardian.objects.all():
        assert guardian.wants_sms == bool(guardian.phone)
        assert guardian.wants_email == bool(guardian.email)
    assert Guardian.objects.filter(wants_sms=False).exists()  # email only
    assert Guardian.objects.filter(wants_email=False).exists()  # SMS only


def test_seeding_twice_changes_nothing(demo):
    before = counts()
    guardian_rows = list(Guardian.objects.order_by("pk").values())
    again = demo_school_seed()
    assert counts() == before
    assert list(Guardian.objects.order_by("pk").values()) == guardian_rows
    assert again.sign_ins == demo.sign_ins


def test_command_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not School.objects.exists()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert School.objects.filter(name="Riverside Elementary").exists()


def test_command_lists_the_sign_ins_and_where_to_use_them(settings):
    settings.DEBUG = True
    stdout = io.StringIO()
    call_command("seed_demo", stdout=stdout)
    output = stdout.getvalue()
    for role in ["teacher", "counselor", "admin", "superuser"]:
        assert role in output
    for email in [
        "teacher1@riverside.example",
        "counselor@riverside.example",
        "principal@riverside.example",
        "admin@riverside.example",
    ]:
        assert email in output
    assert DEMO_PASSWORD in output
    assert f"{settings.PUBLIC_BASE_URL}/admin/" in output
    assert "demo accounts" in output


def test_the_demo_directory_has_services_in_english_and_spanish_its_counselor_answers(demo):
    from supports.models import SupportService

    services = SupportService.objects.filter(status="published")
    assert services.count() == 2
    assert all(service.title_es and service.counselors.exists() for service in services)


def test_the_demo_kindergarten_teacher_can_send_a_ready_survey_to_her_classes(
    demo, celery_eager, django_capture_on_commit_callbacks
):
    from portal.models import Staff
    from surveys.models import Invitation, Survey
    from surveys.services import survey_send

    survey = Survey.objects.get(status="draft")
    assert survey.questions.count() == 3 and survey.title_es
    teacher = Staff.objects.get(email="teacher1@riverside.example")
    with django_capture_on_commit_callbacks(execute=True):
        sent = survey_send(actor=teacher.user, survey=survey)
    assert sent.by_sms + sent.on_web == Invitation.objects.filter(survey=survey).count() > 0
