"""The messaging story end to end, in a real browser and by SMS: a teacher writes in English to a
father who reads Spanish and answers by text; the counselor joins; an Arabic-speaking mother reads
and answers on her phone, right to left. Texts go through the Twilio stand-in and translations
through the LibreTranslate stand-in, both over real HTTP; each thread page is checked by axe."""

import datetime
import re

import pytest

from messaging.models import Thread
from messaging.services import thread_start
from tests.e2e.a11y import assert_accessible
from tests.world import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 360
FATHER_PHONE = "+16172531000"
MOTHER_PHONE = "+16172532000"


@pytest.fixture
def sms_story(world, fake_twilio, fake_libretranslate, live_server, settings, celery_eager):
    """The world with the portal texting through the Twilio stand-in, translating through the
    LibreTranslate stand-in, and North's office open, and its quiet hours off, at any hour."""
    settings.PUBLIC_BASE_URL = live_server.url  # Twilio signatures and status callbacks
    settings.SMS_SEGMENTS_PER_SECOND = 0
    world.north.quiet_hours_start = world.north.quiet_hours_end = datetime.time(0, 0)
    world.north.office_opens_at = datetime.time(0, 0)
    world.north.office_closes_at = datetime.time(23, 59)
    world.north.save()
    return world


def _texts_to(fake_twilio, phone: str) -> list[str]:
    return [text["body"] for text in fake_twilio.messages if text["to"] == phone]


def _staff_sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/sign-in/staff/")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")


def _family_sign_in_by_text(page, base_url: str, fake_twilio, phone: str, *, typed: str) -> None:
    """Signs a family in with the code texted to `phone`, which they type as `typed`."""
    page.goto(base_url + "/sign-in/")
    page.get_by_label("Your mobile number or email").fill(typed)
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-in/code/")
    code = re.search(r"\b(\d{6})\b", _texts_to(fake_twilio, phone)[-1]).group(1)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")


def _submit(button) -> None:
    """Clicks a form's button and waits for the page it leads to (often the same address)."""
    with button.page.expect_navigation():
        button.click()


def _tab_to(page, selector: str, *, most: int = 40) -> None:
    """Presses Tab until the element matching `selector` has the focus, as a keyboard user does."""
    for _press in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{most} presses of Tab never reached {selector}")


