"""The staff's survey pages (/surveys/manage/): build a survey (details and audience, questions
and choices, texts in every family language), preview it by SMS and on the web, check who it
reaches, send it, follow it, close it. Thin: a survey is found through `surveys_for_staff` (404
otherwise), writes go through surveys/builder.py and surveys/services.py."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging.broadcasts import audience_options
from messaging.models import Delivery
from portal import permissions
from portal.languages import family_language_choices
from surveys import builder, selectors, services
from surveys.manage_forms import QuestionForm, SurveyForm, TranslationForm
from surveys.models import Question, Survey, SurveyTranslationSuggestion
from surveys.texts import language_is_ready, sms_conversation_preview

PAGE_SIZE = 25


def _staff(request) -> None:
    """Staff pages: anyone else is refused (403)."""
    if not permissions.access_for(request.user).is_staff_member:
        raise PermissionDenied


def _survey_or_404(request, survey_id: int) -> Survey:
    _staff(request)
    return get_object_or_404(selectors.surveys_for_staff(request.user), pk=survey_id)


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.prefetch_related("choices").order_by("position"))


def _translation_language_or_404(language: str) -> str:
    if language not in builder.translation_languages():
        raise Http404
    return language


def _family_language_or_404(language: str) -> str:
    if language not in dict(family_language_choices()):
        raise Http404
    return language


def _provider_is_none() -> bool:
    """No machine translation is set up: pages say so instead of offering it."""
    return settings.TRANSLATION_PROVIDER == "none"


def _refused(form, error: services.SurveyError) -> None:
    """The service's message, beside the field it is about when the form has it."""
    field = getattr(error, "field", None)
    if field == "choices":
        field = "choice_1"
    form.add_error(field if field in form.fields else None, str(error))


def _draft_or_back(request, survey: Survey):
    """None for a draft; for a sent survey, back to its page, saying why."""
    if survey.status == Survey.Status.DRAFT:
        return None
    messages.info(request, _("This survey was sent: it can no longer be changed."))
    return redirect("survey_manage:detail", survey_id=survey.pk)


# ---- The list, a new survey, its details ------------------------------------------------------


@require_GET
@login_required
def index(request):
    _staff(request)
    access = permissions.access_for(request.user)
    page = Paginator(selectors.surveys_listed_for_staff(request.user), PAGE_SIZE).get_page(
        request.GET.get("page") or 1
    )
    return render(
        request,
        "surveys/manage/index.html",
        {"page": page, "may_create": access.staff_id is not None and bool(access.roles)},
    )


def _survey_form(request, survey: Survey | None) -> SurveyForm:
    access = permissions.access_for(request.user)
    if access.staff_id is None or not access.roles:
        raise PermissionDenied  # no school to ask families of
    return SurveyForm(request.POST or None, options=audience_options(request.user), survey=survey)


