"""The engagement report in a real browser: a school admin reads it on a 360 px phone, changes
the breakdown with the keyboard alone, opens the worklist behind a figure, and reads it in
Arabic, right to left; each page passes axe."""

import pytest

from tests.e2e.a11y import assert_accessible
from tests.e2e.test_story import PHONE_WIDTH, _tab_to
from tests.portal.report_school import maple_school
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERIOD = "?start=2026-03-02&end=2026-03-15"


def _admin_signs_in(page, base_url: str) -> None:
    """By the fields' names, so that it works in any language."""
    page.goto(base_url + "/sign-in/staff/")
    page.locator("input[name=username]").fill("admin@maple.example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


@pytest.fixture
def maple_admin():
    maple = maple_school()
    admin = maple.users["admin"]
    admin.set_password(PASSWORD)
    admin.save()
    return maple


def test_an_admin_reads_the_report_on_a_phone_and_by_keyboard(phone_page, base_url, maple_admin):
    page = phone_page
    _admin_signs_in(page, base_url)
    page.goto(base_url + "/reports/" + PERIOD)
    assert page.get_by_role("img", name="Reach by grade").count() == 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    assert_accessible(page, context="the engagement report on a phone")

    # Break the figures down by home language, with the keyboard alone.
    _tab_to(page, "#id_by", most=80)
    page.keyboard.press("ArrowDown")  # Class
    page.keyboard.press("ArrowDown")  # Home language
    _tab_to(page, "form.report-filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "by=language" in page.url
    assert page.get_by_role("img", name="Reach by home language").count() == 1
    assert page.get_by_role("rowheader", name="Vietnamese").count() >= 1

    # The worklist behind a figure: the families on it, with why and what to try next.
    page.get_by_role("link", name="Worklist", exact=True).click()
    page.wait_for_url("**/reports/families/**")
    assert page.get_by_role("rowheader", name="Ivo Family").count() == 1
    assert_accessible(page, context="the worklist on a phone")


@pytest.mark.parametrize("browser_locale", ["ar"])
def test_the_report_reads_right_to_left_in_arabic(desktop_page, base_url, maple_admin):
    page = desktop_page
    _admin_signs_in(page, base_url)
    page.goto(base_url + "/reports/" + PERIOD)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert_accessible(page, context="the engagement report in Arabic")
