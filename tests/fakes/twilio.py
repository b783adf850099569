"""A Twilio Messages API stand-in served over real HTTP on 127.0.0.1, close enough to
api.twilio.com that the official SDK talks to it unchanged, so the portal's backend is tested whole.

It answers what the portal uses of /2010-04-01/Accounts/{AccountSid}/Messages.json: creating a
message (HTTP basic auth, Twilio's JSON resource and error bodies) and listing messages by To and
DateSent. Faults are injected with `fail_next` and `delay_seconds`; `callback` posts a signed
status callback the way Twilio does. Field names follow the OpenAPI description kept in
/work/shared/testdata/twilio/twilio_api_v2010.json (schema api.v2010.account.message).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account_sid>[^/]+)/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_BODY_CHARACTERS = 1600  # Twilio refuses longer bodies with 21617

# The GSM 03.38 alphabet: a text in it fits 160 characters a segment, 153 when split. Any other
# character makes the whole text UCS-2: 70 a segment, 67 when split.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")  # two septets each

# Default Twilio codes for injected HTTP failures.
FAILURE_CODES = {429: 20429, 500: 20500, 503: 20503}
FAILURE_MESSAGES = {
    429: "Too Many Requests",
    500: "An internal server error has occurred",
    503: "Service unavailable",
}


def segment_count(body: str) -> int:
    """How many SMS segments Twilio would bill `body` as."""
    if all(character in GSM_BASIC or character in GSM_EXTENDED for character in body):
        septets = sum(2 if character in GSM_EXTENDED else 1 for character in body)
        single, split = 160, 153
    else:
        septets = len(body.encode("utf-16-le")) // 2
        single, split = 70, 67
    if septets <= single:
        return 1
    return -(-septets // split)


def rfc2822(moment: datetime.datetime | None) -> str | None:
    return format_datetime(moment) if moment else None


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    url: str = ""
    # Every message accepted, oldest first: dicts with sid, to, from, body, status_callback,
    # validity_period, messaging_service_sid, segments, status, error_code, date_created.
    messages: list[dict] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)  # numbers that replied STOP (21610)
    delay_seconds: float = 0.0  # how long to wait before answering any request
    _failures: list[tuple[int, int | None]] = field(default_factory=list)  # next sends' answers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        """Answer the next `times` sends with HTTP `status` (and Twilio `code`), recording none."""
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def message(self, sid: str) -> dict:
        with self._lock:
            return next(message for message in self.messages if message["sid"] == sid)

    def callback(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST a status callback for message `sid` to its StatusCallback, signed like Twilio's.

        Returns the HTTP status the receiver answered.
        """
        message = self.message(sid)
        if not message["status_callback"]:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        with self._lock:
            message["status"] = status
            message["error_code"] = error_code
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "To": message["to"],
            "From": message["from"] or "",
            "ApiVersion": API_VERSION,
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        url = message["status_callback"]
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        answer = requests.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
            timeout=10,
        )
        return answer.status_code

    def text_in(self, url: str, *, from_phone: str, body: str, sid: str = "") -> requests.Response:
        """A family's text, posted to the portal's inbound webhook at `url` as Twilio posts it,
        signed with the auth token. The same `sid` twice is a Twilio retry."""
        sid = sid or "SM" + uuid.uuid4().hex
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_phone,
            "To": "+16175550100",
            "Body": body,
            "NumSegments": "1",
            "NumMedia": "0",
            "ApiVersion": API_VERSION,
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return requests.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
            timeout=10,
        )

    def _next_failure(self) -> tuple[int, int | None] | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _resource(self, message: dict) -> dict:
        """The message as Twilio's API shows it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message['sid']}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message["body"],
            "date_created": rfc2822(message["date_created"]),
            "date_sent": rfc2822(message["date_sent"]),
            "date_updated": rfc2822(message["date_created"]),
            "direction": "outbound-api",
            "error_code": message["error_code"],
            "error_message": None,
            "from": message["from"],
            "messaging_service_sid": message["messaging_service_sid"],
            "num_media": "0",
            # Through a Messaging Service the count is 0 until a sender is chosen.
            "num_segments": "0" if message["messaging_service_sid"] else str(message["segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": message["sid"],
            "status": message["status"],
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message["to"],
            "uri": f"{uri}.json",
        }


def _error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _date_filter(value: str) -> datetime.datetime | datetime.date:
    """A DateSent filter value: a GMT day (documented) or an ISO moment (what the SDK sends
    for a datetime)."""
    if len(value) == 10:
        return datetime.date.fromisoformat(value)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _on_or_after(moment: datetime.datetime, bound: datetime.datetime | datetime.date) -> bool:
    if isinstance(bound, datetime.datetime):
        return moment >= bound
    return moment.date() >= bound


def _on_or_before(moment: datetime.datetime, bound: datetime.datetime | datetime.date) -> bool:
    if isinstance(bound, datetime.datetime):
        return moment <= bound
    return moment.date() <= bound


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _answer(self, status: int, body: dict) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            # The client may have stopped waiting (an SDK timeout); what was done stays done.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def _authorised(self, account_sid: str) -> bool:
            expected = f"{fake.account_sid}:{fake.auth_token}".encode()
            given = self.headers.get("Authorization", "")
            if given != "Basic " + base64.b64encode(expected).decode():
                self._answer(401, _error(401, 20003, "Authenticate"))
                return False
            if account_sid != fake.account_sid:
                self._answer(
                    404, _error(404, 20404, f"The requested resource {self.path} was not found")
                )
                return False
            return True

        def _route(self) -> re.Match | None:
            time.sleep(fake.delay_seconds)
            route = MESSAGES_PATH.match(urlsplit(self.path).path)
            if route is None:
                self._answer(404, _error(404, 20404, f"{self.path} was not found"))
                return None
            if not self._authorised(route["account_sid"]):
                return None
            return route

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = {
                name: values[-1]
                for name, values in parse_qs(
                    self.rfile.read(length).decode(), keep_blank_values=True
                ).items()
            }
            if self._route() is None:
                return
            failure = fake._next_failure()
            if failure is not None:
                status, code = failure
                code = code or FAILURE_CODES.get(status, status)
                message = FAILURE_MESSAGES.get(status, f"Error {code}")
                return self._answer(status, _error(status, code, message))

            to = form.get("To", "")
            body = form.get("Body", "")
            sender = form.get("From", "")
            service_sid = form.get("MessagingServiceSid", "")
            if not to:
                return self._answer(400, _error(400, 21604, "A 'To' phone number is required."))
            if not E164.match(to):
                return self._answer(
                    400, _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
                )
            if not (sender or service_sid):
                return self._answer(
                    400, _error(400, 21603, "A 'From' or 'MessagingServiceSid' is required.")
                )
            if not body:
                return self._answer(400, _error(400, 21602, "Message body is required."))
            if len(body) > MAX_BODY_CHARACTERS:
                return self._answer(
                    400,
                    _error(400, 21617, "The concatenated message body exceeds the 1600 limit."),
                )
            if to in fake.opted_out:
                return self._answer(
                    400, _error(400, 21610, "Attempt to send to unsubscribed recipient")
                )
            now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
            message = {
                "sid": "SM" + secrets.token_hex(16),
                "to": to,
                "from": sender or None,
                "body": body,
                "status_callback": form.get("StatusCallback", ""),
                "validity_period": (
                    int(form["ValidityPeriod"]) if form.get("ValidityPeriod") else None
                ),
                "messaging_service_sid": service_sid or None,
                "segments": segment_count(body),
                "status": "accepted" if service_sid and not sender else "queued",
                "error_code": None,
                "date_created": now,
                # The fake hands texts on at once, as in Twilio's own examples.
                "date_sent": now,
            }
            with fake._lock:
                fake.messages.append(message)
            return self._answer(201, fake._resource(message))

        def do_GET(self):
            if self._route() is None:
                return
            query = {
                name: values[-1] for name, values in parse_qs(urlsplit(self.path).query).items()
            }
            with fake._lock:
                found = list(reversed(fake.messages))  # newest first, as Twilio lists
            # On the wire "DateSent>=2024-05-01" is the parameter "DateSent>" with that value.
            if "To" in query:
                found = [message for message in found if message["to"] == query["To"]]
            if "From" in query:
                found = [message for message in found if message["from"] == query["From"]]
            if "DateSent>" in query:
                after = _date_filter(query["DateSent>"])
                found = [m for m in found if m["date_sent"] and _on_or_after(m["date_sent"], after)]
            if "DateSent<" in query:
                before = _date_filter(query["DateSent<"])
                found = [
                    m for m in found if m["date_sent"] and _on_or_before(m["date_sent"], before)
                ]
            if "DateSent" in query:
                day = _date_filter(query["DateSent"])
                found = [
                    m
                    for m in found
                    if m["date_sent"]
                    and _on_or_after(m["date_sent"], day)
                    and _on_or_before(m["date_sent"], day)
                ]
            page = int(query.get("Page", 0))
            page_size = int(query.get("PageSize", 50))
            start = page * page_size
            shown = found[start : start + page_size]
            path = urlsplit(self.path).path

            def page_uri(number: int) -> str:
                return f"{path}?{urlencode({**query, 'Page': number, 'PageSize': page_size})}"

            return self._answer(
                200,
                {
                    "end": start + max(len(shown) - 1, 0),
                    "first_page_uri": page_uri(0),
                    "messages": [fake._resource(message) for message in shown],
                    "next_page_uri": page_uri(page + 1) if start + page_size < len(found) else None,
                    "page": page,
                    "page_size": page_size,
                    "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                    "start": start,
                    "uri": page_uri(page),
                },
            )

    return Handler


def serve(
    account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token"
) -> tuple[FakeTwilio, ThreadingHTTPServer]:
    fake = FakeTwilio(account_sid=account_sid, auth_token=auth_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll keeps shutdown quick: tests start and stop one of these each.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return fake, server
