"""The OneRoster import: bundles made here, and the public exports in ../shared/testdata."""

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.models import (
    Enrollment,
    Guardian,
    GuardianLink,
    School,
    Section,
    SectionStaff,
    Staff,
    StaffMembership,
    Student,
)
from portal.services import roster_import

pytestmark = pytest.mark.django_db


ORGS = [
    {
        "sourcedId": "d1",
        "status": "active",
        "name": "Lakeside District",
        "type": "district",
        "parentSourcedId": "",
    },
    {
        "sourcedId": "s1",
        "status": "active",
        "name": "Lakeside Elementary",
        "type": "school",
        "parentSourcedId": "d1",
    },
]
USERS = [
    {
        "sourcedId": "t1",
        "role": "teacher",
        "givenName": "Ana",
        "familyName": "Reyes",
        "orgSourcedIds": "s1",
        "email": "ana.reyes@lakeside.example.org",
        "sms": "",
        "agentSourcedIds": "",
        "grades": "",
        "metadata.language": "",
    },
    {
        "sourcedId": "st1",
        "role": "student",
        "givenName": "Luis",
        "familyName": "García",
        "orgSourcedIds": "s1",
        "email": "",
        "sms": "",
        "agentSourcedIds": "p1,p2",
        "grades": "04",
        "metadata.language": "",
    },
    {
        "sourcedId": "p1",
        "role": "parent",
        "givenName": "José",
        "familyName": "García",
        "orgSourcedIds": "s1",
        "email": "jose@example.org",
        "sms": "(617) 253-1000",
        "agentSourcedIds": "st1",
        "grades": "",
        "metadata.language": "es-MX",
    },
    {
        "sourcedId": "p2",
        "role": "guardian",
        "givenName": "Mai",
        "familyName": "Nguyen",
        "orgSourcedIds": "s1",
        "email": "",
        "sms": "",
        "agentSourcedIds": "",
        "grades": "",
        "metadata.language": "vi",
    },
]
CLASSES = [
    {
        "sourcedId": "c1",
        "status": "active",
        "title": "Grade 4 Math",
        "grades": "04",
        "schoolSourcedId": "s1",
        "periods": "2",
    },
]
ENROLLMENTS = [
    {
        "sourcedId": "e1",
        "classSourcedId": "c1",
        "schoolSourcedId": "s1",
        "userSourcedId": "t1",
        "role": "teacher",
    },
    {
        "sourcedId": "e2",
        "classSourcedId": "c1",
        "schoolSourcedId": "s1",
        "userSourcedId": "st1",
        "role": "student",
    },
]


