import time

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import health, selectors
from portal.forms import CodeRequestForm, CodeVerifyForm, StaffSignInForm
from portal.middleware import SIGNED_IN_AT
from portal.permissions import access_for
from portal.services import user_sign_out_everywhere
from portal.sign_in import (
    SignInError,
    address_read,
    sign_in_code_request,
    sign_in_code_verify,
)

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
            return redirect("home")
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
    context = {"access": access}
    if access.guardian_id:
        context["children"] = selectors.children_for_guardian(request.user)
    if access.staff_id and access.schools_with("teacher"):
        context["sections"] = selectors.sections_for_teacher(request.user)
    if access.is_superuser or access.schools_with("counselor", "admin"):
        context["overviews"] = selectors.school_overviews(request.user)
    return render(request, "portal/home.html", context)
