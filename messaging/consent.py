"""Consent to texts, per phone number and school. STOP is honoured before every send; START
restores; NEWS OFF mutes announcements while conversations with staff and urgent alerts keep
coming. Every change is kept with its source and time (ConsentChange)."""

from __future__ import annotations

from django.db import transaction

from messaging.models import ConsentChange, SmsConsent
from portal.models import School

ACTION = ConsentChange.Action

# What each change sets on the consent row.
_EFFECT = {
    ACTION.OPT_OUT: {"is_opted_out": True},
    ACTION.OPT_IN: {"is_opted_out": False},
    ACTION.MUTE_ANNOUNCEMENTS: {"announcements_muted": True},
    ACTION.UNMUTE_ANNOUNCEMENTS: {"announcements_muted": False},
}


@transaction.atomic
def consent_change(
    *, school: School, phone: str, action: str, source: str, keyword: str = ""
) -> SmsConsent:
    """Records a change of a number's consent at a school, and what it now is."""
    consent, _created = SmsConsent.objects.select_for_update().get_or_create(
        school=school, phone=phone
    )
    for field, value in _EFFECT[action].items():
        setattr(consent, field, value)
    consent.save()
    ConsentChange.objects.create(
        consent=consent, action=action, source=source, keyword=keyword[:32]
    )
    return consent


def refusal_of(
    consent: SmsConsent | None, *, is_announcement: bool, is_urgent: bool
) -> tuple[str, str] | None:
    """Why a number's consent refuses this text, as (code, reason), or None when it may go."""
    if consent is None:
        return None
    if consent.is_opted_out:
        return "opted-out", "The family texted STOP; texts resume if they text START."
    if consent.announcements_muted and is_announcement and not is_urgent:
        return "announcements-muted", "The family muted announcements (NEWS OFF)."
    return None


def sms_refusal(
    *, school_id: int, phone: str, is_announcement: bool, is_urgent: bool
) -> tuple[str, str] | None:
    """Why a text may not go to this number now, as (code, reason), or None when it may."""
    return refusal_of(
        SmsConsent.objects.filter(school_id=school_id, phone=phone).first(),
        is_announcement=is_announcement,
        is_urgent=is_urgent,
    )
