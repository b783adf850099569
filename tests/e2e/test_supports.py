"""The support directory on a phone, in a real browser: an Arabic-speaking mother finds a
service by searching in Arabic, reads it right to left at 360 px, and asks for help with the
keyboard alone; each page passes axe."""

import datetime

import pytest

from supports.models import HelpRequest
from tests.e2e.a11y import assert_accessible
from tests.e2e.test_story import MOTHER_PHONE, PHONE_WIDTH, _family_sign_in_by_text, _tab_to
from tests.factories import SupportCategoryFactory, SupportServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mother_finds_help_in_arabic_on_her_phone_and_asks_for_it(
    phone_page, base_url, world, fake_twilio, live_server, settings, celery_eager
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SMS_SEGMENTS_PER_SECOND = 0
    world.north.quiet_hours_start = world.north.quiet_hours_end = datetime.time(0, 0)
    world.north.save()
    mother = world.parent
    mother.preferred_language, mother.phone = "ar", MOTHER_PHONE
    mother.save()
    food = SupportCategoryFactory(name_en="Food", name_ar="الطعام")
    service = SupportServiceFactory(
        school=world.north,
        owner=world.counselor,
        category=food,
        title_en="Food pantry",
        title_ar="بنك الطعام",
        summary_en="Free groceries every Friday.",
        summary_ar="بقالة مجانية كل يوم جمعة.",
        phone="+16175550177",
    )
    page = phone_page
    _family_sign_in_by_text(page, base_url, fake_twilio, MOTHER_PHONE, typed="(617) 253-2000")

    page.goto(base_url + "/supports/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert_accessible(page, context="the support directory on a phone, in Arabic")
    page.locator("input[name=q]").fill("الطعام")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="بنك الطعام").click()
    page.wait_for_url(f"**/supports/{service.pk}/")
    assert page.locator('a[href="tel:+16175550177"]').count() >= 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    assert_accessible(page, context="a service page on a phone, in Arabic")

    # She asks for help with the keyboard alone.
    _tab_to(page, "form.ask-for-help button[type=submit]", most=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    help_request = HelpRequest.objects.get()
    page.wait_for_url(f"**/messages/{help_request.thread_id}/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
