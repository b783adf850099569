"""The support directory as a CSV file (`manage.py support_directory`): what is exported comes
back unchanged, every problem in a file is reported where it is and nothing is written, and the
texts in the families' languages travel with the services."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from supports.directory_csv import all_columns, directory_export, directory_import
from supports.models import SupportService
from tests.factories import (
    SchoolFactory,
    StaffFactory,
    StaffMembershipFactory,
    SupportCategoryFactory,
    SupportServiceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def food(world):
    return SupportCategoryFactory(name_en="Food and clothing", name_es="Comida y ropa")


@pytest.fixture
def north_directory(world, food):
    """North's pantry (with Spanish and Vietnamese texts, the Spanish title from a machine) and a
    draft; a district-wide service, which North's export leaves out."""
    pantry = SupportServiceFactory(
        school=world.north,
        category=food,
        owner=world.counselor,
        title_en="Food pantry",
        title_es="Despensa",
        summary_en="Groceries every Friday.",
        summary_es="Comestibles cada viernes.",
        hours_vi="Thứ Sáu",
        description_en='Bring a bag, "any size".\nNo papers needed.',
        languages="en es",
        contact_name="Ms. Rivera",
        phone="+16175550123",
        email="pantry@example.org",
        map_url="https://maps.example.org/pantry",
        starts_on=datetime.date(2025, 9, 1),
        ends_on=datetime.date(2026, 6, 30),
        machine_translated={"es": ["title"]},
    )
    tutoring = SupportServiceFactory(
        school=world.north, title="Tutoring", status="draft", category=SupportCategoryFactory()
    )
    SupportServiceFactory(district=world.north.district, title="District clinic", category=food)
    return {"pantry": pantry, "tutoring": tutoring}


def exported(**scope) -> str:
    out = io.StringIO()
    directory_export(out=out, **scope)
    return out.getvalue()


def snapshot() -> dict[int, dict]:
    return {
        service.pk: {**model_to_dict(service), "updated_at": service.updated_at}
        for service in SupportService.objects.all()
    }


def test_an_exported_directory_imports_back_without_changing_anything(world, north_directory):
    text = exported(school=world.north)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["title"] for row in rows] == ["Food pantry", "Tutoring"]
    assert list(rows[0]) == all_columns()
    assert rows[0]["category"] == "Food and clothing" and rows[0]["phone"] == "+16175550123"
    before = snapshot()
    report = directory_import(source=text.encode(), school=world.north)
    assert report.is_ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_translated_columns_come_back(world, north_directory):
    text = exported(school=world.north)
    pantry = north_directory["pantry"]
    SupportService.objects.filter(pk=pantry.pk).update(title_es=None, hours_vi=None)
    report = directory_import(source=text.encode(), school=world.north)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    pantry.refresh_from_db()
    assert pantry.title_es == "Despensa" and pantry.hours_vi == "Thứ Sáu"
    assert pantry.summary_es == "Comestibles cada viernes."
    assert pantry.machine_translated == {}  # the Spanish title is now the file's, a person's


def test_a_directory_moves_to_another_school_with_its_translations(world, north_directory):
    west = SchoolFactory(name="West Elementary", district=world.north.district)
    text = exported(school=world.north).encode()
    refused = directory_import(source=text, school=west, owner=world.counselor)
    assert [error.reason for error in refused.errors] == [
        f"{world.counselor} is not a counselor or an admin here: choose another"
    ]
    west_counselor = StaffFactory()
    StaffMembershipFactory(staff=west_counselor, school=west, role="counselor")
    report = directory_import(source=text, school=west, owner=west_counselor)
    assert (report.created, report.updated) == (2, 0), report.errors
    copy = SupportService.objects.get(school=west, title_en="Food pantry")
    assert copy.title_es == "Despensa" and copy.hours_vi == "Thứ Sáu"
    assert copy.description == 'Bring a bag, "any size".\nNo papers needed.'
    assert copy.owner == west_counselor and copy.published_at is not None
    assert SupportService.objects.get(school=west, title_en="Tutoring").status == "draft"


