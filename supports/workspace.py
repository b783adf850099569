"""The counselors' workspace (/supports/manage/): the services of their schools, edited in every
family language side by side, and the help requests they answer. Thin: permission comes from
supports/services.py (`services_managed_by`, `workspace_schools`), writes go through its services,
and a service or request that is not the person's answers 404."""

from urllib.parse import quote_plus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.languages import family_language_choices
from portal.models import District, School
from supports import services
from supports.forms import AssignForm, CloseForm, ServiceForm, SpotlightForm
from supports.models import HelpRequest, ServiceTranslationSuggestion, SupportService

REQUESTS_PER_PAGE = 50


def _workspace(request) -> None:
    """Counselors and school admins only; anyone else is refused (403)."""
    if not services.workspace_schools(request.user):
        raise PermissionDenied


def _service_or_404(request, service_id: int) -> SupportService:
    _workspace(request)
    return get_object_or_404(services.services_managed_by(request.user), pk=service_id)


def _language_or_404(language: str) -> str:
    if language not in services.translation_languages():
        raise Http404
    return language


def _language_names() -> dict[str, str]:
    return dict(family_language_choices())


@require_GET
@login_required
def index(request):
    _workspace(request)
    kept = (
        services.services_managed_by(request.user)
        .select_related("category", "school", "district")
        .order_by("status", "title_en", "pk")
    )
    return render(request, "supports/manage/index.html", {"services": kept})


def _form(request, service: SupportService | None, language: str | None) -> ServiceForm:
    schools, districts = services.places_for(request.user)
    places = [(f"school:{school.pk}", school.name) for school in schools] + [
        (f"district:{district.pk}", _("Every school of %(district)s") % {"district": district})
        for district in districts
    ]
    return ServiceForm(
        request.POST or None,
        instance=service,
        places=places,
        answerer_choices=_answerer_choices(schools, districts),
        language=language,
    )


def _answerer_choices(schools, districts) -> list[tuple[int, str]]:
    people = {}
    for district in districts:
        for person in services.answerers_for(district=district):
            people[person.pk] = str(person)
    for school in schools:
        for person in services.answerers_for(school=school):
            people[person.pk] = str(person)
    return sorted(people.items(), key=lambda choice: choice[1])


def _save(request, form: ServiceForm, service: SupportService | None):
    kind, pk = form.where()
    try:
        saved = services.service_save(
            actor=request.user,
            service=service,
            details=form.details(),
            texts=form.texts(),
            school=School.objects.filter(pk=pk).first() if kind == "school" else None,
            district=District.objects.filter(pk=pk).first() if kind == "district" else None,
            counselors=list(services.Staff.objects.filter(pk__in=form.cleaned_data["answerers"])),
        )
    except services.SupportError as error:
        form.add_error(None, str(error))
        return None
    messages.success(request, _("Saved."))
    return saved


@require_http_methods(["GET", "POST"])
@login_required
def service_new(request):
    _workspace(request)
    form = _form(request, None, None)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, None)
        if saved is not None:
            return redirect("support_workspace:edit", service_id=saved.pk)
    rows = [{"english": english} for english, _translated in form.text_rows()]
    return render(
        request, "supports/manage/edit.html", {"form": form, "service": None, "rows": rows}
    )


@require_http_methods(["GET", "POST"])
@login_required
def service_edit(request, service_id: int):
    """The service's details and its English texts, beside one family language's (`?language=`
    or the form's), with that language's machine suggestion if one was asked for."""
    service = _service_or_404(request, service_id)
    language = request.POST.get("language") or request.GET.get("language") or None
    if language is not None:
        _language_or_404(language)
    form = _form(request, service, language)
    if request.method == "POST" and form.is_valid() and _save(request, form, service):
        url = redirect("support_workspace:edit", service_id=service.pk).url
        return redirect(f"{url}?language={language}" if language else url)
    suggestion = (
        ServiceTranslationSuggestion.objects.filter(service=service, language=language).first()
        if language
        else None
    )
    marked = set(service.machine_translated.get(language, [])) if language else set()
    rows = [
        {
            "english": english,
            "translated": translated,
            "suggested": suggestion.texts.get(field) if suggestion else None,
            "is_kept": bool(translated and translated.value()) and field not in marked,
            "is_machine": field in marked,
        }
        for (english, translated), field in zip(
            form.text_rows(), SupportService.TRANSLATED_FIELDS, strict=True
        )
    ]
    stale = suggestion is not None and any(
        getattr(service, services.column(field, services.DEFAULT_LANGUAGE)) != text
        for field, text in suggestion.source_texts.items()
    )
    return render(
        request,
        "supports/manage/edit.html",
        {
            "form": form,
            "service": service,
            "language": language,
            "language_name": _language_names().get(language, ""),
            "family_languages": [
                (code, name)
                for code, name in family_language_choices()
                if code in services.translation_languages()
            ],
            "rows": rows,
            "suggestion": suggestion,
            "suggestion_is_stale": stale,
        },
    )


