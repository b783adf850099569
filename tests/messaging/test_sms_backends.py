"""The SMS backends. Twilio's is driven through the official SDK over real HTTP against the
stand-in in tests/fakes/twilio.py; status callbacks go to a small receiver on 127.0.0.1."""

import datetime
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from messaging.channels.sms import (
    ConsoleBackend,
    MemoryBackend,
    SmsError,
    TwilioBackend,
    delivery_error_reason,
    sms_backend,
    twilio_signature,
    twilio_signature_valid,
)
from tests.fakes.twilio import serve as serve_twilio

GUARDIAN = "+16175550123"
SCHOOL_NUMBER = "+16175550188"
SERVICE_SID = "MG" + "1" * 32


@pytest.fixture
def callback_receiver():
    """A web server on 127.0.0.1 that keeps each status callback: (path, signature, form)."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {
                name: values[-1]
                for name, values in parse_qs(self.rfile.read(length).decode()).items()
            }
            received.append((self.path, self.headers.get("X-Twilio-Signature", ""), form))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sms/status"
    server.received = received
    yield server
    server.shutdown()
    server.server_close()


def refusal(**send) -> SmsError:
    with pytest.raises(SmsError) as caught:
        sms_backend().send(**{"to": GUARDIAN, "body": "Early dismissal at noon.", **send})
    return caught.value


# ---- Sending through Twilio -----------------------------------------------------------------


def test_a_text_reaches_twilio_from_the_default_number_with_validity_and_status_callback(
    fake_twilio,
):
    sent = sms_backend().send(
        to=GUARDIAN,
        body="Early dismissal at noon.",
        validity_seconds=600,
        status_callback="https://portal.example.org/sms/status",
    )

    [message] = fake_twilio.messages
    assert message["to"] == GUARDIAN
    assert message["from"] == "+16175550100"
    assert message["body"] == "Early dismissal at noon."
    assert message["validity_period"] == 600
    assert message["status_callback"] == "https://portal.example.org/sms/status"
    assert message["messaging_service_sid"] is None
    assert sent.provider_id == message["sid"] and sent.provider_id.startswith("SM")
    assert (sent.to, sent.body, sent.segments) == (GUARDIAN, "Early dismissal at noon.", 1)


def test_a_text_without_validity_or_callback_leaves_them_to_twilio(fake_twilio):
    sms_backend().send(to=GUARDIAN, body="Picture day is Friday.")

    [message] = fake_twilio.messages
    assert message["validity_period"] is None
    assert message["status_callback"] == ""


def test_a_school_number_given_as_sender_is_the_from_number(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID

    sms_backend().send(to=GUARDIAN, body="Bus 12 is late.", sender=SCHOOL_NUMBER)

    [message] = fake_twilio.messages
    assert message["from"] == SCHOOL_NUMBER
    assert message["messaging_service_sid"] is None


def test_with_a_messaging_service_texts_go_out_by_its_sid(fake_twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID

    sent = sms_backend().send(to=GUARDIAN, body="Bus 12 is late.")

    [message] = fake_twilio.messages
    assert message["messaging_service_sid"] == SERVICE_SID
    assert message["from"] is None
    assert message["status"] == "accepted"
    assert sent.segments is None  # Twilio counts them once the service has picked a sender


def test_long_and_non_latin_texts_are_counted_in_segments_as_twilio_reports(fake_twilio):
    backend = sms_backend()

    assert backend.send(to=GUARDIAN, body="a" * 161).segments == 2
    assert backend.send(to=GUARDIAN, body="Trường học đóng cửa hôm nay.").segments == 1
    assert backend.send(to=GUARDIAN, body="ư" * 71).segments == 2


def test_the_backend_builds_one_sdk_client_pointed_at_the_configured_api(fake_twilio):
    backend = sms_backend()

    assert isinstance(backend, TwilioBackend)
    assert backend.client.api.base_url == fake_twilio.url
    backend.send(to=GUARDIAN, body="One.")
    backend.send(to=GUARDIAN, body="Two.")
    assert [message["body"] for message in fake_twilio.messages] == ["One.", "Two."]


def test_sending_and_asking_twilio_log_no_phone_number_or_body(fake_twilio, caplog):
    caplog.set_level(logging.INFO)
    backend = sms_backend()

    backend.send(to=GUARDIAN, body="Early dismissal at noon.")
    backend.find_sent(to=GUARDIAN, body="Early dismissal at noon.", since=timezone.now())

    assert "6175550123" not in caplog.text
    assert "dismissal" not in caplog.text


def test_twilio_without_credentials_is_a_configuration_error(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(ImproperlyConfigured):
        sms_backend()


def test_twilio_without_any_sender_is_a_configuration_error(fake_twilio, settings):
    settings.TWILIO_FROM_NUMBER = ""

    with pytest.raises(ImproperlyConfigured):
        sms_backend().send(to=GUARDIAN, body="Nobody to send it from.")
    assert fake_twilio.messages == []


# ---- What Twilio refuses ----------------------------------------------------------------------


def test_twilio_rate_limit_is_transient_and_nothing_is_sent(fake_twilio):
    fake_twilio.fail_next(429)

    error = refusal()

    assert error.is_transient and not error.is_opted_out
    assert error.code == "429"
    assert fake_twilio.messages == []


@pytest.mark.parametrize("status", [500, 503])
def test_twilio_server_errors_are_transient(fake_twilio, status):
    fake_twilio.fail_next(status)

    error = refusal()

    assert error.is_transient
    assert error.code == str(status)
    assert fake_twilio.messages == []


def test_a_text_goes_through_once_the_injected_failures_are_used_up(fake_twilio):
    fake_twilio.fail_next(503, times=2)

    assert refusal().is_transient
    assert refusal().is_transient
    sms_backend().send(to=GUARDIAN, body="Third time.")

    assert [message["body"] for message in fake_twilio.messages] == ["Third time."]


def test_an_invalid_number_is_a_permanent_error_with_a_readable_reason(fake_twilio):
    error = refusal(to="617-555-0123")

    assert not error.is_transient and not error.is_opted_out
    assert error.code == "21211"
    assert error.reason == "The number is not a valid phone number"
    assert "617" not in error.reason  # Twilio's own message repeats the number; staff see ours
    assert fake_twilio.messages == []


def test_a_recipient_who_replied_stop_is_opted_out(fake_twilio):
    fake_twilio.opted_out.add(GUARDIAN)

    error = refusal()

    assert error.is_opted_out and not error.is_transient
    assert error.code == "21610"
    assert error.reason == "The recipient replied STOP and receives no texts"


def test_an_injected_twilio_code_is_read_from_the_table(fake_twilio):
    fake_twilio.fail_next(400, code=21614)

    error = refusal()

    assert (error.code, error.is_transient) == ("21614", False)
    assert error.reason == "The number is not a mobile number"


def test_an_unknown_twilio_code_is_permanent_and_named_in_the_reason(fake_twilio):
    fake_twilio.fail_next(400, code=21999)

    error = refusal()

    assert not error.is_transient
    assert error.reason == "Twilio refused the text (code 21999)"


def test_a_wrong_auth_token_is_refused_by_twilio(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    error = refusal()

    assert error.code == "20003" and not error.is_transient
    assert fake_twilio.messages == []


def test_twilio_that_cannot_be_reached_is_transient(settings):
    fake, server = serve_twilio()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_FROM_NUMBER = "+16175550100"
    server.shutdown()
    server.server_close()

    error = refusal()
    with pytest.raises(SmsError) as asking:
        sms_backend().find_sent(to=GUARDIAN, body="Early dismissal at noon.", since=timezone.now())

    assert (error.code, error.is_transient) == ("network", True)
    assert asking.value.is_transient


def test_twilio_that_answers_too_slowly_is_transient_and_the_text_can_be_found_later(
    fake_twilio, settings
):
    settings.TWILIO_TIMEOUT_SECONDS = 0.2
    fake_twilio.delay_seconds = 0.5
    since = timezone.now()

    error = refusal()

    assert (error.code, error.is_transient) == ("network", True)
    # Twilio took the text after the portal stopped waiting; asking finds it, so no second text.
    fake_twilio.delay_seconds = 0
    deadline = time.monotonic() + 5
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = fake_twilio.messages
    found = sms_backend().find_sent(to=GUARDIAN, body="Early dismissal at noon.", since=since)
    assert found == message["sid"]


# ---- Finding a text already handed over -------------------------------------------------------


def test_find_sent_finds_an_accepted_text_and_not_another_body_or_recipient(fake_twilio):
    backend = sms_backend()
    since = timezone.now()
    sent = backend.send(to=GUARDIAN, body="Conferences are on Tuesday.")
    backend.send(to="+16175550999", body="Conferences are on Wednesday.")

    assert backend.find_sent(to=GUARDIAN, body="Conferences are on Tuesday.", since=since) == (
        sent.provider_id
    )
    assert backend.find_sent(to=GUARDIAN, body="Conferences are on Wednesday.", since=since) is None
    assert backend.find_sent(
        to="+16175550999", body="Conferences are on Tuesday.", since=since
    ) is (None)


def test_find_sent_ignores_texts_accepted_before_the_moment_asked_about(fake_twilio):
    backend = sms_backend()
    backend.send(to=GUARDIAN, body="Conferences are on Tuesday.")

    later = timezone.now() + datetime.timedelta(minutes=5)

    assert backend.find_sent(to=GUARDIAN, body="Conferences are on Tuesday.", since=later) is None


def test_find_sent_reads_every_page_twilio_lists(fake_twilio):
    backend = sms_backend()
    since = timezone.now()
    first = backend.send(to=GUARDIAN, body="The first of many.")
    for number in range(60):  # more than Twilio's default page of 50
        backend.send(to=GUARDIAN, body=f"Reminder {number}.")

    assert backend.find_sent(to=GUARDIAN, body="The first of many.", since=since) == (
        first.provider_id
    )


# ---- Status callbacks and their signatures ----------------------------------------------------


def test_a_status_callback_twilio_signs_is_valid(fake_twilio, callback_receiver):
    sent = sms_backend().send(
        to=GUARDIAN, body="Field trip forms due.", status_callback=callback_receiver.url
    )

    answered = fake_twilio.callback(sent.provider_id, "delivered")

    [(path, signature, form)] = callback_receiver.received
    assert answered == 204
    assert path == "/sms/status"
    assert form["MessageSid"] == form["SmsSid"] == sent.provider_id
    assert form["MessageStatus"] == "delivered"
    assert (form["To"], form["From"]) == (GUARDIAN, "+16175550100")
    assert "ErrorCode" not in form
    assert twilio_signature_valid(url=callback_receiver.url, params=form, signature=signature)
    assert signature == twilio_signature(url=callback_receiver.url, params=form)


def test_a_tampered_callback_or_one_for_another_url_is_not_valid(fake_twilio, callback_receiver):
    sent = sms_backend().send(
        to=GUARDIAN, body="Field trip forms due.", status_callback=callback_receiver.url
    )
    fake_twilio.callback(sent.provider_id, "delivered")
    [(_, signature, form)] = callback_receiver.received

    tampered = {**form, "MessageStatus": "failed"}
    elsewhere = callback_receiver.url.replace("/sms/status", "/sms/other")

    assert not twilio_signature_valid(
        url=callback_receiver.url, params=tampered, signature=signature
    )
    assert not twilio_signature_valid(url=elsewhere, params=form, signature=signature)
    assert not twilio_signature_valid(url=callback_receiver.url, params=form, signature="")


def test_without_an_auth_token_no_signature_is_valid(fake_twilio, callback_receiver, settings):
    sent = sms_backend().send(
        to=GUARDIAN, body="Field trip forms due.", status_callback=callback_receiver.url
    )
    fake_twilio.callback(sent.provider_id, "delivered")
    [(_, signature, form)] = callback_receiver.received

    settings.TWILIO_AUTH_TOKEN = ""

    assert not twilio_signature_valid(url=callback_receiver.url, params=form, signature=signature)
    unsigned = twilio_signature(url=callback_receiver.url, params=form)
    assert not twilio_signature_valid(url=callback_receiver.url, params=form, signature=unsigned)


def test_an_undelivered_callback_carries_twilio_error_code_staff_can_read(
    fake_twilio, callback_receiver
):
    sent = sms_backend().send(
        to=GUARDIAN, body="Field trip forms due.", status_callback=callback_receiver.url
    )

    fake_twilio.callback(sent.provider_id, "undelivered", error_code=30003)

    [(_, signature, form)] = callback_receiver.received
    assert (form["MessageStatus"], form["ErrorCode"]) == ("undelivered", "30003")
    assert twilio_signature_valid(url=callback_receiver.url, params=form, signature=signature)
    assert delivery_error_reason(form["ErrorCode"]) == (
        "The phone is unreachable (switched off or out of coverage)"
    )
    assert delivery_error_reason("39999") == "Twilio could not deliver the text (code 39999)"


# ---- Console and memory -------------------------------------------------------------------------


def test_memory_backend_find_sent_searches_its_outbox(settings):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    backend = sms_backend()
    since = timezone.now()
    sent = backend.send(to=GUARDIAN, body="Your code is 123456", validity_seconds=600)

    assert MemoryBackend.outbox[-1].provider_id == sent.provider_id
    assert MemoryBackend.outbox[-1].validity_seconds == 600
    assert backend.find_sent(to=GUARDIAN, body="Your code is 123456", since=since) == (
        sent.provider_id
    )
    assert backend.find_sent(to=GUARDIAN, body="Your code is 654321", since=since) is None
    later = timezone.now() + datetime.timedelta(seconds=1)
    assert backend.find_sent(to=GUARDIAN, body="Your code is 123456", since=later) is None


def test_console_backend_prints_the_text_and_never_claims_one_was_sent(settings, capsys):
    settings.SMS_BACKEND = "console"
    backend = sms_backend()

    sent = backend.send(to=GUARDIAN, body="Hello from school.")

    assert isinstance(backend, ConsoleBackend)
    assert "Hello from school." in capsys.readouterr().out
    assert sent.provider_id.startswith("console-")
    assert backend.find_sent(to=GUARDIAN, body="Hello from school.", since=timezone.now()) is None