def _file(*rows: dict) -> bytes:
    out = io.StringIO()
    columns = {column: True for row in rows for column in row}  # only the columns named
    writer = csv.DictWriter(out, fieldnames=list(columns), restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_written(
    world, north_directory
):
    before = snapshot()
    report = directory_import(
        source=_file(
            {"category": "Food and clothing", "title": "Food pantry", "summary": "New summary"},
            {"category": "Food and clothing", "title": "Coats", "summary": "Warm", "phone": "12"},
            {"category": "Housing", "title": "Shelter", "summary": "Beds", "phone": "617-555-0188"},
            {"category": "Food and clothing", "title": "Shoes", "summary": "Shoes for kids"},
        ),
        school=world.north,
        file_name="north.csv",
    )
    assert not report.is_ok
    assert [(error.line, error.column) for error in report.errors] == [
        (3, "phone"),
        (4, "category"),
    ]
    assert str(report.errors[0]) == "north.csv:3: phone: '12' is not a phone number in US"
    assert "Housing" in report.errors[1].reason
    assert (report.created, report.updated) == (0, 0)
    assert snapshot() == before


def test_a_good_file_creates_and_updates_by_title_and_reads_local_phone_numbers(
    world, north_directory
):
    report = directory_import(
        source=_file(
            {"category": "food and clothing", "title": "FOOD PANTRY", "summary": "New summary"},
            {
                "category": "Food and clothing",
                "title": "Coats",
                "summary": "Warm coats",
                "phone": "(617) 555-0188",
                "title_es": "Abrigos",
            },
        ),
        school=world.north,
    )
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0), report.errors
    pantry = north_directory["pantry"]
    pantry.refresh_from_db()
    assert pantry.summary_en == "New summary"
    assert pantry.title_es is None  # the file has a Spanish title column, empty for the pantry
    assert pantry.hours_vi == "Thứ Sáu"  # it has no Vietnamese columns: left as they were
    assert pantry.title_en == "FOOD PANTRY"  # the file's spelling wins
    coats = SupportService.objects.get(title_en="Coats")
    assert coats.phone == "+16175550188" and coats.title_es == "Abrigos"
    assert coats.school == world.north and coats.owner is None and coats.status == "draft"


def test_a_file_with_unknown_columns_or_a_title_twice_is_refused(world, food):
    report = directory_import(
        source=b"category,title,summary,tittle_es\nFood and clothing,Coats,Warm,Abrigos\n",
        school=world.north,
    )
    assert [(error.line, error.column) for error in report.errors] == [(1, "tittle_es")]
    report = directory_import(
        source=_file(
            {"category": "Food and clothing", "title": "Coats", "summary": "Warm"},
            {"category": "Food and clothing", "title": "coats", "summary": "Warmer"},
        ),
        school=world.north,
    )
    assert [(error.line, error.column) for error in report.errors] == [(3, "title")]
    assert not SupportService.objects.exists()


def test_the_command_exports_and_imports_a_district(world, food, tmp_path):
    SupportServiceFactory(district=world.north.district, title="District clinic", category=food)
    path = tmp_path / "district.csv"
    district = str(world.north.district.pk)
    out = io.StringIO()
    call_command("support_directory", "export", "--district", district, str(path), stdout=out)
    assert "Exported 1 services" in out.getvalue()
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads it as UTF-8
    call_command("support_directory", "import", "--district", district, str(path), stdout=out)
    assert "0 created, 0 updated, 1 unchanged" in out.getvalue()
    path.write_text("category,title,summary\nHousing,Shelter,Beds\n", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "support_directory",
            "import",
            "--district",
            district,
            "--owner",
            "counselor@example.org",
            str(path),
            stdout=out,
        )
    assert "district.csv:2: category: no category is called 'Housing'" in out.getvalue()
