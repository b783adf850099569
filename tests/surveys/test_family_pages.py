"""A family answers a survey on the web from its own link, with no sign-in: in its language, one
question per screen or all at once, saved as it goes, resumed where it left off, finished with
the thank-you; and staff preview the same page in any language, saving nothing."""

import datetime
import logging
import re
import secrets
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from surveys.models import Answer, Choice, Invitation, Question, Survey
from surveys.services import survey_send
from surveys.texts import survey_link
from tests.surveys.class_survey import class_survey

pytestmark = pytest.mark.django_db


def invite(survey: Survey, guardian, channel: str = "web") -> Invitation:
    return Invitation.objects.create(
        survey=survey, guardian=guardian, channel=channel, token=secrets.token_urlsafe(16)
    )


def link(invitation: Invitation, screen: str = "", **query) -> str:
    if screen == "all":
        url = reverse("surveys:answer_all", args=[invitation.token])
    elif screen == "finish":
        url = reverse("surveys:answer_finish", args=[invitation.token])
    elif screen:
        url = reverse("surveys:answer_question", args=[invitation.token, int(screen)])
    else:
        url = reverse("surveys:answer", args=[invitation.token])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def said(language: str, words: str, **values) -> str:
    """The page's own words as a family reading `language` sees them (the catalogs may or may not
    translate them yet)."""
    with translation.override(language):
        text = translation.gettext(words)
    return text % values if values else text


def page_text(response) -> str:
    return response.content.decode()


def checked_values(response, field: str) -> set[str]:
    """The values of the ticked radio buttons or checkboxes named `field`."""
    inputs = re.findall(r"<input [^>]*>", page_text(response))
    return {
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in inputs
        if f'name="{field}"' in tag and " checked" in tag
    }


@pytest.fixture
def school_survey(world):
    """The math class's three-question survey, open, with Jorge (Spanish) invited."""
    survey = class_survey(world)
    survey.survey.status = Survey.Status.OPEN
    survey.survey.save()
    survey.invitation = invite(survey.survey, survey.jorge)
    return survey


def choice(question: Question, text_en: str) -> Choice:
    return question.choices.get(text_en=text_en)


# ---- Answering ----------------------------------------------------------------------------------


def test_the_link_a_sent_survey_gives_each_family_opens_its_survey_in_its_language(
    client, world, settings
):
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    survey = class_survey(world, by_sms=False)
    survey_send(actor=world.teacher.user, survey=survey.survey)
    lan = Invitation.objects.get(survey=survey.survey, guardian=survey.lan)
    address = survey_link(lan)
    assert address.startswith("https://portal.example.org/s/") and lan.token in address
    response = client.get(address.removeprefix(settings.PUBLIC_BASE_URL))
    assert response.status_code == 200
    assert "Ngày nào phù hợp với bạn?" in page_text(response)


def test_a_family_answers_one_question_per_screen_leaves_and_resumes_with_answers_kept(
    client, school_survey
):
    invitation, day = school_survey.invitation, school_survey.day

    first = client.get(link(invitation))
    assert first.status_code == 200
    assert '<html lang="es"' in page_text(first)
    assert "¿Qué día le conviene?" in page_text(first)
    assert "Tres preguntas rápidas." in page_text(first)  # the introduction, on the first screen
    assert 'value="0"' in page_text(first) and 'max="3"' in page_text(first)  # the progress bar
    assert said("es", "Question %(number)s of %(total)s", number=1, total=3) in page_text(first)

    tuesday = choice(day, "Tuesday")
    saved = client.post(link(invitation, "1"), {"q1-answer": str(tuesday.pk)})
    assert saved.status_code == 302 and saved["Location"] == link(invitation, "2")
    answer = Answer.objects.get(question=day)
    assert answer.choice == tuesday and answer.language == "es"
    assert answer.invitation == invitation

    # She closes the page and opens her link again on another day, in a fresh browser.
    later = Client()
    resumed = later.get(link(invitation))
    assert "¿Tiene una computadora en casa?" in page_text(resumed)  # question 2, not question 1
    assert "¿Qué día le conviene?" not in page_text(resumed)
    assert 'value="1"' in page_text(resumed)  # one of three answered
    back = later.get(link(invitation, "1"))
    assert checked_values(back, "q1-answer") == {str(tuesday.pk)}

    # She changes her mind about the day, then answers the rest.
    monday = choice(day, "Monday")
    later.post(link(invitation, "1"), {"q1-answer": str(monday.pk)})
    assert Answer.objects.get(question=day).choice == monday
    assert later.post(link(invitation, "2"), {"q2-answer": "yes"})["Location"] == link(
        invitation, "3"
    )
    last = later.post(link(invitation, "3"), {"q3-answer": "  Evenings are best.  "})
    assert last["Location"] == link(invitation, "finish")
    assert Answer.objects.get(question=school_survey.wish).text == "Evenings are best."
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.STARTED


