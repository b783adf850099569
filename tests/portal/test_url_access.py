"""Walks every URL the portal serves and checks who reaches it.

Each route must be listed in ROUTES with the roles that may reach it; a view added later without
an entry fails here, and so does a view that lets in a role not listed.
"""

import fnmatch
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

EVERYONE = {
    "anonymous",
    "parent",
    "teacher",
    "counselor",
    "school_admin",
    "district_admin",
    "superuser",
}
SIGNED_IN = EVERYONE - {"anonymous"}
ADMINS = {"school_admin", "district_admin", "superuser"}
STAFF = {"teacher", "counselor", "school_admin", "district_admin"}

ROUTES = {
    "front_page": EVERYONE,
    "healthz": EVERYONE,
    "readyz": EVERYONE,
    "set_language": EVERYONE,
    "sign_in": EVERYONE,
    "sign_in_code": EVERYONE,
    "sign_in_staff": EVERYONE,
    "sign_out": EVERYONE,
    "sign_out_everywhere": SIGNED_IN,
    "home": SIGNED_IN,
    "preferences": {"parent"},
    "contact_change": {"parent"},
    # the counselors' workspace: their schools' services and the requests they answer; a service
    # or request not theirs answers 404 (tests/supports/test_workspace)
    "support_workspace:*": {"counselor", "school_admin", "district_admin"},
    # the staff's survey pages: a survey not theirs (its maker, the school's admins) answers 404;
    # a superuser with no school reads them all but makes none (tests/surveys/test_manage_pages)
    "survey_manage:*": STAFF | {"superuser"},
    "messaging:overdue": ADMINS,
    "messaging:reassign": ADMINS,
    "messaging:*": SIGNED_IN,  # each thread answers 404 to anyone not in it (tests/messaging)
    "broadcasts:index": STAFF | {"superuser"},  # staff: their own; admins: their schools'
    "broadcasts:compose": STAFF,  # a superuser with no staff record has no school to send from
    "broadcasts:detail": STAFF | {"superuser"},  # 404 unless the sender or a school admin
    "broadcasts:progress": STAFF | {"superuser"},  # the same
    "broadcasts:received": {"parent"},
    "broadcasts:read": {
        "parent"
    },  # 404 unless a recipient  # each thread answers 404 to anyone not in it (tests/messaging)
    # the directory: a family's children's schools'; staff, their schools'; a service 404s unless
    # the reader may find it (tests/supports/test_family_pages)
    "supports:directory": SIGNED_IN,
    "supports:category": SIGNED_IN,
    "supports:service": SIGNED_IN,
    "supports:ask": {"parent"},  # only a family asks for help
    # a survey's results: its creator, the school's admins, superusers; 404 for anyone else
    # (tests/surveys/test_results_pages)
    "survey_results:*": STAFF | {"superuser"},
    # Twilio's webhooks answer 403 to anything Twilio did not sign (tests/messaging/test_inbound)
    "channels:twilio_inbound": EVERYONE,
    "channels:twilio_status": EVERYONE,
    "channels:email_unsubscribe": EVERYONE,  # 404 unless the signed token of a guardian
    "channels:phone": STAFF,  # and only where DEBUG or PHONE_SIMULATOR is on
    # engagement reports: admins their schools', teachers their own figures, counselors their
    # services' help requests; the lists behind the figures are not for counselors
    # (tests/portal/test_report_pages)
    "reports:index": STAFF | {"superuser"},
    "reports:*": {"teacher", "school_admin", "district_admin", "superuser"},
    "admin:logout": EVERYONE,
    "admin:*": ADMINS,
    # a family's survey link: no sign-in, the unguessable token in the address is the only key;
    # an unknown token answers 404 (tests/surveys/test_family_pages)
    "surveys:answer": EVERYONE,
    "surveys:answer_question": EVERYONE,
    "surveys:answer_all": EVERYONE,
    "surveys:answer_finish": EVERYONE,
    "surveys:preview": STAFF | {"superuser"},  # 404 unless surveys_for_staff holds the survey
    "api_schema": EVERYONE,  # describes the API; holds no data
    "api_docs": EVERYONE,
    "api:*": SIGNED_IN,
}

# Where a refused person may be sent: a sign-in page, or refused outright (405: the method is
# refused before the view runs; the other method is walked too).
REFUSALS = {401, 403, 404, 405}
SIGN_IN_PATHS = ("/sign-in/", "/admin/login/")


def _sample(regex: str) -> str:
    """A path the pattern matches, with `1` for each id and `portal` for an app label."""
    regex = regex.lstrip("^").replace("\\Z", "").rstrip("$")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            name = regex[i + 4 : regex.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append("portal" if name == "app_label" else "1")
            i = j
        else:
            out.append(regex[i])
            i += 1
    return re.sub(r"\\(.)", r"\1", "".join(out))


def _routes(patterns=None, prefix="", namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        regex = entry.pattern.regex.pattern
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, prefix + _sample(regex), inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name or entry.lookup_str}", "/" + prefix + _sample(regex)


def _allowed(name: str) -> set[str]:
    matches = [roles for key, roles in ROUTES.items() if fnmatch.fnmatchcase(name, key)]
    assert matches, f"{name} is not in ROUTES: say who may reach it"
    return matches[0]


def _refused(response) -> bool:
    if response.status_code in REFUSALS:
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and any(p in location for p in SIGN_IN_PATHS)


def test_every_route_is_declared():
    names = [name for name, _path in _routes()]
    assert len(names) > 30
    for name in names:
        _allowed(name)


def test_no_route_lets_in_someone_it_should_not(client, world):
    leaks = []
    for role in sorted(EVERYONE):
        if role == "anonymous":
            client.logout()
        else:
            client.force_login(world.users[role])
        for name, path in _routes():
            if role in _allowed(name):
                continue
            for method in (client.get, client.post):
                response = method(path)
                if not _refused(response):
                    leaks.append(
                        f"{role} {method.__name__.upper()} {path} ({name}): "
                        f"{response.status_code} {response.get('Location', '')}"
                    )
    assert not leaks, "\n".join(leaks)
