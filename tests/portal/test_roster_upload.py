"""The admin page where a school admin uploads a roster bundle and sees what the import did."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.models import RosterImport, Student
from tests.factories import UserFactory
from tests.portal.test_roster_import import CLASSES, ENROLLMENTS, ORGS, USERS, csv_text

pytestmark = pytest.mark.django_db


def zipped(**files) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, rows in files.items():
            bundle.writestr(f"{name}.csv", rows if isinstance(rows, str) else csv_text(rows))
    return archive.getvalue()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def upload(admin_client, content: bytes, *, dry_run=False, name="roster.zip", follow=True):
    return admin_client.post(
        reverse("admin:portal_rosterimport_add"),
        {"bundle": SimpleUploadedFile(name, content), "dry_run": "on" if dry_run else ""},
        follow=follow,
    )


def upload_and_run(admin_client, content: bytes, capture_on_commit, **options):
    """Uploads, lets the import run as a worker would after the commit, then opens its page."""
    with capture_on_commit(execute=True):
        response = upload(admin_client, content, follow=False, **options)
    assert response.status_code == 302
    return admin_client.get(response["Location"])


def test_upload_imports_and_shows_the_summary(
    admin_client, celery_eager, django_capture_on_commit_callbacks
):
    response = upload_and_run(
        admin_client,
        zipped(orgs=ORGS, users=USERS, classes=CLASSES, enrollments=ENROLLMENTS),
        django_capture_on_commit_callbacks,
    )

    record = RosterImport.objects.get()
    assert record.status == RosterImport.Status.DONE
    assert record.summary["students"]["created"] == 1
    assert Student.objects.filter(sourced_id="st1").exists()
    page = response.content.decode()
    assert "What the import did" in page
    assert "guardian_links" in page


def test_refused_upload_lists_every_problem_and_imports_nothing(
    admin_client, celery_eager, django_capture_on_commit_callbacks
):
    bad_users = [*USERS[:2], dict(USERS[2], sms="12345")]
    response = upload_and_run(
        admin_client,
        zipped(orgs=ORGS, users=bad_users, classes=CLASSES, enrollments=ENROLLMENTS),
        django_capture_on_commit_callbacks,
    )

    assert RosterImport.objects.get().status == RosterImport.Status.FAILED
    assert not Student.objects.exists()
    page = response.content.decode()
    assert "nothing was imported" in page
    assert "&#x27;12345&#x27; is not a valid phone number for US" in page


def test_not_a_zip_is_refused_on_the_form(admin_client):
    response = upload(admin_client, b"sourcedId,name\n", name="orgs.csv")

    assert "This is not a .zip file." in response.content.decode()
    assert not RosterImport.objects.exists()


def test_oversized_upload_is_refused_with_the_limit(admin_client, settings):
    settings.ROSTER_UPLOAD_MAX_BYTES = 100

    response = upload(admin_client, zipped(orgs=ORGS, users=USERS))

    assert "the largest bundle accepted is 100" in response.content.decode()
    assert not RosterImport.objects.exists()


def test_running_the_task_twice_imports_once(
    admin_client, celery_eager, django_capture_on_commit_callbacks
):
    from portal.tasks import roster_import_task

    upload_and_run(
        admin_client,
        zipped(orgs=ORGS, users=USERS, classes=CLASSES, enrollments=ENROLLMENTS),
        django_capture_on_commit_callbacks,
    )
    record = RosterImport.objects.get()
    finished_at = record.finished_at

    roster_import_task.delay(record.pk)

    record.refresh_from_db()
    assert record.finished_at == finished_at
    assert record.summary["students"]["created"] == 1


def test_only_staff_reach_the_upload_page(client):
    response = client.get(reverse("admin:portal_rosterimport_add"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