def test_every_question_at_once_saves_each_answer_given_then_finishes(client, school_survey):
    invitation = school_survey.invitation
    everything = client.get(link(invitation, "all"))
    for text in ("¿Qué día le conviene?", "¿Tiene una computadora en casa?", "¿Algo más?"):
        assert text in page_text(everything)

    wednesday = choice(school_survey.day, "Wed")
    kept = client.post(link(invitation, "all"), {"q1-answer": str(wednesday.pk), "save": "1"})
    assert kept.status_code == 302 and kept["Location"] == link(invitation, "all")
    assert Answer.objects.get(question=school_survey.day).choice == wednesday
    assert not Answer.objects.filter(question=school_survey.wish).exists()  # nothing given
    again = client.get(link(invitation, "all"))
    assert checked_values(again, "q1-answer") == {str(wednesday.pk)}

    sent = client.post(
        link(invitation, "all"),
        {"q1-answer": str(wednesday.pk), "q2-answer": "no", "q3-answer": "", "finish": "1"},
    )
    assert sent.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED
    assert Answer.objects.get(question=school_survey.laptop).value == "no"
    assert "¡Gracias!" in page_text(client.get(sent["Location"]))


def test_sending_everything_at_once_without_a_required_answer_keeps_the_others_and_says_which(
    client, school_survey
):
    invitation = school_survey.invitation
    refused = client.post(link(invitation, "all"), {"q2-answer": "yes", "finish": "1"})
    assert refused.status_code == 400
    assert "Primero responda la pregunta 1." in page_text(refused)
    assert 'href="#q1"' in page_text(refused)
    assert checked_values(refused, "q2-answer") == {"yes"}
    assert Answer.objects.get(question=school_survey.laptop).value == "yes"
    invitation.refresh_from_db()
    assert invitation.status != Invitation.Status.COMPLETED


def test_an_optional_question_can_be_skipped_and_a_required_one_cannot(client, school_survey):
    invitation = school_survey.invitation
    optional = client.get(link(invitation, "3"))
    assert 'name="skip"' in page_text(optional)
    assert 'name="skip"' not in page_text(client.get(link(invitation, "1")))

    skipped = client.post(link(invitation, "3"), {"skip": "1", "q3-answer": "ignored"})
    assert skipped["Location"] == link(invitation, "finish")
    assert Answer.objects.get(question=school_survey.wish).is_skipped

    refused = client.post(link(invitation, "2"), {"skip": "1"})
    assert refused.status_code == 400
    assert "Esta pregunta necesita una respuesta." in page_text(refused)
    assert 'aria-describedby="q2-error"' in page_text(refused)
    assert not Answer.objects.filter(question=school_survey.laptop).exists()


def test_moving_on_from_an_empty_question_skips_it_only_when_it_is_optional(client, school_survey):
    invitation = school_survey.invitation
    assert client.post(link(invitation, "1"), {}).status_code == 400
    assert not Answer.objects.filter(question=school_survey.day).exists()
    assert client.post(link(invitation, "3"), {"q3-answer": "  "}).status_code == 302
    assert Answer.objects.get(question=school_survey.wish).is_skipped


def test_a_refused_answer_is_shown_again_with_the_reason_next_to_the_question(
    client, school_survey
):
    invitation = school_survey.invitation
    too_long = "a" * 1001
    refused = client.post(link(invitation, "3"), {"q3-answer": too_long})
    assert refused.status_code == 400
    assert too_long in page_text(refused)  # what she wrote is not lost
    assert 'id="q3-error"' in page_text(refused)
    assert not Answer.objects.filter(question=school_survey.wish).exists()


