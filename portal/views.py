import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging import phone_simulator
from portal import health, selectors
from portal.forms import (
    CodeRequestForm,
    CodeVerifyForm,
    ContactChangeForm,
    PreferencesForm,
    StaffSignInForm,
)
from portal.middleware import SIGNED_IN_AT
from portal.models import ContactChangeRequest, Guardian
from portal.permissions import access_for
from portal.services import (
    PreferenceError,
    contact_change_propose,
    guardian_preferences_set,
    user_sign_out_everywhere,
)
from portal.sign_in import (
    SignInError,
    address_read,
    sign_in_code_request,
    sign_in_code_verify,
)
from supports.selectors import listings, reader_language
from supports.services import spotlights_for_family, workspace_schools
from surveys.selectors import invitations_for_guardian
from surveys.texts import text_in

SIGN_IN_CODE_ID = "portal_sign_in_code_id"


@require_GET
@never_cache
def healthz(request):
    """The process is alive and answering."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """The database and the broker are reachable; 503 names what is not."""
    checks = {"database": health.database_is_reachable(), "broker": health.broker_is_reachable()}
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        **{name: "ok" if ok else "unreachable" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


@require_GET
def front_page(request):
    """Who runs this portal and how to reach each school's office, for anyone who arrives here."""
    if request.user.is_authenticated:
        return redirect("home")
    return render(
        request, "portal/front_page.html", {"schools": selectors.schools_for_front_page()}
    )


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# -- sign-in ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
def sign_in(request):
    """Families: a code to the phone or email on file. Staff: a link to the password form."""
    form = CodeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            address = address_read(form.cleaned_data["address"])
            code_id = sign_in_code_request(
                address=address, ip_address=get_client_ip_address(request) or ""
            )
        except SignInError as error:
            form.add_error("address", str(error))
        else:
            request.session[SIGN_IN_CODE_ID] = code_id
            return redirect("sign_in_code")
    return render(request, "portal/sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
@never_cache
def sign_in_code(request):
    form = CodeVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_in_code_verify(
                code_id=request.session.get(SIGN_IN_CODE_ID),
                code=form.cleaned_data["code"],
                ip_address=get_client_ip_address(request) or "",
            )
        except SignInError as error:
            form.add_error("code", str(error))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session.set_expiry(
                settings.FAMILY_SESSION_SECONDS if form.cleaned_data["is_own_device"] else 0
            )
            return _with_interface_language(redirect("home"), user.guardian.preferred_language)
    return render(request, "portal/sign_in_code.html", {"form": form})


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
@never_cache
def sign_in_staff(request):
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(None, _("That email and password do not match an account."))
        else:
            login(request, user)
            request.session[SIGNED_IN_AT] = time.time()  # the 12-hour limit counts from here
            return redirect(_next_url(request, default="/home/"))
    return render(
        request, "portal/sign_in_staff.html", {"form": form, "next": _next_url(request, "")}
    )


@require_POST
def sign_out(request):
    logout(request)
    return redirect("front_page")


@require_POST
@login_required
def sign_out_everywhere(request):
    """Ends every session of this account, on every device, this one included."""
    user_sign_out_everywhere(user=request.user)
    logout(request)
    return redirect("front_page")


# -- home pages ---------------------------------------------------------------------------------


@require_GET
@login_required
def home(request):
    """Each person's own page: a guardian's children and who to contact about them; a teacher's
    sections and families; a counselor's or an admin's school overview. Someone who holds
    several roles sees each part."""
    access = access_for(request.user)
    context = {
        "access": access,
        "phone_simulator": phone_simulator.is_enabled(),
        "may_keep_supports": bool(workspace_schools(request.user)),
    }
    if access.guardian_id:
        context["children"] = selectors.children_for_guardian(request.user)
        language = reader_language(request.user)
        context["spotlights"] = listings(spotlights_for_family(request.user), language)
        context["survey_invitations"] = [  # with each survey's title in the family's language
            (invitation, text_in(invitation.survey, "title", language))
            for invitation in invitations_for_guardian(request.user)
        ]
    if access.staff_id and access.schools_with("teacher"):
        context["sections"] = selectors.sections_for_teacher(request.user)
    if access.is_superuser or access.schools_with("counselor", "admin"):
        context["overviews"] = selectors.school_overviews(request.user)
    return render(request, "portal/home.html", context)


# -- a family's preferences ---------------------------------------------------------------------


def _guardian_or_404(request):
    guardian = Guardian.objects.filter(pk=access_for(request.user).guardian_id).first()
    if guardian is None:
        raise Http404
    return guardian


def _with_interface_language(response, language: str):
    """Pages follow a family's language where the interface speaks it."""
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=not settings.DEBUG,
        )
    return response


def _preferences_page(request, guardian, *, form, contact_form, status=200):
    pending = guardian.contact_change_requests.filter(status=ContactChangeRequest.Status.PENDING)
    context = {"form": form, "contact_form": contact_form, "guardian": guardian, "pending": pending}
    return render(request, "portal/preferences.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def preferences(request):
    guardian = _guardian_or_404(request)
    form = PreferencesForm.for_guardian(guardian, request.POST or None)
    if request.method == "POST" and form.is_valid():
        channels = form.cleaned_data["channels"]
        try:
            guardian_preferences_set(
                guardian=guardian,
                actor=request.user,
                via="web",
                language=form.cleaned_data["language"],
                wants_sms=channels in ("sms", "both"),
                wants_email=channels in ("email", "both"),
                quiet_hours_start=form.cleaned_data["quiet_hours_start"],
                quiet_hours_end=form.cleaned_data["quiet_hours_end"],
            )
        except PreferenceError as error:
            form.add_error(None, str(error))
        else:
            with translation.override(guardian.preferred_language):
                messages.success(request, _("Saved."))
            return _with_interface_language(redirect("preferences"), guardian.preferred_language)
    return _preferences_page(request, guardian, form=form, contact_form=ContactChangeForm())


@require_POST
@login_required
def contact_change(request):
    guardian = _guardian_or_404(request)
    form = ContactChangeForm(request.POST)
    if form.is_valid():
        try:
            contact_change_propose(
                guardian=guardian,
                actor=request.user,
                phone=form.cleaned_data["phone"],
                email=form.cleaned_data["email"],
            )
        except PreferenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Sent to the school. They will confirm it."))
            return redirect("preferences")
    return _preferences_page(
        request,
        guardian,
        form=PreferencesForm.for_guardian(guardian),
        contact_form=form,
        status=400,
    )
