"""Journeys on the front page: a family on a small phone, in Arabic, and the office on a laptop."""

import pytest

from tests.e2e.a11y import assert_accessible
from tests.factories import SchoolFactory

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360


@pytest.fixture
def school(transactional_db):
    """A school whose office can be called and texted, with a name and an address long enough to
    test wrapping (an address has no space or hyphen to break at)."""
    return SchoolFactory(
        name="Frederick Douglass Academy of Science and Technology",
        office_phone="+13125550101",
        sms_number="+13125550100",
        office_email="frontoffice@fredericdouglassacademy.example.org",
    )


def _reads_left_to_right(link, number: str) -> bool:
    """Whether `number`'s first character is drawn left of its last one inside `link`."""
    return link.evaluate(
        """(link, number) => {
            const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
                const node = walker.currentNode, start = node.data.indexOf(number);
                if (start < 0) continue;
                const left = (offset) => {
                    const range = document.createRange();
                    range.setStart(node, offset);
                    range.setEnd(node, offset + 1);
                    return range.getBoundingClientRect().left;
                };
                return left(start) < left(start + number.length - 1);
            }
            throw new Error(`${number} is not in the link`);
        }""",
        number,
    )


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            return {tag: element.tagName.toLowerCase(), id: element.id,
                    className: element.className, name: element.name || ""};
        }"""
    )


def test_phone_front_page_fits_360_px_and_skip_link_leads_to_main(phone_page, base_url, school):
    page = phone_page
    assert page.goto(base_url + "/").ok

    assert page.locator(".card h3").inner_text() == school.name
    # The stylesheet loaded: the header is laid out by it and the skip link waits off-screen.
    assert page.locator(".site-header").evaluate("e => getComputedStyle(e).display") == "flex"
    assert page.locator(".skip-link").bounding_box()["x"] < 0
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH

    page.keyboard.press("Tab")
    assert _focused(page)["className"] == "skip-link"
    skip_link = page.locator(".skip-link").bounding_box()
    assert skip_link["x"] >= 0 and skip_link["x"] + skip_link["width"] <= PHONE_WIDTH
    page.keyboard.press("Enter")
    assert _focused(page) == {"tag": "main", "id": "main", "className": "", "name": ""}

    assert_accessible(page, context="the front page on a 360 px phone")


def test_keyboard_user_switches_the_page_to_arabic_right_to_left(phone_page, base_url, school):
    page = phone_page
    assert page.goto(base_url + "/").ok
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "en",
        "ltr",
    ]

    for _ in range(5):
        page.keyboard.press("Tab")
        if _focused(page)["id"] == "language-select":
            break
    else:
        pytest.fail("five Tab presses did not reach the language selector")
    page.locator("#language-select").select_option("ar")
    page.keyboard.press("Tab")
    assert _focused(page)["tag"] == "button"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == base_url + "/"
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    assert page.locator("#language-select").input_value() == "ar"
    # The layout mirrors: the portal's name starts at the right edge of the header.
    header = page.locator(".site-header").bounding_box()
    site_name = page.locator(".site-name").bounding_box()
    assert header["x"] + header["width"] - (site_name["x"] + site_name["width"]) < 20
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    # Phone numbers keep their order inside right-to-left text: (312) 555-0101, to be dialled.
    assert _reads_left_to_right(page.locator('a[href^="tel:"]'), "(312) 555-0101")
    assert _reads_left_to_right(page.locator('a[href^="sms:"]'), "(312) 555-0100")
    page.screenshot(path="/tmp/portal-front-page-ar-360.png", full_page=True)

    assert_accessible(page, context="the front page in Arabic on a 360 px phone")


@pytest.mark.parametrize(
    ("browser_locale", "lang", "direction"), [("es-MX", "es", "ltr"), ("ar", "ar", "rtl")]
)
def test_phone_set_to_a_language_gets_the_page_in_it(phone_page, base_url, lang, direction):
    assert phone_page.goto(base_url + "/").ok

    assert phone_page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        lang,
        direction,
    ]
    assert_accessible(phone_page, context=f"the front page for a phone set to {lang}")


def test_desktop_office_card_has_tap_to_call_and_text_links(desktop_page, base_url, school):
    page = desktop_page
    assert page.goto(base_url + "/").ok

    card = page.locator(".card", has_text=school.name)
    call = card.get_by_role("link", name="Call the office")
    text = card.get_by_role("link", name="Text the school")
    assert call.get_attribute("href") == "tel:+13125550101"
    assert call.inner_text() == "Call the office: (312) 555-0101"
    assert text.get_attribute("href") == "sms:+13125550100"
    assert text.inner_text() == "Text the school: (312) 555-0100"

    assert_accessible(page, context="the front page on a desktop")


def test_accessibility_check_fails_on_a_contrast_regression(desktop_page, base_url, school):
    page = desktop_page
    assert page.goto(base_url + "/").ok
    # Pale grey links (serious: too little contrast) and no level-one heading (moderate).
    page.add_style_tag(content=".card a { color: #aaa; }")
    page.evaluate("document.querySelector('h1').outerHTML = '<p>School–family portal</p>'")

    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page, context="the front page with pale links")

    message = str(failure.value)
    serious, _, others = message.partition("Also found, minor or moderate")
    assert "color-contrast (serious)" in serious
    assert "page-has-heading-one (moderate)" in others
