"""The roster benchmark's generated district stays a bundle the importer takes whole, so
`make bench` measures a real import and not a refusal."""

import pytest

from bench.bench_roster_import import district_bundle_write
from portal.models import Guardian
from portal.services import roster_import


def _counts(report, outcome: str) -> dict[str, int]:
    return {kind: counts[outcome] for kind, counts in report.summary.items() if counts[outcome]}


@pytest.mark.django_db
def test_generated_district_imports_whole_and_again_changes_nothing(tmp_path):
    bundle = district_bundle_write(
        tmp_path, students=50, guardians=75, schools=3, classes_per_school=6, seed=7
    )

    first = roster_import(source=tmp_path)

    assert first.is_ok, first.errors[:5]
    assert _counts(first, "created") == {
        "districts": 1,
        "schools": 3,
        "staff": bundle.staff,
        "staff_roles": bundle.staff,
        "students": 50,
        "guardians": 75,
        "guardian_links": bundle.guardian_links,
        "sections": 18,
        "section_staff": bundle.staff_enrollments,
        "enrollments": bundle.student_enrollments,
    }
    assert bundle.student_enrollments == 50 * 4
    assert bundle.guardian_links >= 75  # every guardian has a student, some have siblings
    # Every family can be texted: each guardian's number was read as a valid one.
    assert not Guardian.objects.filter(phone="").exists()

    repeat = roster_import(source=tmp_path)

    assert repeat.is_ok, repeat.errors[:5]
    for outcome in ("created", "updated", "deactivated"):
        assert _counts(repeat, outcome) == {}, repeat.summary
    assert repeat.summary["students"]["unchanged"] == 50
    assert repeat.summary["enrollments"]["unchanged"] == bundle.student_enrollments


def test_same_seed_writes_the_same_bundle(tmp_path):
    first = district_bundle_write(tmp_path / "a", students=20, guardians=30, seed=3)
    second = district_bundle_write(tmp_path / "b", students=20, guardians=30, seed=3)

    for name in ("orgs.csv", "classes.csv", "users.csv", "enrollments.csv", "manifest.csv"):
        assert (first.folder / name).read_bytes() == (second.folder / name).read_bytes(), name
