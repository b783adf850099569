"""Family pages of the support directory: browse and search it in one's own language, read a
service, ask it for help. Thin: they read through the selectors, write through the services, and
answer 404 for a service the reader may not find."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from messaging.models import MAX_BODY_CHARS
from messaging.services import MessagingError
from portal import permissions
from portal.models import Student
from supports import selectors, services
from supports.models import SupportCategory, SupportService


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search for help"), required=False, max_length=200)


class HelpRequestForm(forms.Form):
    """What a family may add when it asks for help: a note, and the child, when it has several
    at the service's school."""

    note = forms.CharField(
        label=_("Anything you want them to know (optional)"),
        required=False,
        max_length=MAX_BODY_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    student = forms.TypedChoiceField(
        label=_("Which child is it about?"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
    )

    def __init__(self, *args, children: list[Student] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.children = {child.pk: child for child in children}
        if len(self.children) > 1:
            self.fields["student"].choices = [
                ("", _("My whole family")),
                *((child.pk, child.given_name) for child in children),
            ]
        else:
            del self.fields["student"]

    def chosen_student(self) -> Student | None:
        return self.children.get(self.cleaned_data.get("student"))


def _service_or_404(user, service_id: int, language: str) -> selectors.ServicePage:
    try:
        return selectors.service_page(user, service_id, language)
    except SupportService.DoesNotExist:
        raise Http404 from None


def _help_form(request, page: selectors.ServicePage) -> HelpRequestForm | None:
    """The "Ask for help" form, for a family only."""
    if not permissions.access_for(request.user).guardian_id:
        return None
    children = selectors.children_for_help(request.user, page.service)
    return HelpRequestForm(request.POST or None, children=children)


@require_GET
@login_required
def directory(request):
    language = selectors.reader_language(request.user)
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {
        "form": form,
        "query": query,
        "language": language,
        "is_family": bool(permissions.access_for(request.user).guardian_id),
    }
    if query:
        results = selectors.services_search(request.user, query, language)
        context["results"] = selectors.listings(results, language)
    else:
        context["categories"] = selectors.directory_for(request.user, language)
    return render(request, "supports/directory.html", context)


@require_GET
@login_required
def category(request, category_id: int):
    language = selectors.reader_language(request.user)
    try:
        listing = selectors.category_for(request.user, category_id, language)
    except SupportCategory.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "supports/category.html",
        {"listing": listing, "language": language, "form": SearchForm()},
    )


@require_GET
@login_required
def service(request, service_id: int):
    page = _service_or_404(request.user, service_id, selectors.reader_language(request.user))
    return render(
        request, "supports/service.html", {"page": page, "form": _help_form(request, page)}
    )


@require_http_methods(["GET", "POST"])
@login_required
def ask(request, service_id: int):
    """A family asks the service for help and lands on the new confidential thread."""
    if not permissions.access_for(request.user).guardian_id:
        raise Http404
    page = _service_or_404(request.user, service_id, selectors.reader_language(request.user))
    form = _help_form(request, page)
    if request.method == "POST" and form.is_valid():
        try:
            help_request = services.help_request_open(
                actor=request.user,
                service=page.service,
                note=form.cleaned_data["note"],
                student=form.chosen_student(),
            )
        except MessagingError as error:  # SupportError, or a note the thread refuses
            form.add_error(None, str(error))
        else:
            return redirect("messaging:thread", thread_id=help_request.thread_id)
    return render(
        request,
        "supports/ask.html",
        {"page": page, "form": form},
        status=400 if form.errors else 200,
    )
