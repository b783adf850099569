from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.services import ROSTER_KINDS, RosterReport, roster_import


def report_lines(report: RosterReport) -> list[str]:
    """The summary a person reads after an import, one line a kind, then warnings and errors."""
    lines = []
    if report.is_ok:
        verb = "Would import" if report.is_dry_run else "Imported"
        lines.append(f"{verb} {report.rows_read} rows (created, updated, unchanged, deactivated):")
        for kind in ROSTER_KINDS:
            counts = report.summary.get(kind)
            if counts:
                lines.append(
                    f"  {kind:<15} {counts['created']:>7} {counts['updated']:>7} "
                    f"{counts['unchanged']:>9} {counts['deactivated']:>11}"
                )
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for error in report.errors:
        lines.append(f"error: {error}")
    if not report.is_ok:
        lines.append(f"Nothing was imported: {len(report.errors)} problem(s) to fix first.")
    return lines


class Command(BaseCommand):
    help = "Import a OneRoster 1.1 CSV bundle (a folder or a .zip). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the bundle: a folder or a .zip file")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change and write nothing"
        )

    def handle(self, *args, path: Path, dry_run: bool, **options):
        report = roster_import(source=path, dry_run=dry_run)
        for line in report_lines(report):
            self.stdout.write(line)
        if not report.is_ok:
            raise CommandError(f"{path}: the bundle was refused")
