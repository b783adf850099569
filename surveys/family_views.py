"""A family answers a survey on the web through its own link, and staff preview that page.

The link (`/s/<token>/`) needs no sign-in: its token is the only key, and a link may be
forwarded, so the page shows nothing of the family but the answers given through it. Its
address goes to no other site as a referrer, it is never cached, and log lines hide the token
(surveys.log_filters). The page reads in the family's language (`?lang=` changes it for this
page only, kept in every link and form), one question per screen or all at once; each screen
saves its answer as it goes, so opening the link again resumes at the first question without an
answer; "Send my answers" finishes it, and then only the thank-you shows.

The preview renders the same templates for staff in any family language with no answers:
nothing is saved, and its buttons move between screens by GET.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from portal.languages import AUTONYMS, family_language_codes
from portal.models import School
from surveys import services
from surveys.family_pages import (
    QuestionOnPage,
    State,
    SurveyPage,
    answering_state,
    interface_language,
    invitation_by_token,
    survey_page,
)
from surveys.forms import AnswerForm
from surveys.models import Invitation
from surveys.selectors import surveys_for_staff

# ---- Addresses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyLinks:
    """The screens of one family's link, each keeping the language the family chose."""

    token: str
    chosen_language: str = ""  # from ?lang=; empty: the family's own

    def screen(self, name: str) -> str:
        names = {"start": "answer", "all": "answer_all", "finish": "answer_finish"}
        if name in names:
            url = reverse(f"surveys:{names[name]}", args=[self.token])
        else:
            url = reverse("surveys:answer_question", args=[self.token, int(name)])
        return url + (
            f"?{urlencode({'lang': self.chosen_language})}" if self.chosen_language else ""
        )

    def in_language(self, language: str) -> FamilyLinks:
        return replace(self, chosen_language=language)

    @property
    def start(self) -> str:
        return self.screen("start")

    @property
    def all(self) -> str:
        return self.screen("all")

    @property
    def finish(self) -> str:
        return self.screen("finish")


@dataclass(frozen=True)
class PreviewLinks:
    """The screens of the staff's preview: `?screen=` names one."""

    survey_id: int
    language: str

    @property
    def base(self) -> str:
        return reverse("surveys:preview", args=[self.survey_id, self.language])

    def screen(self, name: str) -> str:
        return f"{self.base}?{urlencode({'screen': name})}"

    def in_language(self, language: str) -> PreviewLinks:
        return replace(self, language=language)

    @property
    def start(self) -> str:
        return self.screen("1")

    @property
    def all(self) -> str:
        return self.screen("all")

    @property
    def finish(self) -> str:
        return self.screen("finish")


# ---- Rendering --------------------------------------------------------------------------------


@contextmanager
def _as_read_in(language: str, school: School) -> Iterator[None]:
    """The page's own words in the family's language (or the default one where the portal does
    not speak it yet), its times in the school's time zone."""
    zone = zoneinfo.ZoneInfo(school.timezone)
    with translation.override(interface_language(language)), timezone.override(zone):
        yield


def _languages(page: SurveyPage, links, screen: str) -> list[dict]:
    """The language switcher: every family language, each in its own words."""
    return [
        {
            "code": code,
            "name": AUTONYMS.get(code, code),
            "url": links.in_language(code).screen(screen),
            "is_current": code == page.language,
        }
        for code in family_language_codes()
    ]


def _render(
    request, template: str, *, page: SurveyPage, links, screen: str, status: int = 200, **context
) -> HttpResponse:
    response = render(
        request,
        template,
        {
            "page": page,
            "links": links,
            "screen": screen,
            "languages": _languages(page, links, screen),
            **context,
        },
        status=status,
    )
    response.headers["Content-Language"] = interface_language(page.language)
    return response


def _question_screen(request, page: SurveyPage, question: QuestionOnPage, links, **context):
    following = page.question(question.number + 1)
    return _render(
        request,
        "surveys/answer_question.html",
        page=page.with_question(question),
        links=links,
        screen=str(question.number),
        question=question,
        previous=page.question(question.number - 1),
        next_screen=str(following.number) if following else "finish",
        **context,
    )


