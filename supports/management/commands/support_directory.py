"""`manage.py support_directory export|import --school ID|--district ID FILE`: the support
directory of one school or district as a CSV file (`supports.directory_csv`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from portal.models import District, School, Staff
from supports.directory_csv import directory_export, directory_import


class Command(BaseCommand):
    help = (
        "Export the support services of a school or a district to a CSV file, or import them "
        "from one (all or nothing: a file with any problem changes nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import"])
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--school", type=int, help="the id of the school")
        scope.add_argument(
            "--district", type=int, help="the id of the district (its district-wide services)"
        )
        parser.add_argument(
            "--owner",
            metavar="EMAIL",
            help="import: the counselor who keeps the services created (none by default)",
        )
        parser.add_argument("file", type=Path, help="the CSV file")

    def handle(self, *args, action, school, district, owner, file: Path, **options):
        scope = _scope(school=school, district=district)
        if action == "export":
            with file.open("w", encoding="utf-8-sig", newline="") as out:  # a BOM: Excel reads it
                written = directory_export(out=out, **scope)
            self.stdout.write(f"Exported {written} services to {file}.")
            return
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        report = directory_import(source=file, owner=_staff(owner) if owner else None, **scope)
        for error in report.errors:
            self.stdout.write(f"error: {error}")
        if not report.is_ok:
            raise CommandError(
                f"{file}: nothing was imported: {len(report.errors)} problem(s) to fix first"
            )
        self.stdout.write(
            f"Imported {file}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged."
        )


def _scope(*, school: int | None, district: int | None) -> dict:
    if school is not None:
        found = School.objects.filter(pk=school).first()
        if found is None:
            raise CommandError(f"no school has the id {school}")
        return {"school": found}
    found = District.objects.filter(pk=district).first()
    if found is None:
        raise CommandError(f"no district has the id {district}")
    return {"district": found}


def _staff(email: str) -> Staff:
    people = list(
        Staff.objects.filter(
            Q(email__iexact=email) | Q(user__email__iexact=email), is_active=True
        ).distinct()[:2]
    )
    if len(people) != 1:
        raise CommandError(f"{'no' if not people else 'more than one'} staff member has {email}")
    return people[0]