def test_finishing_needs_the_required_answers_then_only_the_thank_you_shows(client, school_survey):
    invitation = school_survey.invitation
    client.post(link(invitation, "1"), {"q1-answer": str(choice(school_survey.day, "Monday").pk)})
    check = client.get(link(invitation, "finish"))
    assert "Lunes" in page_text(check)  # her answer, to check before sending

    refused = client.post(link(invitation, "finish"))
    assert refused.status_code == 400
    assert "Primero responda la pregunta 2." in page_text(refused)

    client.post(link(invitation, "2"), {"q2-answer": "yes"})
    finished = client.post(link(invitation, "finish"))
    assert finished.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED and invitation.completed_at

    thanks = client.get(link(invitation))
    assert "¡Gracias!" in page_text(thanks)
    assert "¿Qué día le conviene?" not in page_text(thanks)
    # Finished, the answers no longer change.
    late = client.post(link(invitation, "2"), {"q2-answer": "no"})
    assert "¡Gracias!" in page_text(late)
    assert Answer.objects.get(question=school_survey.laptop).value == "yes"


def test_the_answers_are_resumed_through_the_link_whatever_the_language_chosen(
    client, school_survey
):
    invitation = school_survey.invitation
    in_arabic = client.get(link(invitation, lang="ar"))
    assert 'dir="rtl"' in page_text(in_arabic) and '<html lang="ar"' in page_text(in_arabic)
    assert f'action="{link(invitation, "1", lang="ar")}"' in page_text(in_arabic)
    saved = client.post(
        link(invitation, "1", lang="ar"), {"q1-answer": school_survey.day.choices.first().pk}
    )
    assert saved["Location"] == link(invitation, "2", lang="ar")
    assert Answer.objects.get(question=school_survey.day).language == "ar"
    # Without the parameter the page is in her own language again.
    assert '<html lang="es"' in page_text(client.get(link(invitation)))


# ---- What the page says -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "question", "direction"),
    [("vi", "Ngày nào phù hợp với bạn?", "ltr"), ("ar", "Which day suits you?", "rtl")],
)
def test_the_page_reads_in_the_family_language_and_right_to_left_in_arabic(
    client, school_survey, language, question, direction
):
    school_survey.jorge.preferred_language = language
    school_survey.jorge.save()
    response = client.get(link(school_survey.invitation))
    assert f'<html lang="{language}" dir="{direction}">' in page_text(response)
    assert question in page_text(response)
    if language == "ar":  # no Arabic text yet: the English one, marked
        assert said("ar", "Not yet in your language") in page_text(response)
        assert '<span class="question-text" lang="en"' in page_text(response)


def test_a_machine_translated_text_is_marked_with_its_original_one_tap_away(client, school_survey):
    school_survey.survey.machine_languages = ["es"]
    school_survey.survey.save()
    response = client.get(link(school_survey.invitation))
    assert page_text(response).count(said("es", "Machine translated")) == 1  # by the title
    assert said("es", "See original") in page_text(response)
    assert "Which day suits you?" in page_text(response)  # the original, one tap away


def test_a_somali_family_reads_the_survey_in_somali_around_the_portal_own_english_words(
    client, school_survey
):
    survey = school_survey.survey
    survey.title_so, survey.machine_languages = "Toddobaadka shirarka", []
    survey.save()
    school_survey.day.text_so = "Maalintee kuu habboon?"
    school_survey.day.save()
    school_survey.jorge.preferred_language = "so"
    school_survey.jorge.save()
    response = client.get(link(school_survey.invitation))
    assert '<html lang="en" dir="ltr">' in page_text(response)  # no Somali interface yet
    assert '<h1 lang="so" dir="auto">Toddobaadka shirarka</h1>' in page_text(response)
    assert 'lang="so" dir="auto">Maalintee kuu habboon?</span>' in page_text(response)
    assert "Not yet in your language" in page_text(response)  # the choices are English still
    assert 'aria-current="true">Soomaali</a>' in page_text(response)