@require_http_methods(["GET", "POST"])
@login_required
def survey_new(request):
    _staff(request)
    form = _survey_form(request, None)
    if request.method == "POST" and form.is_valid():
        try:
            survey = builder.survey_save(actor=request.user, **form.survey_arguments())
        except services.SurveyError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Saved as a draft. Now add its questions."))
            return redirect("survey_manage:questions", survey_id=survey.pk)
    return render(
        request,
        "surveys/manage/edit.html",
        {"form": form, "survey": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def survey_edit(request, survey_id: int):
    survey = _survey_or_404(request, survey_id)
    if back := _draft_or_back(request, survey):
        return back
    form = _survey_form(request, survey)
    if request.method == "POST" and form.is_valid():
        try:
            builder.survey_save(actor=request.user, survey=survey, **form.survey_arguments())
        except services.SurveyError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("survey_manage:detail", survey_id=survey.pk)
    return render(
        request,
        "surveys/manage/edit.html",
        {"form": form, "survey": survey},
        status=400 if form.errors else 200,
    )


def _languages_status(survey: Survey, questions: list[Question]) -> list[dict]:
    """Each family language: whether every text is written in it, and by whom."""
    suggestions = {
        suggestion.language: suggestion for suggestion in survey.translation_suggestions.all()
    }
    return [
        {
            "code": code,
            "name": name,
            "is_default": code == builder.DEFAULT_LANGUAGE,
            "is_ready": language_is_ready(survey, code, questions),
            "is_machine": code in survey.machine_languages,
            "suggestion": suggestions.get(code),
        }
        for code, name in family_language_choices()
    ]


@require_GET
@login_required
def survey_detail(request, survey_id: int):
    """The survey at a glance: a draft's steps (questions, translations, previews, sending);
    a sent survey's progress and the delivery of its texts."""
    survey = _survey_or_404(request, survey_id)
    questions = _questions(survey)
    context = {
        "survey": survey,
        "questions": questions,
        "sections": list(survey.sections.all()),
        "chosen_families": survey.guardians.count(),
        "languages": _languages_status(survey, questions),
        "family_languages": family_language_choices(),
        "provider_is_none": _provider_is_none(),
    }
    if survey.status == Survey.Status.DRAFT:
        context["problems"] = services.survey_problems(survey, questions)
    else:
        context["progress"] = selectors.survey_progress(survey)
        labels = dict(Delivery.Status.choices)
        context["deliveries"] = [
            (labels.get(status, status), count)
            for status, count in selectors.survey_delivery_counts(survey).items()
            if count
        ]
    return render(request, "surveys/manage/detail.html", context)


# ---- Questions and choices --------------------------------------------------------------------


def _question_or_404(request, survey_id: int, question_id: int) -> Question:
    survey = _survey_or_404(request, survey_id)
    return get_object_or_404(
        Question.objects.select_related("survey"), pk=question_id, survey=survey
    )


@require_http_methods(["GET", "POST"])
@login_required
def questions(request, survey_id: int):
    """The questions in order, each with its choices, to edit, move and remove; and a form to
    add one at the end."""
    survey = _survey_or_404(request, survey_id)
    if back := _draft_or_back(request, survey):
        return back
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            builder.question_add(actor=request.user, survey=survey, **form.question_arguments())
        except services.SurveyError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Question added."))
            return redirect(f"{request.path}#add")
    return render(
        request,
        "surveys/manage/questions.html",
        {"survey": survey, "questions": _questions(survey), "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def question_edit(request, survey_id: int, question_id: int):
    question = _question_or_404(request, survey_id, question_id)
    survey = question.survey
    if back := _draft_or_back(request, survey):
        return back
    form = QuestionForm(request.POST or None, question=question)
    if request.method == "POST" and form.is_valid():
        try:
            builder.question_save(
                actor=request.user, question=question, **form.question_arguments()
            )
        except services.SurveyError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Question saved."))
            return redirect(_question_anchor(survey, question))
    return render(
        request,
        "surveys/manage/question.html",
        {"survey": survey, "question": question, "form": form},
        status=400 if form.errors else 200,
    )


def _question_anchor(survey: Survey, question: Question) -> str:
    return redirect("survey_manage:questions", survey_id=survey.pk).url + f"#question-{question.pk}"


@require_POST
@login_required
def question_remove(request, survey_id: int, question_id: int):
    question = _question_or_404(request, survey_id, question_id)
    try:
        builder.question_remove(actor=request.user, question=question)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Question removed."))
    return redirect("survey_manage:questions", survey_id=survey_id)


@require_POST
@login_required
def question_move(request, survey_id: int, question_id: int):
    question = _question_or_404(request, survey_id, question_id)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        messages.error(request, _("Choose where to move the question."))
        return redirect("survey_manage:questions", survey_id=survey_id)
    try:
        question = builder.question_move(actor=request.user, question=question, position=position)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Question moved to number %(position)d.") % {"position": question.position}
        )
    return redirect(_question_anchor(question.survey, question))


# ---- Translations -----------------------------------------------------------------------------


@require_GET
@login_required
def translations(request, survey_id: int):
    """Each family language: are its texts all written, by a person or by a machine?"""
    survey = _survey_or_404(request, survey_id)
    questions = _questions(survey)
    return render(
        request,
        "surveys/manage/translations.html",
        {
            "survey": survey,
            "languages": _languages_status(survey, questions),
            "provider_is_none": _provider_is_none(),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def translation(request, survey_id: int, language: str):
    """The survey's texts in the default language beside one family language's, each labelled,
    with the machine's suggestion under each when one was asked for."""
    survey = _survey_or_404(request, survey_id)
    language = _translation_language_or_404(language)
    names = dict(family_language_choices())
    texts = builder.survey_texts(survey)
    form = TranslationForm(
        request.POST or None, texts=texts, language=language, language_name=names[language]
    )
    may_change = survey.status != Survey.Status.CLOSED
    if request.method == "POST":
        if not may_change:
            messages.error(request, _("This survey is closed: it can no longer be changed."))
            return redirect(request.path)
        if form.is_valid():
            try:
                builder.survey_translation_save(
                    actor=request.user,
                    survey=survey,
                    language=language,
                    texts=form.texts_written(),
                    is_reviewed=form.cleaned_data["is_reviewed"],
                )
            except services.SurveyError as error:
                _refused(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(request.path)
    suggestion = SurveyTranslationSuggestion.objects.filter(
        survey=survey, language=language
    ).first()
    stale = []
    if suggestion is not None and suggestion.status == SurveyTranslationSuggestion.Status.READY:
        stale = [
            text.label
            for text in texts
            if text.key in suggestion.source_texts
            and suggestion.source_texts[text.key] != text.in_language(builder.DEFAULT_LANGUAGE)
        ]
    rows = [
        {
            "text": text,
            "original": text.in_language(builder.DEFAULT_LANGUAGE),
            "field": form[text.key],
            "suggested": suggestion.texts.get(text.key) if suggestion else None,
        }
        for text in texts
    ]
    return render(
        request,
        "surveys/manage/translation.html",
        {
            "survey": survey,
            "language": language,
            "language_name": names[language],
            "default_language": builder.DEFAULT_LANGUAGE,
            "default_language_name": names[builder.DEFAULT_LANGUAGE],
            "languages": [(code, names[code]) for code in builder.translation_languages()],
            "form": form,
            "rows": rows,
            "suggestion": suggestion,
            "stale": stale,
            "is_machine": language in survey.machine_languages,
            "may_change": may_change,
            "provider_is_none": _provider_is_none(),
        },
        status=400 if form.errors else 200,
    )


def _back_to_translation(survey_id: int, language: str, anchor: str = ""):
    url = redirect("survey_manage:translation", survey_id=survey_id, language=language).url
    return redirect(url + anchor)


@require_POST
@login_required
def translation_suggest(request, survey_id: int, language: str):
    survey = _survey_or_404(request, survey_id)
    language = _translation_language_or_404(language)
    try:
        suggestion = builder.survey_translation_suggest(
            actor=request.user, survey=survey, language=language
        )
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        suggestion.refresh_from_db()
        if suggestion.status == SurveyTranslationSuggestion.Status.ASKED:
            messages.info(
                request, _("Translating… reload this page in a moment to read the suggestion.")
            )
    return _back_to_translation(survey.pk, language, "#suggestion")


def _suggestion_or_404(request, survey_id: int, language: str) -> SurveyTranslationSuggestion:
    survey = _survey_or_404(request, survey_id)
    return get_object_or_404(
        SurveyTranslationSuggestion.objects.select_related("survey"),
        survey=survey,
        language=_translation_language_or_404(language),
    )


@require_POST
@login_required
def translation_accept(request, survey_id: int, language: str):
    suggestion = _suggestion_or_404(request, survey_id, language)
    try:
        builder.survey_translation_accept(actor=request.user, suggestion=suggestion)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Accepted: families will read these texts marked as machine translated until a "
                "person checks them."
            ),
        )
    return _back_to_translation(survey_id, language)


@require_POST
@login_required
def translation_discard(request, survey_id: int, language: str):
    suggestion = _suggestion_or_404(request, survey_id, language)
    try:
        builder.survey_translation_discard(actor=request.user, suggestion=suggestion)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Suggestion discarded."))
    return _back_to_translation(survey_id, language)


# ---- Previews ---------------------------------------------------------------------------------


@require_GET
@login_required
def preview_sms(request, survey_id: int):
    """The conversation a family reading `?language=` has with the survey by text."""
    survey = _survey_or_404(request, survey_id)
    language = _family_language_or_404(request.GET.get("language") or builder.DEFAULT_LANGUAGE)
    questions = _questions(survey)
    return render(
        request,
        "surveys/manage/preview_sms.html",
        {
            "survey": survey,
            "language": language,
            "language_name": dict(family_language_choices())[language],
            "family_languages": family_language_choices(),
            "turns": sms_conversation_preview(survey, language=language),
            "is_ready": language_is_ready(survey, language, questions),
            "is_machine": language in survey.machine_languages,
            "provider_is_none": _provider_is_none(),
            "web_only": [
                question for question in questions if question.kind == Question.Kind.MULTIPLE_CHOICE
            ],
        },
    )


# ---- Sending and closing ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def survey_send(request, survey_id: int):
    """Who the survey reaches (by language and channel, and who cannot be reached, and why),
    then "Send" opens it and invites every family."""
    survey = _survey_or_404(request, survey_id)
    if back := _draft_or_back(request, survey):
        return back
    error = None
    if request.method == "POST":
        try:
            sent = services.survey_send(actor=request.user, survey=survey)
        except services.SurveyError as refused:
            error = str(refused)
        else:
            messages.success(
                request,
                _(
                    "Sent: %(sms)d families answer by text, %(web)d on the web. %(waiting)d wait "
                    "for another survey to finish on their phone first; %(unreachable)d cannot "
                    "be reached."
                )
                % {
                    "sms": sent.by_sms,
                    "web": sent.on_web,
                    "waiting": sent.waiting,
                    "unreachable": sent.unreachable,
                },
            )
            return redirect("survey_manage:detail", survey_id=survey.pk)
    questions = _questions(survey)
    audience = None
    try:
        audience = services.survey_audience(actor=request.user, survey=survey)
    except services.SurveyError as refused:
        error = error or str(refused)
    problems = services.survey_problems(survey, questions)
    languages = []
    if audience is not None:
        languages = [
            {
                "code": code,
                "families": families,
                "is_ready": language_is_ready(survey, code, questions),
                "is_machine": code in survey.machine_languages,
            }
            for code, families in audience.by_language.items()
        ]
    return render(
        request,
        "surveys/manage/send.html",
        {
            "survey": survey,
            "audience": audience,
            "languages": languages,
            "problems": problems,
            "error": error,
            "provider_is_none": _provider_is_none(),
            "too_few_for_anonymity": survey.is_anonymous
            and audience is not None
            and audience.reached < 5,
        },
        status=400 if error else 200,
    )


@require_POST
@login_required
def survey_close(request, survey_id: int):
    survey = _survey_or_404(request, survey_id)
    try:
        services.survey_close(actor=request.user, survey=survey)
    except services.SurveyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Closed: no more answers are taken."))
    return redirect("survey_manage:detail", survey_id=survey.pk)
