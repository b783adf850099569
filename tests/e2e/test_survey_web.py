"""A survey on a phone, in a real browser: a Spanish-speaking father opens his link at 360 px,
answers a three-question survey with the keyboard alone, leaves, comes back to the question he
left off at with his answers kept, and finishes; each screen passes axe."""

import secrets

import pytest

from surveys.models import Answer, Invitation, Survey
from tests.e2e.a11y import assert_accessible
from tests.e2e.test_story import PHONE_WIDTH, _tab_to
from tests.surveys.class_survey import class_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH


def _focus_is_visible(page) -> None:
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style not in ("", "none")


def _next_by_keyboard(page, url_part: str) -> None:
    """Tabs to the form's first button ("Siguiente", or "Enviar mis respuestas") and presses
    Enter, as a keyboard user does."""
    _tab_to(page, "form.survey-form button[type=submit]")
    _focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(f"**{url_part}")


def test_a_spanish_speaking_father_answers_by_keyboard_on_his_phone_leaves_and_resumes(
    browser, phone_page, base_url, world
):
    survey = class_survey(world)  # a choice of day, yes / no, and an optional short text
    Survey.objects.filter(pk=survey.survey.pk).update(status=Survey.Status.OPEN)
    invitation = Invitation.objects.create(
        survey=survey.survey,
        guardian=survey.jorge,
        channel="web",
        token=secrets.token_urlsafe(16),
    )
    link = f"{base_url}/s/{invitation.token}/"
    page = phone_page

    page.goto(link)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Semana de reuniones"
    assert page.get_by_role("group", name="¿Qué día le conviene?").is_visible()
    assert page.locator("progress").get_attribute("value") == "0"
    _fits_the_phone(page)
    assert_accessible(page, context="a survey's first question on a phone, in Spanish")

    # Question 1: into the radio group, tick the first day, arrow to Tuesday.
    _tab_to(page, "input[name=q1-answer]")
    _focus_is_visible(page)
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("Martes").is_checked()
    _next_by_keyboard(page, "/q/2/")

    # Question 2: yes.
    assert page.get_by_role("group", name="¿Tiene una computadora en casa?").is_visible()
    assert page.locator("progress").get_attribute("value") == "1"
    _tab_to(page, "input[name=q2-answer]")
    page.keyboard.press("Space")
    _next_by_keyboard(page, "/q/3/")
    assert_accessible(page, context="an optional short-text question on a phone, in Spanish")

    # He leaves; days later he opens the link again in a fresh browser.
    page.context.close()
    context = browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(link)
    assert page.get_by_label("¿Algo más?").is_visible()  # where he left off
    assert page.locator("progress").get_attribute("value") == "2"
    page.get_by_role("link", name="Previous question").or_(
        page.get_by_role("link", name="Pregunta anterior")
    ).click()
    page.wait_for_url("**/q/2/")
    assert page.locator("input[name=q2-answer][value=yes]").is_checked()  # his answer, kept
    page.go_back()

    # Question 3, by keyboard: a few words, then on to check and send.
    _tab_to(page, "textarea[name=q3-answer]")
    page.keyboard.type("Por la tarde, por favor.")
    _next_by_keyboard(page, "/finish/")
    assert page.get_by_text("Martes").is_visible()
    assert page.get_by_text("Por la tarde, por favor.").is_visible()
    _fits_the_phone(page)
    assert_accessible(page, context="checking the answers before sending, on a phone, in Spanish")

    _next_by_keyboard(page, f"/s/{invitation.token}/")
    assert page.get_by_role("heading", name="¡Gracias!").is_visible()
    assert_accessible(page, context="the thank-you on a phone, in Spanish")
    context.close()

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED
    answers = {
        answer.question_id: answer for answer in Answer.objects.filter(invitation=invitation)
    }
    assert answers[survey.day.pk].choice.text_es == "Martes"
    assert answers[survey.laptop.pk].value == "yes"
    assert answers[survey.wish.pk].text == "Por la tarde, por favor."
    assert {answer.language for answer in answers.values()} == {"es"}
