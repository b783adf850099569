"""A survey's side of the texts families send: the inbound router hands a text to the survey
conversation the number is in before any thread (messaging.inbound)."""

from __future__ import annotations

from django.utils import timezone

from messaging.models import InboundSms
from surveys.services import conversation_for, sms_answer_take


def sms_answer(inbound: InboundSms) -> bool:
    """Takes the text as the answer to the number's survey conversation; False when the number
    is in none (the text then goes to a thread)."""
    invitation = conversation_for(phone=inbound.from_phone, now=timezone.now())
    if invitation is None:
        return False
    sms_answer_take(invitation=invitation, body=inbound.body)
    inbound.guardian = invitation.guardian
    inbound.school = invitation.survey.school
    return True


def yes_no_expected(inbound: InboundSms) -> bool:
    """The number's conversation is on a yes/no question: YES is its answer, not START."""
    invitation = conversation_for(phone=inbound.from_phone, now=timezone.now())
    return invitation is not None and invitation.current_question.kind == "yes_no"
