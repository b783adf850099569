"""The support directory by text and the follow-up after a help request closes, through the
signed Twilio webhook: SERVICES lists the categories in the family's language, a number or a
category keyword gets its services, and "did you get the help you needed?" is asked once and
reopens the request on a "no"."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from messaging.channels.segments import sms_segments
from messaging.channels.sms import MemoryBackend
from messaging.models import SmsConsent, Thread
from messaging.services import thread_start
from supports.followup import help_requests_follow_up
from supports.models import HelpRequest
from supports.services import help_request_assign, help_request_close, help_request_open
from tests.factories import SupportCategoryFactory, SupportServiceFactory

pytestmark = pytest.mark.django_db

SCHOOL_NUMBER = "+16175550100"


@pytest.fixture(autouse=True)
def texts(settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    settings.SMS_SEGMENTS_PER_SECOND = 0
    settings.TWILIO_AUTH_TOKEN = "inbound-test-token"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    settings.HELP_FOLLOW_UP_DAYS = 3
    MemoryBackend.outbox.clear()
    cache.clear()
    return MemoryBackend.outbox


@pytest.fixture
def directory(always_open):
    """North's services: food (two, one not translated), counseling, and a draft; South's
    tutoring, which North's families never see."""
    north = always_open.north
    food = SupportCategoryFactory(
        name="Food and clothing", name_es="Comida y ropa", sms_keywords="FOOD COMIDA", position=1
    )
    counseling = SupportCategoryFactory(name="Counseling", name_es="Consejería", position=2)
    tutoring = SupportCategoryFactory(name="Tutoring", name_es="Tutoría", position=3)
    legal = SupportCategoryFactory(name="Legal aid", name_es="Ayuda legal", position=4)
    SupportServiceFactory(
        school=north,
        category=food,
        title="Food pantry",
        title_es="Despensa de alimentos",
        phone="+16175550111",
        owner=always_open.counselor,
    )
    SupportServiceFactory(school=north, category=food, title="Coat closet", phone="+16175550112")
    SupportServiceFactory(school=north, category=counseling, title="School counselor")
    SupportServiceFactory(school=north, category=legal, title="Legal clinic", status="draft")
    SupportServiceFactory(school=always_open.south, category=tutoring, title="South tutors")
    return {"food": food, "counseling": counseling, "tutoring": tutoring}


@pytest.fixture
def spanish(always_open):
    always_open.parent.preferred_language = "es"
    always_open.parent.save()
    return always_open.parent


def test_servicios_lists_the_live_categories_of_the_childrens_schools_in_spanish(
    always_open, directory, spanish, sms, texts
):
    stored = sms(spanish.phone, "  servicios ")
    [answer] = texts
    assert answer.to == str(spanish.phone)
    assert answer.body.startswith("North Elementary: 1 Comida y ropa, 2 Consejería")
    assert answer.body.endswith("https://portal.example.org/supports/")
    assert "Tutoría" not in answer.body and "Ayuda legal" not in answer.body  # south, draft
    assert (stored.status, stored.route, stored.message) == ("routed", "directory", None)
    assert not Thread.objects.exists()


@pytest.mark.parametrize("word", ["SERVICES", "Dịch vụ", "DICH VU", "服务", "خدمات", "adeegyo."])
def test_every_directory_word_gets_the_list(always_open, directory, sms, texts, word):
    sms(always_open.parent.phone, word)
    [answer] = texts
    assert "1 " in answer.body and "2 " in answer.body and "/supports/" in answer.body


def test_a_number_after_the_list_gets_the_categorys_services_with_their_phones(
    always_open, directory, spanish, sms, texts
):
    sms(spanish.phone, "SERVICIOS")
    stored = sms(spanish.phone, " 1. ")
    answer = texts[-1].body
    assert answer.startswith("Comida y ropa: ")
    assert "Despensa de alimentos +16175550111" in answer
    assert "Coat closet +16175550112" in answer  # not translated: the English title
    assert stored.status == "routed" and stored.message is None
    sms(spanish.phone, "2")
    assert texts[-1].body.startswith("Consejería: School counselor")


@pytest.mark.parametrize("word", ["FOOD", "comida", " Food! "])
def test_a_category_keyword_gets_its_services_at_any_time(always_open, directory, sms, texts, word):
    sms(always_open.parent.phone, word)
    [answer] = texts
    assert answer.body.startswith("Food and clothing: ")
    assert "Food pantry +16175550111" in answer.body


def test_a_long_answer_is_cut_to_three_segments_and_the_link_keeps_the_rest(
    always_open, directory, sms, texts
):
    for number in range(20):
        SupportServiceFactory(
            school=always_open.north,
            category=directory["food"],
            title=f"Neighborhood food bank number {number}",
            phone=f"+1617555{number:04d}",
        )
    sms(always_open.parent.phone, "FOOD")
    [answer] = texts
    assert sms_segments(answer.body).count <= 3
    assert answer.body.endswith(". https://portal.example.org/supports/")
    assert "Coat closet" in answer.body and "number 19" not in answer.body


