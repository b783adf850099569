"""factory_boy factories for the people app."""

import factory
from django.utils import timezone

from portal import models


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.District

    name = factory.Sequence(lambda n: f"District {n}")


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.School

    name = factory.Sequence(lambda n: f"School {n}")
    district = factory.SubFactory(DistrictFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Staff

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"staff{n}@school.example.org")


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffMembership

    staff = factory.SubFactory(StaffFactory)
    school = factory.SubFactory(SchoolFactory)
    role = models.StaffMembership.Role.TEACHER


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Section

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Section {n}")
    grade = "5"


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Student

    school = factory.SubFactory(SchoolFactory)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    grade = "5"


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Guardian

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+1617555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"guardian{n}@example.org")
    preferred_language = "en"


class GuardianLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.GuardianLink

    student = factory.SubFactory(StudentFactory)
    guardian = factory.SubFactory(GuardianFactory)
    relationship = models.GuardianLink.Relationship.PARENT


class SupportCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "supports.SupportCategory"

    name = factory.Sequence(lambda n: f"Category {n}")
    position = factory.Sequence(lambda n: n + 1)


class SupportServiceFactory(factory.django.DjangoModelFactory):
    """A published service of a school (pass `school`), kept by `owner`."""

    class Meta:
        model = "supports.SupportService"

    category = factory.SubFactory(SupportCategoryFactory)
    title = factory.Sequence(lambda n: f"Service {n}")
    summary = "Help for families."
    status = "published"


# ---- Surveys ----------------------------------------------------------------------------------


class SurveyFactory(factory.django.DjangoModelFactory):
    """An open survey of a school (pass `school` and `created_by`), by SMS and on the web."""

    class Meta:
        model = "surveys.Survey"

    school = factory.SubFactory(SchoolFactory)
    title_en = factory.Sequence(lambda n: f"Survey {n}")
    audience = "school"
    status = "open"


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "surveys.Question"

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = "single_choice"
    text_en = factory.Sequence(lambda n: f"Question {n}?")
    is_required = False


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "surveys.Choice"

    question = factory.SubFactory(QuestionFactory)
    position = factory.Sequence(lambda n: n + 1)
    text_en = factory.Sequence(lambda n: f"Choice {n}")


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "surveys.Invitation"

    survey = factory.SubFactory(SurveyFactory)
    guardian = factory.SubFactory(GuardianFactory)
    channel = "sms"
    token = factory.Sequence(lambda n: f"invitation-token-{n:032d}")


class AnswerFactory(factory.django.DjangoModelFactory):
    """One answer; named by default (pass `invitation`), anonymous with `invitation=None`."""

    class Meta:
        model = "surveys.Answer"

    question = factory.SubFactory(QuestionFactory)
    respondent = factory.Sequence(lambda n: f"respondent-{n:08d}")
    language = "en"
    created_at = factory.LazyFunction(timezone.now)
