from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import health
from portal.selectors import schools_for_front_page


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
        **{k: "ok" if v else "unreachable" for k, v in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


@require_GET
def front_page(request):
    """Who runs this portal and how to reach each school's office, for anyone who arrives here."""
    return render(request, "portal/front_page.html", {"schools": schools_for_front_page()})
