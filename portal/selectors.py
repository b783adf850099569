"""Reads shared by pages and reports, each a constant number of SQL queries."""

from django.db.models import QuerySet

from portal.models import School


def schools_for_front_page() -> QuerySet[School]:
    return School.objects.filter(is_active=True).select_related("district").order_by("name")
