"""The counselors' workspace: a counselor writes a service in English, has it machine translated
as a suggestion, accepts and publishes it; only counselors and admins of its schools reach it;
and the help requests queue lists, assigns and closes their requests."""

import pytest
from django.urls import reverse

from messaging.channels.sms import MemoryBackend
from supports.models import HelpRequest, ServiceTranslationSuggestion, SupportService
from supports.services import help_request_open
from tests.factories import (
    StaffFactory,
    StaffMembershipFactory,
    SupportCategoryFactory,
    SupportServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NEW = reverse("support_workspace:new")


def _service_form(world, category, **texts) -> dict:
    return {
        "place": f"school:{world.north.pk}",
        "category": category.pk,
        "answerers": [world.counselor.pk],
        "offered_in": ["en", "es"],
        "title_en": "Food pantry",
        "summary_en": "Free groceries every Friday.",
        "hours_en": "Fridays 3 to 5 pm",
        **texts,
    }


def _edit(service, language=None) -> str:
    url = reverse("support_workspace:edit", args=[service.pk])
    return f"{url}?language={language}" if language else url


def test_a_counselor_writes_a_service_has_it_translated_accepts_and_publishes(
    world, client, celery_eager, fake_libretranslate, django_capture_on_commit_callbacks
):
    client.force_login(world.users["counselor"])
    category = SupportCategoryFactory(name="Food")
    created = client.post(NEW, _service_form(world, category))
    service = SupportService.objects.get()
    assert created.status_code == 302 and created["Location"] == _edit(service)
    assert (service.title_en, service.owner, service.status) == (
        "Food pantry",
        world.counselor,
        "draft",
    )
    assert list(service.counselors.all()) == [world.counselor]
    assert not service.title_es

    suggest = reverse("support_workspace:translation_suggest", args=[service.pk, "es"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(suggest)
    page = client.get(_edit(service, "es")).content.decode()
    assert "[en-&gt;es] Food pantry" in page and "Accept the suggestion" in page
    service.refresh_from_db()
    assert not service.title_es and service.machine_translated == {}  # only a suggestion yet
    preview = reverse("support_workspace:preview", args=[service.pk])
    assert "[en-&gt;es]" not in client.get(preview, {"language": "es"}).content.decode()

    client.post(reverse("support_workspace:translation_accept", args=[service.pk, "es"]))
    client.post(reverse("support_workspace:publish", args=[service.pk]))
    service.refresh_from_db()
    assert service.title_es == "[en->es] Food pantry"
    assert service.hours_es == "[en->es] Fridays 3 to 5 pm"
    assert service.machine_translated == {"es": ["hours", "summary", "title"]}
    assert service.status == "published" and service.published_at is not None
    assert not ServiceTranslationSuggestion.objects.exists()
    seen = client.get(preview, {"language": "es"}).content.decode()
    assert "[en-&gt;es] Food pantry" in seen and "Traducido automáticamente" in seen

    # A person rewriting the Spanish title takes the machine mark off it, and only it.
    client.post(
        _edit(service),
        _service_form(
            world,
            category,
            language="es",
            title_es="Despensa de alimentos",
            summary_es=service.summary_es,
            hours_es=service.hours_es,
        ),
    )
    service.refresh_from_db()
    assert service.title_es == "Despensa de alimentos"
    assert service.machine_translated == {"es": ["hours", "summary"]}


def test_a_suggestion_never_overwrites_a_text_a_person_wrote(
    world, client, celery_eager, fake_libretranslate, django_capture_on_commit_callbacks
):
    service = SupportServiceFactory(
        school=world.north, owner=world.counselor, title_en="Tutoring", summary_en="After school."
    )
    service.title_es = "Tutorías"
    service.save()
    client.force_login(world.users["counselor"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("support_workspace:translation_suggest", args=[service.pk, "es"]))
    client.post(reverse("support_workspace:translation_accept", args=[service.pk, "es"]))
    service.refresh_from_db()
    assert service.title_es == "Tutorías"
    assert service.summary_es == "[en->es] After school."
    assert service.machine_translated == {"es": ["summary"]}


@pytest.fixture
def pantry(world):
    return SupportServiceFactory(school=world.north, owner=world.counselor, title="Food pantry")


def _workspace_pages(service) -> list[tuple[str, str]]:
    edit, language = [service.pk], [service.pk, "es"]
    return [
        ("get", reverse("support_workspace:index")),
        ("get", NEW),
        ("get", reverse("support_workspace:requests")),
        ("get", reverse("support_workspace:edit", args=edit)),
        ("post", reverse("support_workspace:edit", args=edit)),
        ("get", reverse("support_workspace:preview", args=edit)),
        ("post", reverse("support_workspace:publish", args=edit)),
        ("post", reverse("support_workspace:unpublish", args=edit)),
        ("post", reverse("support_workspace:translation_suggest", args=language)),
        ("post", reverse("support_workspace:translation_accept", args=language)),
        ("post", reverse("support_workspace:translation_discard", args=language)),
        ("post", reverse("support_workspace:request_assign", args=[1])),
        ("post", reverse("support_workspace:request_close", args=[1])),
    ]


@pytest.mark.parametrize("key", ["teacher", "parent", "south_teacher"])
def test_teachers_and_families_are_refused_every_workspace_page(world, client, pantry, key):
    client.force_login(world.users[key])
    for method, url in _workspace_pages(pantry):
        assert getattr(client, method)(url).status_code in (403, 404), url
    pantry.refresh_from_db()
    assert pantry.status == "published" and not pantry.translation_suggestions.exists()


def test_a_counselor_of_another_school_cannot_see_or_edit_the_service(world, client, pantry):
    stranger = StaffFactory(user=UserFactory(username="south-counselor@example.org"))
    StaffMembershipFactory(staff=stranger, school=world.south, role="counselor")
    client.force_login(stranger.user)
    assert client.get(reverse("support_workspace:index")).status_code == 200
    assert "Food pantry" not in client.get(reverse("support_workspace:index")).content.decode()
    for method, url in _workspace_pages(pantry)[3:11]:
        assert getattr(client, method)(url).status_code == 404, url
    created = client.post(
        NEW, _service_form(world, SupportCategoryFactory(), answerers=[stranger.pk])
    )
    assert created.status_code == 200  # north is not among their places: the form says so
    pantry.refresh_from_db()
    assert pantry.status == "published" and SupportService.objects.count() == 1


def test_the_school_admin_keeps_the_schools_services_too(world, client, pantry):
    client.force_login(world.users["school_admin"])
    client.post(reverse("support_workspace:unpublish", args=[pantry.pk]))
    pantry.refresh_from_db()
    assert pantry.status == "draft" and pantry.published_at is None


# ---- The help requests queue ------------------------------------------------------------------


@pytest.fixture
def requests_for(always_open, settings, celery_eager):
    settings.SMS_BACKEND = "memory"
    MemoryBackend.outbox.clear()
    service = SupportServiceFactory(school=always_open.north, owner=always_open.counselor)

    def make(count: int) -> list[HelpRequest]:
        return [
            help_request_open(actor=always_open.users["parent"], service=service, note=f"n{i}")
            for i in range(count)
        ]

    return make


def test_the_queue_lists_new_requests_first_and_closing_works(always_open, client, requests_for):
    world = always_open
    first, second, third = requests_for(3)
    counselor = world.users["counselor"]
    client.force_login(counselor)
    assign = reverse("support_workspace:request_assign", args=[first.pk])
    client.post(assign, {f"r{first.pk}-staff": world.counselor.pk})
    page = client.get(reverse("support_workspace:requests")).content.decode()
    threads = [reverse("messaging:thread", args=[row.thread_id]) for row in (second, third, first)]
    positions = [page.index(f'href="{url}"') for url in threads]
    assert positions == sorted(positions)  # new ones first, then the one assigned

    close = reverse("support_workspace:request_close", args=[second.pk])
    client.post(close, {f"r{second.pk}-outcome": "helped"})
    second.refresh_from_db()
    assert (second.status, second.outcome) == ("closed", "helped")
    assert threads[0] not in client.get(reverse("support_workspace:requests")).content.decode()
    closed = client.get(reverse("support_workspace:requests"), {"show": "closed"})
    assert threads[0] in closed.content.decode()

    again = client.post(close, {f"r{second.pk}-outcome": "helped"}, follow=True)
    assert "This request is already closed." in again.content.decode()


def test_a_teacher_cannot_close_a_request(always_open, client, requests_for):
    (help_request,) = requests_for(1)
    client.force_login(always_open.users["teacher"])
    close = reverse("support_workspace:request_close", args=[help_request.pk])
    assert client.post(close, {f"r{help_request.pk}-outcome": "helped"}).status_code == 403
    help_request.refresh_from_db()
    assert help_request.status == "new"


def test_the_queue_costs_as_many_queries_for_30_requests_as_for_3(
    always_open, client, requests_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(always_open.users["counselor"])
    requests_for(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("support_workspace:requests")).status_code == 200
    requests_for(27)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("support_workspace:requests")).content.decode()
    assert page.count('action="/supports/manage/requests/') == 60
    assert len(many) == len(few)


def test_only_a_superuser_keeps_the_categories_in_the_admin(world, client):
    SupportCategoryFactory(name="Food and clothing")
    categories = reverse("admin:supports_supportcategory_changelist")
    client.force_login(world.users["superuser"])
    assert "Food and clothing" in client.get(categories).content.decode()
    school_admin = world.users["school_admin"]
    school_admin.is_staff = True
    school_admin.save()
    client.force_login(school_admin)
    assert client.get(categories).status_code in (302, 403)
