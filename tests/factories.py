"""factory_boy factories for the people app."""

import factory

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
