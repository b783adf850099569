"""The portal's doors for the outside: Twilio's webhooks, the unsubscribe link of every email,
and the phone simulator of the demo. Thin: they check who is calling, store, and hand work to
a task; nothing here waits on a provider."""

from __future__ import annotations

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from messaging import delivery, inbound, phone_simulator
from messaging.channels.sms import twilio_signature, twilio_signature_valid
from messaging.models import MAX_BODY_CHARS
from portal import permissions
from portal.models import Guardian
from portal.services import guardian_email_unsubscribe

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _from_twilio(request) -> bool:
    """Twilio signs the address it called (PUBLIC_BASE_URL, as Twilio knows the portal) and the
    form it posted."""
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return twilio_signature_valid(
        url=url,
        params={key: request.POST.get(key) for key in request.POST},
        signature=request.headers.get("X-Twilio-Signature", ""),
    )


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """A family's text. Stored first (a repeat of the same MessageSid is the same text), routed
    by a task, answered at once with empty TwiML."""
    if not _from_twilio(request):
        return HttpResponseForbidden("The request is not signed by Twilio.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    from_phone = request.POST.get("From", "")
    body = request.POST.get("Body", "")
    if not sid or not from_phone:
        return HttpResponseBadRequest("MessageSid and From are required.")
    if len(body) > MAX_BODY_CHARS:  # Twilio joins at most ten segments; keep what came
        body = body[:MAX_BODY_CHARS]
    try:
        segments = int(request.POST.get("NumSegments") or 1)
    except ValueError:
        segments = 1
    text, created = inbound.inbound_sms_record(
        message_sid=sid,
        from_phone=from_phone,
        to_phone=request.POST.get("To", ""),
        body=body,
        segments=segments,
    )
    if created:
        inbound.inbound_sms_hand_over(text.pk)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request):
    """What became of a text: Twilio calls this for each status, more than once and out of
    order; the delivery only ever moves forward."""
    if not _from_twilio(request):
        return HttpResponseForbidden("The request is not signed by Twilio.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    try:
        delivery_id = int(request.GET["delivery"]) if "delivery" in request.GET else None
    except ValueError:
        return HttpResponseBadRequest("delivery must be a number.")
    delivery.delivery_status_record(
        provider_id=sid,
        provider_status=status,
        error_code=request.POST.get("ErrorCode", ""),
        delivery_id=delivery_id,
    )
    return HttpResponse(status=204)


@csrf_exempt  # mail programs post here for one-click unsubscribe (RFC 8058), with no session
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token: str):
    """The link in every email. Opening it asks to confirm (so a mail scanner following links
    unsubscribes nobody); the button, or a mail program's one-click post, unsubscribes."""
    guardian_id = delivery.unsubscribe_guardian_id(token)
    guardian = get_object_or_404(Guardian, pk=guardian_id) if guardian_id else None
    if guardian is None:
        raise Http404
    done = False
    if request.method == "POST":
        guardian_email_unsubscribe(guardian=guardian, via="email")
        done = True
    guardian.refresh_from_db()
    with translation.override(guardian.preferred_language):
        return render(
            request,
            "messaging/email_unsubscribe.html",
            {"done": done or not guardian.wants_email, "guardian": guardian},
        )


def _simulator_allowed() -> None:
    if not phone_simulator.is_enabled():
        raise Http404


@require_http_methods(["GET", "POST"])
def phone(request):
    """The demo's phone simulator: every text the console backend "sent", per phone, and a box
    to answer as that family. Staff only; only where DEBUG or PHONE_SIMULATOR is on."""
    _simulator_allowed()
    if not permissions.access_for(request.user).is_staff_member:
        raise PermissionDenied
    if request.method == "POST":
        to = request.POST.get("phone", "")
        body = request.POST.get("body", "").strip()
        if not body or not to:
            messages.error(request, _("Write an answer first."))
        else:
            _post_as_twilio(from_phone=to, body=body)
            messages.success(request, _("Answer sent through the portal's SMS webhook."))
        return redirect(reverse("channels:phone") + f"?phone={to}")
    phones = phone_simulator.conversations()
    chosen = request.GET.get("phone") or (next(iter(phones), ""))
    return render(
        request,
        "messaging/phone.html",
        {"phones": phones, "chosen": chosen, "texts": phones.get(chosen, [])},
    )


def _post_as_twilio(*, from_phone: str, body: str) -> None:
    """Sends the answer the way Twilio would: a signed form post to the inbound webhook."""
    url = settings.PUBLIC_BASE_URL + reverse("channels:twilio_inbound")
    params = {
        "MessageSid": phone_simulator.new_sid(),
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
        "From": from_phone,
        "To": phone_simulator.portal_number(from_phone),
        "Body": body,
        "NumSegments": "1",
    }
    phone_simulator.record_answer(from_phone=from_phone, body=body)
    response = requests.post(
        url,
        data=params,
        headers={"X-Twilio-Signature": twilio_signature(url=url, params=params)},
        timeout=10,
    )
    response.raise_for_status()