def test_a_plain_number_in_a_conversation_goes_to_the_thread(
    always_open, directory, sms, texts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        thread = thread_start(
            actor=always_open.users["teacher"],
            student=always_open.ana,
            guardians=[always_open.parent],
            subject="Field trip",
            body="How many of you will come? Reply with a number.",
        )
    texts.clear()
    stored = sms(always_open.parent.phone, "1")
    assert stored.route == "thread"
    assert thread.messages.get(author_guardian=always_open.parent).body == "1"
    assert texts == []


def test_the_list_is_for_the_number_that_asked_and_for_an_hour_only(
    always_open, directory, sms, texts
):
    sms(always_open.parent.phone, "SERVICES")
    assert sms(always_open.ben_parent.phone, "1").route == "office"
    cache.clear()  # the hour has passed
    assert sms(always_open.parent.phone, "1").route == "office"


def test_a_number_no_one_has_gets_the_list_of_the_school_it_texted_or_nothing(
    always_open, directory, sms, texts
):
    assert sms("+16175559999", "SERVICES").status == "unmatched"  # two schools: whose?
    assert texts == []
    always_open.north.sms_number = SCHOOL_NUMBER
    always_open.north.save()
    sms("+16175559999", "SERVICIOS")
    assert texts[-1].body.startswith("North Elementary: 1 Comida y ropa")
    assert texts[-1].sender == SCHOOL_NUMBER


def test_help_stays_the_carriers_and_stop_still_stops(always_open, directory, sms, texts):
    sms(always_open.parent.phone, "SERVICES")
    sms(always_open.parent.phone, "HELP")
    assert "STOP" in texts[-1].body and "Food" not in texts[-1].body
    sms(always_open.parent.phone, "STOP")
    assert SmsConsent.objects.get(phone=always_open.parent.phone).is_opted_out
    assert "START" in texts[-1].body


# ---- The follow-up ------------------------------------------------------------------------------


@pytest.fixture
def closed_request(always_open, directory, spanish, django_capture_on_commit_callbacks):
    counselor = always_open.users["counselor"]
    food = always_open.north.support_services.get(title="Food pantry")
    with django_capture_on_commit_callbacks(execute=True):
        help_request = help_request_open(actor=always_open.users["parent"], service=food)
    help_request_assign(actor=counselor, help_request=help_request, staff=always_open.counselor)
    return help_request_close(actor=counselor, help_request=help_request, outcome="helped")


def days_later(days: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


def follow_ups(texts):
    """The follow-up questions among the texts sent (in English or, to this family, Spanish)."""
    return [text for text in texts if "Reply 1" in text.body or "Responda 1" in text.body]


def test_the_family_is_asked_once_after_the_set_days_in_its_language(
    always_open, closed_request, texts
):
    assert help_requests_follow_up(now=days_later(2.9)) == 0
    assert help_requests_follow_up(now=days_later(3.01)) == 1
    assert help_requests_follow_up(now=days_later(3.2)) == 0
    [question] = follow_ups(texts)
    assert question.to == str(always_open.parent.phone)
    assert question.body.startswith("Despensa de alimentos: ¿Le dieron la ayuda que necesitaba?")
    closed_request.refresh_from_db()
    assert closed_request.follow_up_sent_at is not None


def test_a_family_that_texted_stop_is_not_asked(always_open, closed_request, sms, texts):
    sms(always_open.parent.phone, "STOP")
    assert help_requests_follow_up(now=days_later(3.01)) == 0
    assert follow_ups(texts) == []


def test_two_reopens_the_request_for_its_counselor(always_open, closed_request, sms, texts):
    help_requests_follow_up(now=days_later(3.01))
    stored = sms(always_open.parent.phone, " 2. ")
    closed_request.refresh_from_db()
    assert (closed_request.status, closed_request.follow_up_answer) == ("assigned", "no")
    assert closed_request.closed_at is None
    assert closed_request.assigned_to == always_open.counselor
    assert stored.message is None  # the answer is not written into anyone's conversation
    thread = closed_request.thread
    thread.refresh_from_db()
    assert thread.waiting_since is not None
    assert thread.messages.filter(is_internal=True, body__contains="open again").exists()
    assert texts[-1].body.startswith("Despensa de alimentos: ")
    assert sms(always_open.parent.phone, "2").route == "thread"  # answered once: now a text


def test_one_is_kept_as_yes_and_the_request_stays_closed(always_open, closed_request, sms):
    help_requests_follow_up(now=days_later(3.01))
    sms(always_open.parent.phone, "1")
    closed_request.refresh_from_db()
    assert (closed_request.status, closed_request.follow_up_answer) == ("closed", "yes")


def test_two_reopens_as_new_when_nobody_had_it(always_open, closed_request, sms):
    HelpRequest.objects.filter(pk=closed_request.pk).update(assigned_to=None)
    help_requests_follow_up(now=days_later(3.01))
    sms(always_open.parent.phone, "no")
    closed_request.refresh_from_db()
    assert (closed_request.status, closed_request.follow_up_answer) == ("new", "no")


def test_si_answers_the_follow_up_instead_of_being_the_carriers_start(
    always_open, closed_request, sms
):
    help_requests_follow_up(now=days_later(3.01))
    stored = sms(always_open.parent.phone, "Sí")
    assert stored.route == "directory"
    closed_request.refresh_from_db()
    assert (closed_request.status, closed_request.follow_up_answer) == ("closed", "yes")
    assert not SmsConsent.objects.filter(phone=always_open.parent.phone).exists()