def test_a_survey_by_text_only_says_where_to_answer(client, school_survey):
    Survey.objects.filter(pk=school_survey.survey.pk).update(on_web=False)
    response = client.get(link(school_survey.invitation, lang="en"))
    assert "answered by text message" in page_text(response)
    assert "Which day suits you?" not in page_text(response)


def test_the_page_shows_nothing_of_the_family(client, school_survey):
    jorge = school_survey.jorge
    jorge.given_name, jorge.family_name, jorge.email = "Jorge", "Villalobos", "jv@example.org"
    jorge.save()
    child = jorge.student_links.get().student
    response = client.get(link(school_survey.invitation))
    for private in (
        "Jorge",
        "Villalobos",
        "jv@example.org",
        str(jorge.phone)[-4:],
        child.given_name,
    ):
        assert private not in page_text(response)
    assert response["Referrer-Policy"] == "same-origin"  # the link reaches no other site
    assert "no-store" in response["Cache-Control"]


def test_an_anonymous_survey_says_so_and_keeps_no_invitation_on_its_answers(client, world):
    survey = class_survey(world, is_anonymous=True)
    Survey.objects.filter(pk=survey.survey.pk).update(status=Survey.Status.OPEN)
    invitation = invite(survey.survey, survey.rosa)
    first = client.get(link(invitation))
    anonymous = "Your answers are anonymous: the school sees them without your name."
    assert said("es", anonymous) in page_text(first)
    client.post(link(invitation, "2"), {"q2-answer": "no"})
    answer = Answer.objects.get(question=survey.laptop)
    assert answer.invitation is None and answer.value == "no"
    assert invitation.token not in answer.respondent
    # Her own link still finds her answer to resume.
    assert checked_values(client.get(link(invitation, "2")), "q2-answer") == {"no"}


def test_a_closed_survey_says_so_plainly(client, school_survey):
    school_survey.survey.status = Survey.Status.CLOSED
    school_survey.survey.save()
    response = client.get(link(school_survey.invitation, "1"))
    assert response.status_code == 200
    assert said("es", "This survey is closed: it no longer takes answers.") in page_text(response)
    assert "¿Qué día le conviene?" not in page_text(response)
    refused = client.post(link(school_survey.invitation, "2"), {"q2-answer": "yes"})
    assert not Answer.objects.exists() and refused.status_code == 200


def test_a_survey_that_is_not_open_yet_tells_when_it_opens_in_the_school_time(
    client, school_survey
):
    school = school_survey.survey.school
    school.timezone = "America/Los_Angeles"
    school.save()
    local = zoneinfo.ZoneInfo(school.timezone)
    day = timezone.localdate(timezone=local) + datetime.timedelta(days=2)
    opens_at = datetime.datetime.combine(day, datetime.time(14, 30), tzinfo=local)
    school_survey.survey.opens_at = opens_at
    school_survey.survey.save()
    response = client.get(link(school_survey.invitation, lang="en"))
    assert "This survey is not open yet." in page_text(response)
    with translation.override("en"):
        when = formats.date_format(opens_at, "DATETIME_FORMAT")
    assert "2:30 p.m." in when and when in page_text(response)
    assert "Which day suits you?" not in page_text(response)
    assert client.post(link(school_survey.invitation, "2"), {"q2-answer": "yes"}).status_code == 200
    assert not Answer.objects.exists()


def test_an_unknown_token_is_not_found_and_never_logged(client, school_survey, caplog):
    unknown = secrets.token_urlsafe(16)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/s/{unknown}/")
        client.get(f"/s/{unknown}/q/1/")
    assert response.status_code == 404
    assert caplog.records  # Django logged the 404s...
    assert unknown not in caplog.text  # ...without the token


def test_a_refused_post_does_not_log_the_family_token(school_survey, caplog):
    strict = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.INFO):
        response = strict.post(link(school_survey.invitation, "2"), {"q2-answer": "yes"})
    assert response.status_code == 403
    assert caplog.records and school_survey.invitation.token not in caplog.text