@require_POST
@login_required
def service_publish(request, service_id: int):
    service = _service_or_404(request, service_id)
    try:
        services.service_publish(actor=request.user, service=service)
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Published: families of its schools can find it."))
    return redirect("support_workspace:edit", service_id=service.pk)


@require_POST
@login_required
def service_unpublish(request, service_id: int):
    service = _service_or_404(request, service_id)
    try:
        services.service_unpublish(actor=request.user, service=service)
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Unpublished: families no longer find it."))
    return redirect("support_workspace:edit", service_id=service.pk)


def _family_text(row, field: str, language: str) -> dict:
    """One text as a family reading `language` gets it: its own, marked when machine made, or
    the English, marked as not yet in their language (the shape of the family pages' texts)."""
    english = getattr(row, services.column(field, services.DEFAULT_LANGUAGE)) or ""
    own = getattr(row, services.column(field, language)) or ""
    if own.strip():
        is_machine = language != services.DEFAULT_LANGUAGE and field in (
            getattr(row, "machine_translated", None) or {}
        ).get(language, ())
        return {
            "text": own,
            "language": language,
            "is_fallback": False,
            "is_machine": is_machine,
            "original": english if is_machine else "",
        }
    return {
        "text": english,
        "language": services.DEFAULT_LANGUAGE,
        "is_fallback": bool(english) and language != services.DEFAULT_LANGUAGE,
        "is_machine": False,
        "original": "",
    }


def _family_template() -> str:
    """The family pages' service template when it is there; else the workspace's own."""
    try:
        get_template("supports/service.html")
    except TemplateDoesNotExist:
        return "supports/manage/_family_service.html"
    return "supports/service.html"


@require_GET
@login_required
def service_preview(request, service_id: int):
    """The service page as a family reading `?language=` would see it (drafts too): the accepted
    texts of that language, machine ones marked, never a suggestion."""
    service = _service_or_404(request, service_id)
    language = request.GET.get("language") or services.DEFAULT_LANGUAGE
    if language != services.DEFAULT_LANGUAGE:
        _language_or_404(language)
    texts = {
        field: _family_text(service, field, language) for field in SupportService.TRANSLATED_FIELDS
    }
    address_map = f"https://www.openstreetmap.org/search?query={quote_plus(service.address)}"
    page = {
        "service": service,
        "language": language,
        "texts": texts,
        "category_name": _family_text(service.category, "name", language),
        "languages": service.languages.split(),
        "map_url": service.map_url or (address_map if service.address else ""),
    }
    return render(
        request,
        "supports/manage/preview.html",
        {
            "family_template": _family_template(),
            "page": page,
            "form": None,
            "service": service,
            "language": language,
            "language_name": _language_names().get(language, language),
            "family_languages": family_language_choices(),
            "missing": [
                capfirst(SupportService._meta.get_field(field).verbose_name)
                for field, text in texts.items()
                if text["is_fallback"]
            ],
        },
    )


@require_POST
@login_required
def translation_suggest(request, service_id: int, language: str):
    service = _service_or_404(request, service_id)
    language = _language_or_404(language)
    try:
        suggestion = services.translation_suggest(
            actor=request.user, service=service, language=language
        )
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        suggestion.refresh_from_db()
        if suggestion.status == ServiceTranslationSuggestion.Status.ASKED:
            messages.info(
                request, _("Translating… reload this page in a moment to read the suggestion.")
            )
    url = redirect("support_workspace:edit", service_id=service.pk).url
    return redirect(f"{url}?language={language}#suggestion")


def _suggestion_or_404(request, service_id: int, language: str) -> ServiceTranslationSuggestion:
    service = _service_or_404(request, service_id)
    return get_object_or_404(
        ServiceTranslationSuggestion.objects.select_related("service"),
        service=service,
        language=_language_or_404(language),
    )


