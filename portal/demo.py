"""The demo school a newcomer sees after `make demo`: Riverside Elementary, its staff and forty
families in six languages, with sign-ins that share one publicly known password.

Everything is fictional. Phone numbers are in 555-0100..555-0199, the range the North American
Numbering Plan keeps for fiction (it reaches no one, and `phonenumbers` still reads it as valid);
e-mail addresses end in `.example`, a top-level domain reserved so that mail to it never leaves.

Every record is keyed by a `demo-…` sourced_id (or by its natural key), so seeding twice changes
nothing. The names are written out below; `random.Random(2026)` only spreads the children over
the grades, the same way on every run.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from portal.models import (
    District,
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

# Publicly known on purpose; the command refuses to seed it while DEBUG is off.
DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105
STAFF_DOMAIN = "riverside.example"
FAMILY_DOMAIN = "home.example"
SCHOOL_SMS_NUMBER = "+13125550100"
SCHOOL_OFFICE_PHONE = "+13125550101"
FAMILY_PHONE_PREFIX = "+1773555"  # + 0100..0199, one a guardian with a phone, in order
TERM = "2025–2026"
NO_CONTACT_NOTE = (
    "Court order (no contact), on file in the office since 2025-08-14: Ryan Walker may not "
    "receive information about Chloe or pick her up. Do not message him; refer any call to "
    "the principal."
)

ROLE = StaffMembership.Role
SMS, EMAIL, BOTH = "sms", "email", "both"  # how a guardian wants to be reached


class DemoSignIn(NamedTuple):
    role: str  # a StaffMembership role, or "superuser" for the Django admin
    email: str
    password: str


@dataclass
class DemoSchool:
    school: School
    sign_ins: list[DemoSignIn] = field(default_factory=list)  # sign in with a password
    guardian_usernames: list[str] = field(default_factory=list)  # accounts with no password
    family_count: int = 0
    student_count: int = 0


# ---- Staff and sections ------------------------------------------------------------------------


class _StaffSpec(NamedTuple):
    key: str  # the part of the e-mail address before the @, and of the sourced_id
    role: str
    given_name: str
    family_name: str


STAFF = [
    _StaffSpec("teacher1", ROLE.TEACHER, "Emily", "Carter"),
    _StaffSpec("teacher2", ROLE.TEACHER, "Luis", "Ortega"),
    _StaffSpec("teacher3", ROLE.TEACHER, "Grace", "Okafor"),
    _StaffSpec("counselor", ROLE.COUNSELOR, "Amina", "Yusuf"),
    _StaffSpec("principal", ROLE.ADMIN, "Robert", "Hayes"),
]
SUPERUSER_EMAIL = f"admin@{STAFF_DOMAIN}"


class _SectionSpec(NamedTuple):
    key: str
    name: str
    grade: str  # OneRoster grade codes, as an import would give them
    period: str
    teacher_key: str


# Half-day kindergarten in the morning and the afternoon; grades 3 and 4 are departmentalized,
# so an older child has two teachers.
SECTIONS = [
    _SectionSpec("kg-am", "Kindergarten AM – Room 2", "KG", "AM", "teacher1"),
    _SectionSpec("kg-pm", "Kindergarten PM – Room 2", "KG", "PM", "teacher1"),
    _SectionSpec("g3-math", "Grade 3 – Room 12 (Math & Science)", "03", "1–2", "teacher2"),
    _SectionSpec("g4-math", "Grade 4 – Room 12 (Math & Science)", "04", "3–4", "teacher2"),
    _SectionSpec("g3-ela", "Grade 3 – Room 14 (Reading & Writing)", "03", "3–4", "teacher3"),
    _SectionSpec("g4-ela", "Grade 4 – Room 14 (Reading & Writing)", "04", "1–2", "teacher3"),
]
GRADES = ["KG", "03", "04"]


# ---- Families ----------------------------------------------------------------------------------


class _GuardianSpec(NamedTuple):
    given_name: str
    family_name: str
    reach: str  # SMS, EMAIL or BOTH
    relationship: str = GuardianLink.Relationship.PARENT
    language: str | None = None  # when it differs from the family's
    has_account: bool = False  # a sign-in account (by code later, never by password)
    is_no_contact: bool = False


class _FamilySpec(NamedTuple):
    language: str
    surname: str  # the children's family name; each guardian keeps their own
    guardians: list[_GuardianSpec]  # the first is every child's primary contact
    children: list[str]


G = _GuardianSpec
REL = GuardianLink.Relationship
# fmt: off
FAMILIES = [
    # English
    _FamilySpec("en", "Johnson", [G("Jennifer", "Johnson", BOTH, has_account=True),
                                  G("Michael", "Johnson", EMAIL)], ["Olivia", "Liam"]),
    _FamilySpec("en", "Miller", [G("Sarah", "Miller", BOTH)], ["Noah"]),
    _FamilySpec("en", "Davis", [G("Ashley", "Davis", EMAIL)], ["Emma", "Mason", "Ava"]),
    _FamilySpec("en", "Thompson", [G("Karen", "Thompson", BOTH),
                                   G("James", "Thompson", SMS)], ["Ethan"]),
    _FamilySpec("en", "Walker", [G("Megan", "Walker", BOTH),
                                 G("Ryan", "Walker", BOTH, is_no_contact=True)], ["Chloe"]),
    _FamilySpec("en", "Robinson", [G("Dorothy", "Robinson", BOTH, REL.GUARDIAN)],
                ["Jayden", "Harper"]),
    _FamilySpec("en", "Clark", [G("Brian", "Clark", BOTH)], ["Lucas"]),
    _FamilySpec("en", "Lewis", [G("Tiffany", "Lewis", SMS)], ["Grace", "Logan"]),
    _FamilySpec("en", "Hall", [G("Amanda", "Hall", EMAIL), G("Christopher", "Hall", EMAIL)],
                ["Sophia"]),
    _FamilySpec("en", "Young", [G("Brittany", "Young", SMS)], ["Aiden"]),
    _FamilySpec("en", "King", [G("Robert", "King", BOTH), G("Denise", "Brooks", SMS, REL.RELATIVE)],
                ["Mia", "Elijah"]),
    _FamilySpec("en", "Wright", [G("Jessica", "Wright", BOTH)], ["Carter"]),
    # Spanish
    _FamilySpec("es", "Ramírez", [G("María", "Hernández", SMS, has_account=True),
                                  G("José", "Ramírez", SMS)], ["Sofía", "Mateo"]),
    _FamilySpec("es", "García", [G("Guadalupe", "García", SMS)],
                ["Valentina", "Santiago", "Camila"]),
    _FamilySpec("es", "López", [G("Rosa", "Martínez", BOTH, has_account=True),
                                G("Luis", "López", SMS)], ["Diego"]),
    _FamilySpec("es", "Pérez", [G("Ana", "Pérez", SMS)], ["Ximena", "Emiliano"]),
    _FamilySpec("es", "Sánchez", [G("Verónica", "Torres", SMS), G("Miguel", "Sánchez", SMS)],
                ["Isabella"]),
    _FamilySpec("es", "Rodríguez", [G("Leticia", "Rodríguez", BOTH)], ["Ángel", "Daniela"]),
    _FamilySpec("es", "Flores", [G("Carlos", "Flores", SMS)], ["Leonardo"]),
    _FamilySpec("es", "Rivera", [G("Yesenia", "Rivera", BOTH, language="en")],
                ["Regina", "Sebastián"]),
    _FamilySpec("es", "Gómez", [G("Claudia", "Morales", SMS), G("Jorge", "Gómez", SMS)],
                ["Fernanda"]),
    _FamilySpec("es", "Cruz", [G("Maricela", "Cruz", SMS),
                               G("Carmen", "Cruz", SMS, REL.RELATIVE)], ["Alejandro", "Renata"]),
    _FamilySpec("es", "Castillo", [G("Juan", "Castillo", SMS)], ["Valeria"]),
    # Vietnamese
    _FamilySpec("vi", "Nguyễn", [G("Lan", "Trần", SMS), G("Minh", "Nguyễn", BOTH)],
                ["Bảo An", "Khôi"]),
    _FamilySpec("vi", "Phạm", [G("Hương", "Phạm", SMS)], ["Linh", "Huy"]),
    _FamilySpec("vi", "Lê", [G("Thu", "Võ", SMS), G("Tuấn", "Lê", BOTH)], ["Vy"]),
    _FamilySpec("vi", "Hoàng", [G("Mai", "Hoàng", EMAIL)], ["Nam", "Ngọc"]),
    _FamilySpec("vi", "Đặng", [G("Dũng", "Đặng", SMS)], ["Minh Anh"]),
    # Simplified Chinese
    _FamilySpec("zh-hans", "Wang", [G("Jing", "Liu", BOTH), G("Lei", "Wang", EMAIL)],
                ["Yutong", "Haoran"]),
    _FamilySpec("zh-hans", "Zhang", [G("Fang", "Zhang", SMS)], ["Zihan"]),
    _FamilySpec("zh-hans", "Li", [G("Xiuying", "Zhao", SMS, REL.GUARDIAN)], ["Jiayi", "Ruoxi"]),
    _FamilySpec("zh-hans", "Chen", [G("Min", "Huang", BOTH),
                                    G("Hao", "Chen", EMAIL, language="en")], ["Yichen"]),
    # Arabic
    _FamilySpec("ar", "Hassan", [G("Fatima", "Ali", SMS), G("Mohammed", "Hassan", SMS)],
                ["Yusuf", "Noor", "Adam"]),
    _FamilySpec("ar", "Ibrahim", [G("Aisha", "Ibrahim", SMS)], ["Sara"]),
    _FamilySpec("ar", "Khalil", [G("Omar", "Khalil", BOTH)], ["Zaid", "Lina"]),
    _FamilySpec("ar", "Haddad", [G("Mariam", "Saleh", SMS), G("Khaled", "Haddad", BOTH)],
                ["Hamza"]),
    # Somali: children carry their father's given name as their family name
    _FamilySpec("so", "Ahmed", [G("Hodan", "Abdi", SMS), G("Ahmed", "Warsame", SMS)],
                ["Ayaan", "Abdirahman"]),
    _FamilySpec("so", "Mohamed", [G("Fadumo", "Hassan", SMS)], ["Hibaaq", "Mustafe"]),
    _FamilySpec("so", "Omar", [G("Sahra", "Jama", SMS), G("Omar", "Farah", BOTH)], ["Hamdi"]),
    _FamilySpec("so", "Abdullahi", [G("Ubah", "Ali", SMS)], ["Khadar", "Nasra", "Farhan"]),
]
# fmt: on


# Support services of the demo directory: (category, its Spanish name, SMS keywords, service).
SUPPORT_SERVICES = [
    (
        "Food and clothing",
        "Comida y ropa",
        "FOOD COMIDA",
        {
            "title_en": "Family food pantry",
            "title_es": "Despensa familiar",
            "summary_en": "Free groceries for any family of the school, no questions asked.",
            "summary_es": "Alimentos gratis para cualquier familia de la escuela, sin preguntas.",
            "hours_en": "Fridays 3 to 5 pm, in the gym",
            "hours_es": "Viernes de 3 a 5 pm, en el gimnasio",
            "phone": "+17735550190",
            "address": "1200 River Road, Chicago, IL",
        },
    ),
    (
        "Counseling",
        "Consejería",
        "COUNSELING CONSEJERIA",
        {
            "title_en": "Talk to the school counselor",
            "title_es": "Hable con la consejera escolar",
            "summary_en": "Confidential help with worries at home or at school.",
            "summary_es": "Ayuda confidencial con preocupaciones en casa o en la escuela.",
            "hours_en": "School days 8 am to 3 pm",
            "hours_es": "Días de clase de 8 am a 3 pm",
        },
    ),
]


# ---- The service -------------------------------------------------------------------------------


@transaction.atomic
def demo_school_seed(*, password: str = DEMO_PASSWORD) -> DemoSchool:
    """Creates the demo school, its staff and families; a second run changes nothing.

    Staff and the superuser sign in with `password` (reset to it if someone changed it); guardian
    accounts have no usable password.
    """
    district, _ = District.objects.get_or_create(
        sourced_id="demo-district", defaults={"name": "Riverside Unified School District"}
    )
    school, _ = School.objects.get_or_create(
        sourced_id="demo-school",
        defaults={
            "district": district,
            "name": "Riverside Elementary",
            "timezone": "America/Chicago",
            "country": "US",
            "default_language": "en",
            "sms_number": SCHOOL_SMS_NUMBER,
            "office_phone": SCHOOL_OFFICE_PHONE,
            "office_email": f"office@{STAFF_DOMAIN}",
            "office_opens_at": datetime.time(7, 30),
            "office_closes_at": datetime.time(16, 0),
        },
    )
    demo = DemoSchool(school=school)

    staff_by_key = {}
    for spec in STAFF:
        email = f"{spec.key}@{STAFF_DOMAIN}"
        user = _user_with_password(
            email, password, first_name=spec.given_name, last_name=spec.family_name
        )
        staff, _ = Staff.objects.get_or_create(
            sourced_id=f"demo-staff-{spec.key}",
            defaults={
                "given_name": spec.given_name,
                "family_name": spec.family_name,
                "email": email,
                "user": user,
            },
        )
        StaffMembership.objects.get_or_create(staff=staff, school=school, role=spec.role)
        staff_by_key[spec.key] = staff
        demo.sign_ins.append(DemoSignIn(spec.role, email, password))

    _user_with_password(SUPERUSER_EMAIL, password, is_staff=True, is_superuser=True)
    demo.sign_ins.append(DemoSignIn("superuser", SUPERUSER_EMAIL, password))

    sections_by_grade: dict[str, list[Section]] = {grade: [] for grade in GRADES}
    for spec in SECTIONS:
        section, _ = Section.objects.get_or_create(
            sourced_id=f"demo-section-{spec.key}",
            defaults={
                "school": school,
                "name": spec.name,
                "grade": spec.grade,
                "period": spec.period,
                "term": TERM,
            },
        )
        SectionStaff.objects.get_or_create(section=section, staff=staff_by_key[spec.teacher_key])
        sections_by_grade[spec.grade].append(section)

    rng = random.Random(2026)
    phone_numbers = (f"{FAMILY_PHONE_PREFIX}{line:04d}" for line in range(100, 200))
    for family_number, family in enumerate(FAMILIES, start=1):
        guardians = [
            _guardian(
                f"demo-guardian-{family_number:02d}-{position}", spec, family, phone_numbers, demo
            )
            for position, spec in enumerate(family.guardians, start=1)
        ]
        grades = rng.sample(GRADES, k=len(family.children))  # siblings are in different grades
        for position, (given_name, grade) in enumerate(zip(family.children, grades, strict=True)):
            student, _ = Student.objects.get_or_create(
                sourced_id=f"demo-student-{family_number:02d}-{position + 1}",
                defaults={
                    "school": school,
                    "given_name": given_name,
                    "family_name": family.surname,
                    "grade": grade,
                },
            )
            sections = sections_by_grade[grade]
            if grade == "KG":  # half-day: the morning or the afternoon class
                sections = [rng.choice(sections)]
            for section in sections:
                Enrollment.objects.get_or_create(section=section, student=student)
            for guardian, spec in zip(guardians, family.guardians, strict=True):
                GuardianLink.objects.get_or_create(
                    student=student,
                    guardian=guardian,
                    defaults={
                        "relationship": spec.relationship,
                        "is_primary_contact": guardian is guardians[0],
                        "may_receive_messages": not spec.is_no_contact,
                    },
                )
            demo.student_count += 1
        demo.family_count += 1
    _support_services_seed(school, staff_by_key["counselor"])
    _survey_seed(school, staff_by_key["teacher1"], sections_by_grade["KG"])
    return demo


def _survey_seed(school: School, teacher: Staff, sections: list[Section]) -> None:
    """A draft survey of the kindergarten teacher, in English and Spanish, ready to send."""
    from surveys.models import Choice, Question, Survey

    survey, created = Survey.objects.get_or_create(
        school=school,
        title_en="Conference week",
        defaults={
            "created_by": teacher,
            "title_es": "Semana de reuniones",
            "introduction_en": "Three quick questions about parent–teacher conferences.",
            "introduction_es": "Tres preguntas rápidas sobre las reuniones con la maestra.",
            "thank_you_en": "Thank you! We will confirm your time.",
            "thank_you_es": "¡Gracias! Le confirmaremos la hora.",
            "audience": Survey.Audience.SECTIONS,
            "reminder_after_hours": 24,
        },
    )
    if not created:
        return
    survey.sections.set(sections)
    day = Question.objects.create(
        survey=survey,
        position=1,
        kind="single_choice",
        text_en="Which day suits you best?",
        text_es="¿Qué día le conviene más?",
    )
    for position, (english, spanish) in enumerate(
        [("Monday", "Lunes"), ("Tuesday", "Martes"), ("Thursday", "Jueves")], start=1
    ):
        Choice.objects.create(question=day, position=position, text_en=english, text_es=spanish)
    Question.objects.create(
        survey=survey,
        position=2,
        kind="yes_no",
        text_en="Would you like an interpreter?",
        text_es="¿Desea un intérprete?",
    )
    Question.objects.create(
        survey=survey,
        position=3,
        kind="short_text",
        is_required=False,
        text_en="Anything we should know?",
        text_es="¿Algo que debamos saber?",
    )


def _support_services_seed(school: School, counselor: Staff) -> None:
    """Two services in the directory, in English and Spanish, that the counselor answers."""
    from supports.models import SupportCategory, SupportService

    for position, (english, spanish, keywords, service) in enumerate(SUPPORT_SERVICES, start=1):
        category, _ = SupportCategory.objects.get_or_create(
            name_en=english,
            defaults={"name_es": spanish, "sms_keywords": keywords, "position": position},
        )
        found, created = SupportService.objects.get_or_create(
            school=school,
            title_en=service["title_en"],
            defaults={
                **service,
                "category": category,
                "owner": counselor,
                "status": SupportService.Status.PUBLISHED,
                "published_at": timezone.now(),
                "languages": "en es",
            },
        )
        if created:
            found.counselors.add(counselor)


def _user_with_password(email: str, password: str, **defaults) -> User:
    user, created = User.objects.get_or_create(
        username=email, defaults={"email": email, **defaults}
    )
    if created or not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _guardian(
    sourced_id: str, spec: _GuardianSpec, family: _FamilySpec, phone_numbers, demo: DemoSchool
) -> Guardian:
    phone = next(phone_numbers) if spec.reach in (SMS, BOTH) else ""
    email = (
        f"{_ascii(spec.given_name)}.{_ascii(spec.family_name)}@{FAMILY_DOMAIN}"
        if spec.reach in (EMAIL, BOTH)
        else ""
    )
    guardian, _ = Guardian.objects.get_or_create(
        sourced_id=sourced_id,
        defaults={
            "given_name": spec.given_name,
            "family_name": spec.family_name,
            "phone": phone,
            "email": email,
            "preferred_language": spec.language or family.language,
            "wants_sms": bool(phone),
            "wants_email": bool(email),
            "contact_restrictions": NO_CONTACT_NOTE if spec.is_no_contact else "",
        },
    )
    if spec.has_account:
        username = guardian.email or str(guardian.phone)
        user, user_created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": guardian.email or None,
                "first_name": guardian.given_name,
                "last_name": guardian.family_name,
            },
        )
        if user_created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if guardian.user_id is None:
            guardian.user = user
            guardian.save(update_fields=["user"])
        demo.guardian_usernames.append(username)
    return guardian


def _ascii(name: str) -> str:
    """`Hernández` -> `hernandez`, `Đặng` -> `dang`, `Bảo An` -> `baoan`: for e-mail addresses."""
    name = name.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if char.isascii() and char.isalpha()).lower()
