"""Consent to texts, per phone number and school. STOP is honoured before every send; START
restores; NEWS OFF mutes announcements while conversations with staff and urgent alerts keep
coming. Every change is kept with its source and time (ConsentChange)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from messaging.models import ConsentChange, SmsConsent
from portal.models import Guardian, School

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


def sms_refusal(
    *, school_id: int, phone: str, is_announcement: bool, is_urgent: bool
) -> tuple[str, str] | None:
    """Why a text may not go to this number now, as (code, reason), or None when it may."""
    consent = SmsConsent.objects.filter(school_id=school_id, phone=phone).first()
    if consent is None:
        return None
    if consent.is_opted_out:
        return "opted-out", "The family texted STOP; texts resume if they text START."
    if consent.announcements_muted and is_announcement and not is_urgent:
        return "announcements-muted", "The family muted announcements (NEWS OFF)."
    return None


def opted_out_guardians(school: School) -> QuerySet[Guardian]:
    """Guardians whose number has stopped this school's texts."""
    stopped = SmsConsent.objects.filter(school=school, is_opted_out=True).values("phone")
    return Guardian.objects.filter(phone__in=stopped)


def sms_blocked_q(school_id: int, *, prefix: str = "", is_announcement: bool = False) -> Q:
    """Guardians (through `prefix`) whose number takes no texts from the school: stopped, or for
    an announcement, muted. For audience counts, in one query."""
    blocked = SmsConsent.objects.filter(school_id=school_id).filter(
        Q(is_opted_out=True) | Q(announcements_muted=True)
        if is_announcement
        else Q(is_opted_out=True)
    )
    return Q(**{f"{prefix}phone__in": blocked.values("phone")})