@require_POST
@login_required
def translation_accept(request, service_id: int, language: str):
    suggestion = _suggestion_or_404(request, service_id, language)
    try:
        services.translation_accept(actor=request.user, suggestion=suggestion)
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Accepted: families will see these texts marked as machine translated.")
        )
    url = redirect("support_workspace:edit", service_id=service_id).url
    return redirect(f"{url}?language={language}")


@require_POST
@login_required
def translation_discard(request, service_id: int, language: str):
    suggestion = _suggestion_or_404(request, service_id, language)
    services.translation_discard(actor=request.user, suggestion=suggestion)
    messages.success(request, _("Suggestion discarded."))
    url = redirect("support_workspace:edit", service_id=service_id).url
    return redirect(f"{url}?language={language}")


# ---- Help requests ----------------------------------------------------------------------------


@require_GET
@login_required
def requests_queue(request):
    """The requests of the services this person answers: open ones (new first, then assigned,
    oldest first) or, with `?show=closed`, the closed ones, newest first."""
    _workspace(request)
    show = "closed" if request.GET.get("show") == "closed" else "open"
    found = services.help_requests_for_counselor(request.user).select_related("student")
    if show == "closed":
        found = found.filter(status=HelpRequest.Status.CLOSED).order_by("-closed_at", "-pk")
    else:
        found = found.exclude(status=HelpRequest.Status.CLOSED)
    page = Paginator(found, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    counselors = services.counselors_by_service({row.service_id for row in page})
    rows = [
        {
            "request": row,
            "assign": AssignForm(
                initial={"staff": row.assigned_to_id},
                counselors=counselors.get(row.service_id, []),
                prefix=f"r{row.pk}",
            ),
            "close": CloseForm(prefix=f"r{row.pk}"),
        }
        for row in page
    ]
    return render(
        request, "supports/manage/requests.html", {"rows": rows, "page": page, "show": show}
    )


def _help_request_or_404(request, request_id: int) -> HelpRequest:
    _workspace(request)
    return get_object_or_404(
        services.help_requests_for_counselor(request.user).select_related(None), pk=request_id
    )


@require_POST
@login_required
def request_assign(request, request_id: int):
    help_request = _help_request_or_404(request, request_id)
    counselors = services.counselors_of(help_request.service)
    form = AssignForm(request.POST, counselors=counselors, prefix=f"r{help_request.pk}")
    if not form.is_valid():
        messages.error(request, _("Give it to one of the service's counselors."))
        return redirect("support_workspace:requests")
    try:
        services.help_request_assign(
            actor=request.user,
            help_request=help_request,
            staff=next(p for p in counselors if p.pk == form.cleaned_data["staff"]),
        )
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Assigned."))
    return redirect("support_workspace:requests")


@require_POST
@login_required
def request_close(request, request_id: int):
    help_request = _help_request_or_404(request, request_id)
    form = CloseForm(request.POST, prefix=f"r{help_request.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose how the request ended."))
        return redirect("support_workspace:requests")
    try:
        services.help_request_close(
            actor=request.user, help_request=help_request, outcome=form.cleaned_data["outcome"]
        )
    except services.SupportError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Closed. The family will be asked whether it got the help."))
    return redirect("support_workspace:requests")


@require_http_methods(["GET", "POST"])
@login_required
def service_spotlight(request, service_id: int):
    """Put a published service in the spotlight: an announcement to the families chosen, and
    the service on their home page for a while."""
    from messaging.broadcasts import sections_targetable
    from portal.models import Section

    service = _service_or_404(request, service_id)
    schools = School.objects.filter(pk__in=services.workspace_schools(request.user)).order_by(
        "name"
    )
    sections = Section.objects.none()
    for school in schools:
        sections |= sections_targetable(request.user, school)
    form = SpotlightForm(
        request.POST or None,
        schools=schools,
        sections=sections.select_related("school").order_by("school__name", "name"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            spotlight = services.service_spotlight(
                actor=request.user,
                service=service,
                school=data["school"],
                kind=data["audience"],
                sections=list(data["sections"]),
                grade=data["grade"],
                scheduled_at=data["scheduled_at"],
                shows_until=data["shows_until"],
            )
        except services.SupportError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The service is in the spotlight."))
            return redirect("broadcasts:detail", broadcast_id=spotlight.broadcast_id)
    return render(
        request,
        "supports/manage/spotlight.html",
        {"service": service, "form": form},
        status=400 if form.errors else 200,
    )