def test_teacher_and_a_spanish_speaking_father_by_sms_then_the_counselor_joins(
    desktop_page, base_url, sms_story, fake_twilio
):
    world = sms_story
    father = world.parent
    father.given_name, father.family_name = "Jorge", "Ruiz"
    father.preferred_language, father.wants_email, father.phone = "es", False, FATHER_PHONE
    father.save()
    counselor = str(world.counselor)
    page = desktop_page

    # The teacher writes to Ana's family from her class on her home page.
    _staff_sign_in(page, base_url, world.users["teacher"].email)
    ana_row = page.get_by_role("row").filter(has_text=str(world.ana))
    ana_row.get_by_role("link", name="Message the family").click()
    page.wait_for_url(f"**/messages/new/{world.ana.pk}/")
    page.get_by_label("Jorge Ruiz").check()
    page.get_by_label("Subject").fill("Ana's math")
    page.get_by_label("Your message").fill("Ana did well on her math test.")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/messages/\d+/$"))
    thread = Thread.objects.get(subject="Ana's math", student=world.ana)
    assert page.url == f"{base_url}/messages/{thread.pk}/"

    [text] = _texts_to(fake_twilio, FATHER_PHONE)
    assert "[en->es] Ana did well on her math test." in text
    assert len(fake_twilio.messages) == 1

    # The father answers by text, in Spanish.
    answer = fake_twilio.text_in(
        base_url + "/sms/twilio/inbound/", from_phone=FATHER_PHONE, body="Gracias, maestra."
    )
    assert answer.status_code == 200

    # The page asks for new messages every 15 s; a reload shows the answer at once.
    page.reload()
    answer_item = page.locator("li.from-family").filter(has_text="Jorge Ruiz")
    assert answer_item.locator(".body").inner_text() == "[es->en] Gracias, maestra."
    original = answer_item.locator("details.original")
    assert "Machine translated from Spanish" in original.locator("summary").inner_text()
    original.locator("summary").click()
    assert original.get_by_text("Gracias, maestra.", exact=True).is_visible()

    # She drafts an answer and sees it as the father will, in Spanish, before sending it.
    # (On a weekend or a holiday the father was also told the office is closed: count, then.)
    texts_before_preview = len(fake_twilio.messages)
    page.get_by_label("Your message").fill("Thank you. See you on Monday.")
    _submit(page.get_by_role("button", name="Preview as each family sees it"))
    preview = page.locator("#preview")
    assert "[en->es] Thank you. See you on Monday." in preview.locator(".preview-text").inner_text()
    assert "1 SMS part" in preview.inner_text()
    assert len(fake_twilio.messages) == texts_before_preview  # a preview sends nothing
    _submit(page.get_by_role("button", name="Send", exact=True))
    assert "[en->es] Thank you. See you on Monday." in _texts_to(fake_twilio, FATHER_PHONE)[-1]

    # She loops in the counselor, who the father is told (in Spanish) has joined.
    page.get_by_label("Add a colleague").select_option(label=counselor)
    _submit(page.get_by_role("button", name="Add to the conversation"))
    assert page.get_by_text(f"{counselor} joined the conversation").is_visible()
    joined = _texts_to(fake_twilio, FATHER_PHONE)[-1]
    assert joined == f"{world.north.name}: {counselor} se unió a la conversación"

    # And starts a weekly check-in with the family.
    ends_on = datetime.date.today() + datetime.timedelta(weeks=6)
    page.get_by_label("Every week on").select_option(label="Thursday")
    page.get_by_label("Until").fill(ends_on.isoformat())
    _submit(page.get_by_role("button", name="Start a weekly check-in"))
    assert page.get_by_text("Every Thursday until").is_visible()
    assert thread.check_ins.get(is_active=True).ends_on == ends_on

    assert_accessible(page, context="a teacher's thread with an SMS family, on a laptop")


def test_an_arabic_speaking_mother_reads_and_answers_on_her_phone_right_to_left(
    phone_page, base_url, sms_story, fake_twilio
):
    world = sms_story
    mother = world.parent
    mother.preferred_language, mother.phone = "ar", MOTHER_PHONE
    mother.save()
    thread = thread_start(
        actor=world.users["teacher"],
        student=world.ana,
        guardians=[mother],
        subject="Ana's reading",
        body="Ana read a whole book this week.",
    )
    assert "[en->ar] Ana read a whole book this week." in _texts_to(fake_twilio, MOTHER_PHONE)[0]
    page = phone_page

    _family_sign_in_by_text(page, base_url, fake_twilio, MOTHER_PHONE, typed="(617) 253-2000")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "ar",
        "rtl",
    ]
    page.goto(base_url + "/messages/")
    page.get_by_role("link", name="Ana's reading").click()
    page.wait_for_url(f"**/messages/{thread.pk}/")

    assert page.evaluate("document.documentElement.dir") == "rtl"
    message = page.locator("li.message").first
    assert message.locator(".body").inner_text() == "[en->ar] Ana read a whole book this week."
    summary = message.locator("details.original summary")
    assert "اعرض النص الأصلي" in summary.inner_text()  # "see original"
    summary.click()
    assert message.get_by_text("Ana read a whole book this week.", exact=True).is_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH
    assert_accessible(page, context="a mother's thread on a phone, in Arabic")

    # She answers with the keyboard alone.
    _tab_to(page, "textarea[name=body]")
    page.keyboard.type("شكرا، هي تحب القراءة.")
    _tab_to(page, "button[type=submit][value=send]", most=3)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("li.from-family .body").last.inner_text() == "شكرا، هي تحب القراءة."
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH

    answer = thread.messages.get(author_guardian=mother)
    assert (answer.body, answer.language, answer.channel) == ("شكرا، هي تحب القراءة.", "ar", "web")
    assert answer.translations.get(language="en").text == "[ar->en] شكرا، هي تحب القراءة."