def test_the_page_runs_the_same_queries_for_a_short_and_a_long_survey_half_answered(
    client, world, django_assert_num_queries
):
    def half_answered(count: int) -> Invitation:
        survey = Survey.objects.create(
            school=world.north, created_by=world.teacher, title_en="Sizes", audience="school"
        )
        Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.OPEN)
        invitation = invite(survey, world.parent)
        for position in range(1, count + 1):
            question = Question.objects.create(
                survey=survey, position=position, kind="multiple_choice", text_en=f"Q{position}"
            )
            choices = [
                Choice.objects.create(question=question, position=number, text_en=f"C{number}")
                for number in (1, 2, 3)
            ]
            if position <= count // 2:
                picked = [str(choices[0].pk), str(choices[2].pk)]
                client.post(link(invitation, str(position)), {f"q{position}-answer": picked})
        assert Answer.objects.filter(invitation=invitation).count() == count // 2 * 2
        return invitation

    short, long = half_answered(2), half_answered(12)
    for screen in ("", "1", "all", "finish"):
        with CaptureQueriesContext(connection) as few:
            assert client.get(link(short, screen)).status_code == 200
        assert len(few) <= 5  # the invitation, the questions, their choices, the answers
        with django_assert_num_queries(len(few)):
            assert client.get(link(long, screen)).status_code == 200


# ---- A signed-in family's home page -------------------------------------------------------------


def test_a_signed_in_family_finds_its_open_surveys_on_its_home_page(client, world, school_survey):
    mine = invite(school_survey.survey, world.parent)
    client.force_login(world.users["parent"])
    home = client.get(reverse("home"))
    assert link(mine) in page_text(home)
    assert "Conference week" in page_text(home)
    assert school_survey.invitation.token not in page_text(home)  # another family's link
    mine.status = Invitation.Status.COMPLETED
    mine.save()
    assert link(mine) not in page_text(client.get(reverse("home")))


# ---- The staff's preview ------------------------------------------------------------------------


def preview(survey: Survey, language: str, **query) -> str:
    url = reverse("surveys:preview", args=[survey.pk, language])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("teacher", 200),  # she made it
        ("school_admin", 200),  # her school's
        ("art_teacher", 404),
        ("south_teacher", 404),
        ("counselor", 404),
        ("parent", 404),
    ],
)
def test_only_staff_who_may_manage_the_survey_preview_it(client, world, role, status):
    survey = class_survey(world).survey
    client.force_login(world.users[role])
    assert client.get(preview(survey, "vi")).status_code == status


def test_a_signed_out_visitor_is_sent_to_sign_in_from_a_preview(client, world):
    survey = class_survey(world).survey
    response = client.get(preview(survey, "es"))
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_the_preview_shows_each_screen_in_the_language_and_saves_nothing(client, world):
    survey = class_survey(world).survey
    client.force_login(world.users["teacher"])
    first = client.get(preview(survey, "vi"))
    assert "Ngày nào phù hợp với bạn?" in page_text(first)
    assert 'class="preview-banner"' in page_text(first)
    assert (
        'method="get"' in page_text(first)
        and 'method="post"' not in page_text(first).split("<main")[1]
    )
    assert 'name="screen" value="2"' in page_text(first)

    second = client.get(preview(survey, "vi", screen="2", **{"q1-answer": "1"}))
    assert "Nhà bạn có máy tính không?" in page_text(second)
    assert "Còn gì nữa không?" in page_text(client.get(preview(survey, "vi", screen="all")))
    assert "Cảm ơn!" in page_text(client.get(preview(survey, "vi", screen="thanks")))
    assert client.get(preview(survey, "vi", screen="finish")).status_code == 200
    assert client.get(preview(survey, "vi", screen="9")).status_code == 404
    assert client.get(preview(survey, "xx")).status_code == 404
    assert not Answer.objects.exists() and not Invitation.objects.exists()
    survey.refresh_from_db()
    assert survey.status == Survey.Status.DRAFT


def test_the_preview_in_arabic_reads_right_to_left_with_the_banner_in_the_staff_language(
    client, world
):
    survey = class_survey(world).survey
    client.force_login(world.users["teacher"])
    response = client.get(preview(survey, "ar"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="ar" dir="rtl">' in page_text(response)
    assert "Preview in العربية" in page_text(response)