def csv_text(rows: list[dict], *, line_end: str = "\n") -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(column for row in rows for column in row))
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator=line_end)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def bundle(folder: Path, **overrides) -> Path:
    """Writes a small valid bundle to `folder`; an override replaces a file's rows or text."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"orgs": ORGS, "users": USERS, "classes": CLASSES, "enrollments": ENROLLMENTS}
    files.update(overrides)
    for name, content in files.items():
        path = folder / f"{name}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(
                content if isinstance(content, str) else csv_text(content), encoding="utf-8"
            )
    return folder


def table_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            School,
            Staff,
            StaffMembership,
            Student,
            Guardian,
            GuardianLink,
            Section,
            SectionStaff,
            Enrollment,
        )
    }


def test_bundle_creates_the_school_its_people_and_their_links(tmp_path):
    report = roster_import(source=bundle(tmp_path / "b"))

    assert report.is_ok, report.errors
    school = School.objects.get(sourced_id="s1")
    assert school.district.name == "Lakeside District"
    luis = Student.objects.get(sourced_id="st1")
    assert (luis.school, luis.grade) == (school, "04")
    jose = Guardian.objects.get(sourced_id="p1")
    assert str(jose.phone) == "+16172531000"
    assert jose.preferred_language == "es"
    assert Guardian.objects.get(sourced_id="p2").preferred_language == "vi"
    links = GuardianLink.objects.filter(student=luis).order_by("guardian__sourced_id")
    assert [
        (link.guardian.sourced_id, link.relationship, link.is_primary_contact) for link in links
    ] == [("p1", "parent", True), ("p2", "guardian", False)]
    section = Section.objects.get(sourced_id="c1")
    assert list(section.students.all()) == [luis]
    assert [str(staff) for staff in section.staff.all()] == ["Ana Reyes"]
    assert StaffMembership.objects.get(staff__sourced_id="t1").role == "teacher"
    assert report.summary["students"]["created"] == 1
    assert report.summary["guardian_links"]["created"] == 2


def test_same_bundle_twice_changes_nothing(tmp_path):
    folder = bundle(tmp_path / "b")
    roster_import(source=folder)
    before = table_counts()

    report = roster_import(source=folder)

    assert report.is_ok
    assert not report.changed_anything
    assert table_counts() == before
    assert report.summary["guardians"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "deactivated": 0,
    }


def test_later_bundle_updates_and_tobedeleted_deactivates(tmp_path):
    roster_import(source=bundle(tmp_path / "first"))
    users = [dict(user) for user in USERS]
    users[2]["familyName"] = "García López"
    users[3]["status"] = "tobedeleted"
    enrollments = [dict(row, status="") for row in ENROLLMENTS]
    enrollments[1]["status"] = "tobedeleted"

    report = roster_import(source=bundle(tmp_path / "later", users=users, enrollments=enrollments))

    assert report.is_ok, report.errors
    assert Guardian.objects.get(sourced_id="p1").family_name == "García López"
    mai = Guardian.objects.get(sourced_id="p2")
    assert not mai.is_active
    assert not GuardianLink.objects.get(guardian=mai).is_active
    assert not Enrollment.objects.get(sourced_id="e2").is_active
    assert report.summary["guardians"] == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "deactivated": 1,
    }
    assert report.summary["enrollments"]["deactivated"] == 1


def test_import_never_touches_a_no_contact_order_or_a_family_chosen_language(tmp_path):
    users_without_language = [
        {k: v for k, v in u.items() if k != "metadata.language"} for u in USERS
    ]
    roster_import(source=bundle(tmp_path / "b", users=users_without_language))
    link = GuardianLink.objects.get(guardian__sourced_id="p2")
    link.may_receive_messages = False
    link.save()
    Guardian.objects.filter(sourced_id="p1").update(preferred_language="so")

    report = roster_import(source=bundle(tmp_path / "b", users=users_without_language))

    assert not report.changed_anything
    assert GuardianLink.objects.get(pk=link.pk).may_receive_messages is False
    assert Guardian.objects.get(sourced_id="p1").preferred_language == "so"


def test_zip_with_bom_crlf_quoted_fields_and_any_column_order(tmp_path):
    users = [dict(reversed(list(user.items()))) for user in USERS]
    users[1]["givenName"] = 'Luis "Lucho", Jr.'
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, rows in (
            ("orgs", ORGS),
            ("users", users),
            ("classes", CLASSES),
            ("enrollments", ENROLLMENTS),
        ):
            zipped.writestr(f"export/{name}.csv", "\ufeff" + csv_text(rows, line_end="\r\n"))

    report = roster_import(source=archive.getvalue())

    assert report.is_ok, report.errors
    assert Student.objects.get(sourced_id="st1").given_name == 'Luis "Lucho", Jr.'


def test_dry_run_reports_what_would_change_and_writes_nothing(tmp_path):
    report = roster_import(source=bundle(tmp_path / "b"), dry_run=True)

    assert report.is_ok
    assert report.summary["students"]["created"] == 1
    assert sum(table_counts().values()) == 0


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            {"users": [*USERS[:2], dict(USERS[2], sms="12345")]},
            ("users.csv", 4, "sms", "'12345' is not a valid phone number for US"),
        ),
        (
            {
                "enrollments": [
                    *ENROLLMENTS,
                    dict(ENROLLMENTS[1], sourcedId="e3", classSourcedId="c9"),
                ]
            },
            ("enrollments.csv", 4, "classSourcedId", "'c9' is not in classes.csv"),
        ),
        (
            {"users": [*USERS, dict(USERS[3])]},
            ("users.csv", 6, "sourcedId", "'p2' appears twice (first on line 5)"),
        ),
        (
            {"classes": [{k: v for k, v in CLASSES[0].items() if k != "title"}]},
            ("classes.csv", 1, "title", "a required column is missing"),
        ),
        (
            {"users": [*USERS[:3], dict(USERS[3], **{"metadata.language": "xx"})]},
            ("users.csv", 5, "metadata.language", "language 'xx' is not supported"),
        ),
        (
            {"users": [*USERS[:3], dict(USERS[3], agentSourcedIds="nobody")]},
            ("users.csv", 5, "agentSourcedIds", "'nobody' is not in users.csv"),
        ),
    ],
    ids=[
        "bad-phone",
        "unknown-class",
        "duplicate-id",
        "missing-column",
        "unknown-language",
        "unknown-agent",
    ],
)
def test_a_bad_row_refuses_the_whole_bundle_naming_file_line_and_column(
    tmp_path, override, expected
):
    roster_import(source=bundle(tmp_path / "first"))
    before = table_counts()
    renamed = [dict(user, givenName=user["givenName"] + "!") for user in USERS]

    report = roster_import(source=bundle(tmp_path / "bad", **{"users": renamed, **override}))

    assert not report.is_ok
    file, line, column, reason = expected
    assert any(
        problem.file == file
        and problem.line == line
        and problem.column == column
        and problem.reason.startswith(reason)
        for problem in report.errors
    ), report.errors
    assert table_counts() == before
    assert not Student.objects.filter(given_name__endswith="!").exists()


def test_undecodable_text_is_refused_with_its_line(tmp_path):
    text = csv_text(USERS).encode("utf-8").replace("García".encode(), "Garc\xeda".encode("latin-1"))

    report = roster_import(source=bundle(tmp_path / "b", users=text))

    assert [(p.file, p.line) for p in report.errors] == [("users.csv", 3)]
    assert "not UTF-8" in report.errors[0].reason
    assert sum(table_counts().values()) == 0


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    users = [
        dict(USERS[0], sms=""),
        dict(USERS[1], orgSourcedIds="s9"),
        dict(USERS[2], email="not-an-email"),
        USERS[3],
    ]

    report = roster_import(source=bundle(tmp_path / "b", users=users))

    assert {(p.line, p.column) for p in report.errors} >= {(3, "orgSourcedIds"), (4, "email")}


def test_what_loses_no_data_is_a_warning(tmp_path):
    users = [dict(user, ext_vendor_id="42") for user in USERS]
    users[1]["agentSourcedIds"] = "p1,p2,t1"

    report = roster_import(source=bundle(tmp_path / "b", users=users))

    assert report.is_ok, report.errors
    reasons = [(w.column, w.reason) for w in report.warnings]
    assert ("ext_vendor_id", "not a column the portal uses; ignored") in reasons
    assert any(
        column == "agentSourcedIds" and "'t1' is staff" in reason for column, reason in reasons
    )


def test_command_prints_the_summary_and_fails_on_a_bad_bundle(tmp_path, capsys):
    call_command("import_oneroster", str(bundle(tmp_path / "good")))
    assert "students" in capsys.readouterr().out

    with pytest.raises(CommandError):
        call_command("import_oneroster", str(bundle(tmp_path / "bad", classes="title\n")))
    assert "classes.csv:1: sourcedId: a required column is missing" in capsys.readouterr().out


# -- the public exports -------------------------------------------------------------------------

PUBLIC_EXPORTS = {
    # folder: (schools, staff, students, guardians, guardian links, sections, enrollments)
    "catalyst-full-v1p1": (1, 2, 3, 1, 1, 2, 2),
    "catalyst-minimal-v1p1": (1, 2, 3, 1, 0, 2, 2),
    "oat-sa-v1p1": (2, 0, 2, 0, 0, 3, 3),
}


@pytest.mark.parametrize("folder", sorted(PUBLIC_EXPORTS))
def test_public_export_imports_with_the_right_counts_and_again_with_no_change(
    folder, shared_oneroster
):
    source = shared_oneroster / folder

    report = roster_import(source=source)

    assert report.is_ok, report.errors
    counts = table_counts()
    assert (
        counts["School"],
        counts["Staff"],
        counts["Student"],
        counts["Guardian"],
        counts["GuardianLink"],
        counts["Section"],
        counts["Enrollment"],
    ) == PUBLIC_EXPORTS[folder]
    assert not roster_import(source=source).changed_anything
    assert table_counts() == counts


def test_catalyst_export_keeps_what_it_can_and_says_what_it_skipped(shared_oneroster):
    source = shared_oneroster / "catalyst-full-v1p1"

    report = roster_import(source=source)

    assert str(Guardian.objects.get(sourced_id="usr-222-1234561").phone) == "+16039876543"
    assert not Section.objects.get(sourced_id="cls-222-123478").is_active
    skipped = {(w.file, w.line, w.column) for w in report.warnings}
    assert ("enrollments.csv", 3, "role") in skipped  # a teacher enrolled as a student
    assert ("users.csv", 6, "sms") in skipped  # a student's invalid phone, never used
    assert ("orgs.csv", 2, "type") in skipped  # a department standing for its school


def test_corrupted_public_export_is_refused_whole(tmp_path, shared_oneroster):
    source = shared_oneroster / "catalyst-full-v1p1"
    corrupted = shutil.copytree(source, tmp_path / "corrupted")
    users = (corrupted / "users.csv").read_text()
    (corrupted / "users.csv").write_text(users.replace("6039876543,6039876543", "603987,603987"))
    enrollments = (corrupted / "enrollments.csv").read_text()
    (corrupted / "enrollments.csv").write_text(enrollments.replace("cls-222-123456,", "cls-x,", 1))

    report = roster_import(source=corrupted)

    assert {(p.file, p.line, p.column) for p in report.errors} == {
        ("users.csv", 4, "sms"),
        ("enrollments.csv", 2, "classSourcedId"),
    }
    assert sum(table_counts().values()) == 0