def _finish_screen(request, page: SurveyPage, links, **context):
    return _render(
        request, "surveys/answer_finish.html", page=page, links=links, screen="finish", **context
    )


def _all_screen(request, page: SurveyPage, links, **context):
    return _render(
        request, "surveys/answer_all.html", page=page, links=links, screen="all", **context
    )


def _status_screen(request, page: SurveyPage, links, state: str, **context):
    return _render(
        request,
        "surveys/answer_status.html",
        page=page,
        links=links,
        screen="start",
        state=state,
        **context,
    )


# ---- The family's link ------------------------------------------------------------------------


def family_link(view):
    """Every response of a family's link: its address (which holds the token) goes to no other
    site as a referrer, and it is never cached (it shows the family's answers).

    "same-origin" rather than "no-referrer": under "no-referrer" browsers send `Origin: null`
    with the page's own form posts, which Django's CSRF check rightly refuses."""

    @functools.wraps(view)
    def answering(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response.headers["Referrer-Policy"] = "same-origin"
        add_never_cache_headers(response)
        return response

    return answering


@dataclass(frozen=True)
class _Family:
    invitation: Invitation
    language: str  # the page's: chosen with ?lang=, else the family's own
    links: FamilyLinks


def _family(request, token: str) -> _Family:
    invitation = invitation_by_token(token)
    if invitation is None:
        raise Http404
    chosen = request.GET.get("lang", "")
    if chosen not in family_language_codes():
        chosen = ""
    return _Family(
        invitation=invitation,
        language=chosen or invitation.guardian.preferred_language,
        links=FamilyLinks(token=token, chosen_language=chosen),
    )


def _page(family: _Family) -> SurveyPage:
    return survey_page(
        family.invitation.survey,
        language=family.language,
        answers=services.answers_of(family.invitation),
        url_for=family.links.screen,
    )


def _unless_answering(request, family: _Family) -> HttpResponse | None:
    """The page that says why the link takes no answers now (finished, closed, not open yet),
    or None when it does."""
    state = answering_state(family.invitation)
    if state == State.OPEN:
        return None
    survey = family.invitation.survey
    page = survey_page(survey, language=family.language, answers={}, url_for=family.links.screen)
    return _status_screen(request, page, family.links, state, opens_at=survey.opens_at)


def _answer_save(
    family: _Family, question: QuestionOnPage, form: AnswerForm, *, is_skipped: bool
) -> list[str]:
    """Saves one answer through the service; why it was refused, for the family. Nothing given
    counts as skipping, which the service refuses for a required question."""
    if not form.is_valid():
        return [str(message) for message in form.errors.get("answer", [])]
    answer = {"is_skipped": True} if is_skipped or form.is_empty() else form.answer()
    try:
        services.answer_save(
            invitation=family.invitation,
            question=question.question,
            language=family.language,
            **answer,
        )
    except services.SurveyError as error:
        return [str(error)]
    return []


def _shown_as_sent(question: QuestionOnPage, form: AnswerForm, errors: list[str]):
    selected, typed = form.sent()
    return question.showing(selected=selected, typed=typed, errors=errors)


@family_link
@require_GET
def answer(request, token: str):
    """The link: the first question without an answer (the first screen, for a family that
    starts; where they left off, for one that comes back), or the page to check and send the
    answers when every question has one; the thank-you once they are sent."""
    family = _family(request, token)
    with _as_read_in(family.language, family.invitation.survey.school):
        refusal = _unless_answering(request, family)
        if refusal is not None:
            return refusal
        page = _page(family)
        number = page.resume_number()
        if number is None:
            return _finish_screen(request, page, family.links)
        return _question_screen(request, page, page.question(number), family.links)


@family_link
@require_http_methods(["GET", "POST"])
def answer_question(request, token: str, number: int):
    """One question on its own screen; its answer is saved when the family moves on."""
    family = _family(request, token)
    with _as_read_in(family.language, family.invitation.survey.school):
        refusal = _unless_answering(request, family)
        if refusal is not None:
            return refusal
        page = _page(family)
        question = page.question(number)
        if question is None:
            raise Http404
        if request.method == "POST":
            form = AnswerForm(request.POST, question=question.question, prefix=question.prefix)
            errors = _answer_save(family, question, form, is_skipped="skip" in request.POST)
            if not errors:
                following = page.question(number + 1)
                return redirect(
                    family.links.screen(str(following.number) if following else "finish")
                )
            question = _shown_as_sent(question, form, errors)
            return _question_screen(request, page, question, family.links, status=400)
        return _question_screen(request, page, question, family.links)


@family_link
@require_http_methods(["GET", "POST"])
def answer_all(request, token: str):
    """Every question on one page; sending it saves every answer given, then finishes (or not:
    "Save and finish later")."""
    family = _family(request, token)
    with _as_read_in(family.language, family.invitation.survey.school):
        refusal = _unless_answering(request, family)
        if refusal is not None:
            return refusal
        page = _page(family)
        if request.method == "GET":
            return _all_screen(request, page, family.links)
        shown, refused = [], False
        for question in page.questions:
            form = AnswerForm(request.POST, question=question.question, prefix=question.prefix)
            errors = []
            if not form.is_valid() or not form.is_empty() or question.is_answered:
                # Nothing given to a question never answered stays unanswered; emptied, an
                # answer given before is skipped (or refused, for a required question).
                errors = _answer_save(family, question, form, is_skipped=False)
            refused = refused or bool(errors)
            shown.append(_shown_as_sent(question, form, errors))
        if refused:
            return _all_screen(request, replace(page, questions=shown), family.links, status=400)
        if "finish" in request.POST:
            try:
                services.invitation_finish(invitation=family.invitation)
            except services.SurveyError as error:
                page = _page(family)
                return _all_screen(request, page, family.links, errors=[str(error)], status=400)
            return redirect(family.links.start)
        messages.success(
            request,
            gettext("Your answers are saved. Open this link again to finish the survey."),
        )
        return redirect(family.links.all)


@family_link
@require_http_methods(["GET", "POST"])
def answer_finish(request, token: str):
    """The family checks its answers and sends them: every required question needs one."""
    family = _family(request, token)
    with _as_read_in(family.language, family.invitation.survey.school):
        refusal = _unless_answering(request, family)
        if refusal is not None:
            return refusal
        if request.method == "POST":
            try:
                services.invitation_finish(invitation=family.invitation)
            except services.SurveyError as error:
                page = _page(family)
                return _finish_screen(request, page, family.links, errors=[str(error)], status=400)
            return redirect(family.links.start)
        return _finish_screen(request, _page(family), family.links)


# ---- The staff's preview ----------------------------------------------------------------------


@login_required
@require_GET
def preview(request, survey_id: int, language: str):
    """The family's page in any family language, for staff who may manage the survey: no
    answers, nothing saved; `?screen=` is a question's number, "all", "finish" or "thanks"."""
    survey = surveys_for_staff(request.user).filter(pk=survey_id).first()
    if survey is None or language not in family_language_codes():
        raise Http404
    banner = gettext(
        "Preview in %(language)s: this is what families see from their own link. Nothing you "
        "choose here is saved."
    ) % {"language": AUTONYMS.get(language, language)}
    links = PreviewLinks(survey_id=survey.pk, language=language)
    screen = request.GET.get("screen", "1")
    context = {"preview": True, "preview_banner": banner}
    with _as_read_in(language, survey.school):
        page = survey_page(survey, language=language, answers={}, url_for=links.screen)
        if screen == "all":
            return _all_screen(request, page, links, **context)
        if screen == "finish" or (screen == "1" and not page.questions):
            return _finish_screen(request, page, links, **context)
        if screen == "thanks":
            return _status_screen(request, page, links, State.COMPLETED, **context)
        question = page.question(int(screen)) if screen.isdigit() else None
        if question is None:
            raise Http404
        return _question_screen(request, page, question, links, **context)
