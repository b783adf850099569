"""Journeys of signing in: a Spanish-speaking father on a small phone with a texted code, a teacher
on a laptop with her password; each page checked by axe on the way."""

import re

import pytest

from messaging.channels.sms import MemoryBackend
from tests.e2e.a11y import assert_accessible
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

pytestmark = pytest.mark.browser

PASSWORD = "a long teacher password"


@pytest.fixture
def school_with_a_family(transactional_db, settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    school = SchoolFactory(
        name="Escuela Riverside", office_phone="+13125550101", sms_number="+13125550100"
    )
    teacher_user = UserFactory(
        username="maestra@riverside.example",
        email="maestra@riverside.example",
        password=PASSWORD,
        first_name="Laura",
    )
    teacher = StaffFactory(user=teacher_user, given_name="Laura", family_name="Ortiz")
    StaffMembershipFactory(staff=teacher, school=school, role="teacher")
    section = SectionFactory(school=school, name="Matemáticas 4")
    section.staff.add(teacher)
    student = StudentFactory(school=school, given_name="Mateo", family_name="Ruiz")
    section.students.add(student)
    father = GuardianFactory(
        given_name="Jorge", family_name="Ruiz", phone="+16172531000", preferred_language="es"
    )
    GuardianLinkFactory(guardian=father, student=student, is_primary_contact=True)
    return school


def test_father_signs_in_with_a_texted_code_on_a_small_phone_in_spanish(
    phone_page, base_url, school_with_a_family
):
    page = phone_page
    page.goto(base_url + "/sign-in/")
    page.evaluate("document.cookie = 'django_language=es; path=/'")
    page.reload()
    assert page.evaluate("document.documentElement.lang") == "es"
    assert_accessible(page, context="sign-in on a phone, in Spanish")

    page.get_by_label("Su número de celular o correo electrónico").fill("(617) 253-1000")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/code/")
    assert_accessible(page, context="the code page on a phone, in Spanish")
    code = re.search(r"\b(\d{6})\b", MemoryBackend.outbox[-1].body).group(1)
    assert "código" in MemoryBackend.outbox[-1].body

    page.get_by_label("Código de 6 dígitos").fill(code)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url("**/home/")

    assert page.get_by_role("heading", name="Mateo Ruiz").is_visible()
    assert page.get_by_text("Laura Ortiz").is_visible()  # who to contact: his teacher
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert_accessible(page, context="a father's home page on a phone, in Spanish")


def test_teacher_signs_in_on_a_laptop_and_sees_her_class(
    desktop_page, base_url, school_with_a_family
):
    page = desktop_page
    page.goto(base_url + "/sign-in/staff/")
    assert_accessible(page, context="staff sign-in on a laptop")

    page.get_by_label("Work email").fill("maestra@riverside.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")

    assert page.get_by_role("heading", name="Your classes").is_visible()
    assert page.get_by_text("Matemáticas 4").first.is_visible()
    row = page.get_by_role("row").filter(has_text="Mateo Ruiz")
    assert "Spanish" in row.inner_text() and "SMS" in row.inner_text()
    assert_accessible(page, context="a teacher's home page on a laptop")
