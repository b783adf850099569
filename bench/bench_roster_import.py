"""How fast a district's OneRoster 1.1 CSV bundle imports, against PostgreSQL COPY of the same rows.

A generated district (1 district, 10 schools, 400 classes, 10,000 students, 15,000 guardians,
400 teachers, 40,400 enrollments) is imported into an empty portal, then imported again unchanged
(which must change nothing); the same CSV files are then COPYed into plain text temp tables, the
floor no importer can beat. Figures:

    roster_import.rows            data rows in orgs.csv + classes.csv + users.csv + enrollments.csv
    roster_import.seconds         first import, into an empty portal
    roster_import.rows_per_s
    roster_import.queries         SQL queries the first import issued
    roster_import.repeat_seconds  the same bundle again: nothing to write
    roster_import.repeat_rows_per_s
    roster_import.repeat_queries
    roster_import.copy_rows_per_s COPY of the same four files into text columns
    roster_import.ratio_to_copy   first import seconds / COPY seconds
"""

import csv
import dataclasses
import random
import tempfile
import time
import unicodedata
from pathlib import Path

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql

from portal import models
from portal.services import roster_import

SEED = 20250901
SCHOOL_YEAR = ("2025-2026", "2025-08-25", "2026-06-12")
SEMESTERS = [("Fall 2025", "2025-08-25", "2026-01-16"), ("Spring 2026", "2026-01-20", "2026-06-12")]
CLASSES_PER_STUDENT = 4

# Grade bands by school level; schools cycle through these levels, elementary most often.
SCHOOL_LEVELS = [
    ("Elementary", ["KG", "01", "02", "03", "04", "05"]),
    ("Elementary", ["KG", "01", "02", "03", "04", "05"]),
    ("Middle", ["06", "07", "08"]),
    ("Elementary", ["KG", "01", "02", "03", "04", "05"]),
    ("High", ["09", "10", "11", "12"]),
]
SUBJECTS = ["Mathematics", "English Language Arts", "Science", "Social Studies", "Art", "Music",
            "Physical Education", "World Languages"]  # fmt: skip
SCHOOL_NAMES = ["Lincoln", "Roosevelt", "Washington", "Jefferson", "Garfield", "Hawthorne",
                "Madison", "Whittier", "Franklin", "Kennedy", "Emerson", "Addams"]  # fmt: skip

# Family languages (metadata.language, BCP 47) with their share of households and name pools.
FAMILY_LANGUAGES = [
    ("en", 50, ["James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily",
                "Daniel", "Grace", "Tyler", "Olivia"],
     ["Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark"]),
    ("es", 25, ["José", "María", "Luis", "Guadalupe", "Carlos", "Ana", "Jesús", "Sofía",
                "Mateo", "Valentina"],
     ["García", "Martínez", "Hernández", "López", "González", "Rodríguez", "Pérez", "Sánchez"]),
    ("vi", 7, ["Anh", "Bảo", "Châu", "Dũng", "Hạnh", "Minh", "Phương", "Thảo"],
     ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"]),
    ("zh-Hans", 7, ["Wei", "Fang", "Jing", "Lei", "Min", "Xiaoming", "Yan", "Hui"],
     ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang"]),
    ("ar", 6, ["Ahmed", "Fatima", "Omar", "Layla", "Youssef", "Mariam", "Karim", "Noor"],
     ["Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Aziz"]),
    ("so", 5, ["Abdi", "Hodan", "Farah", "Ayaan", "Mohamed", "Sahra", "Hassan", "Ifrah"],
     ["Warsame", "Jama", "Farah", "Abdullahi", "Ali", "Osman"]),
]  # fmt: skip
AREA_CODES = ["312", "617", "206", "415", "612", "503", "713", "404"]
GUARDIAN_ROLES = [("parent", 80), ("guardian", 12), ("relative", 8)]

# Standard OneRoster 1.1 headers, in order (users.csv adds the metadata.language extension).
HEADERS = {
    "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions.csv": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses.csv": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
        "orgSourcedId,subjects,subjectCodes"
    ),
    "classes.csv": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users.csv": (
        "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
        "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
        "password,metadata.language"
    ),
    "enrollments.csv": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
}
MANIFEST_FILES = ["academicSessions", "categories", "classes", "classResources", "courses",
                  "courseResources", "demographics", "enrollments", "lineItems", "orgs",
                  "resources", "results", "users"]  # fmt: skip
# The files whose data rows (headers not included) make up `roster_import.rows`; the COPY floor
# loads exactly these rows.
COUNTED_FILES = ["orgs.csv", "classes.csv", "users.csv", "enrollments.csv"]


@dataclasses.dataclass(frozen=True)
class DistrictBundle:
    """What district_bundle_write wrote: the counts an importer should report as created."""

    folder: Path
    districts: int
    schools: int
    sections: int
    students: int
    guardians: int
    staff: int
    student_enrollments: int
    staff_enrollments: int  # one teacher per class
    guardian_links: int  # distinct (student, guardian) pairs
    rows: int  # data rows in COUNTED_FILES


def _csv_write(folder: Path, file_name: str, rows: list[dict[str, str]]) -> None:
    """Write rows under the file's standard header; a column a row does not name stays empty
    (status and dateLastModified are empty throughout, as in any bulk file)."""
    with (folder / file_name).open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=HEADERS[file_name].split(","), restval="")
        writer.writeheader()
        writer.writerows(rows)


def _weighted(rng: random.Random, choices: list[tuple]) -> tuple:
    return rng.choices(choices, weights=[choice[1] for choice in choices])[0]


def _email_local(*names: str) -> str:
    """`Hạnh`, `Lê` -> `hanh.le`: school systems hand out ASCII addresses (Django's validator
    refuses others)."""
    folded = unicodedata.normalize("NFKD", ".".join(names).lower())
    return folded.encode("ascii", "ignore").decode()


def _phone_mobile(rng: random.Random, taken: set[str]) -> str:
    """A new US number in national format that phonenumbers accepts (no 555, no N11 exchange)."""
    while True:
        exchange = rng.randint(200, 999)
        if exchange == 555 or exchange % 100 == 11:
            continue
        number = f"({rng.choice(AREA_CODES)}) {exchange}-{rng.randint(0, 9999):04d}"
        if number not in taken:
            taken.add(number)
            return number


def district_bundle_write(
    folder: Path,
    *,
    students: int = 10_000,
    guardians: int = 15_000,
    schools: int = 10,
    classes_per_school: int = 40,
    seed: int = SEED,
) -> DistrictBundle:
    """Write a district's OneRoster 1.1 bulk CSV bundle into `folder`; the same seed writes the
    same bytes.

    Students live in households of one or more siblings (who may attend different schools) with
    one or more guardians; every student and every guardian belongs to one household. Each class
    has a teacher of its own; each student takes four classes at their school.
    """
    if students < 1 or guardians < 1:
        raise ValueError("a district needs at least one student and one guardian")
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    # ---- orgs.csv: the district and its schools
    district_id = "org-district"
    orgs = [{"sourcedId": district_id, "name": "Riverside Unified School District",
             "type": "district", "identifier": "RUSD"}]  # fmt: skip
    school_ids, school_grades = [], {}
    for index in range(schools):
        school_id = f"org-school-{index + 1:02d}"
        level, grades = SCHOOL_LEVELS[index % len(SCHOOL_LEVELS)]
        name = f"{SCHOOL_NAMES[index % len(SCHOOL_NAMES)]} {level} School"
        if index >= len(SCHOOL_NAMES):
            name += f" {index // len(SCHOOL_NAMES) + 1}"
        school_ids.append(school_id)
        school_grades[school_id] = grades
        orgs.append({"sourcedId": school_id, "name": name, "type": "school",
                     "identifier": str(100 + index), "parentSourcedId": district_id})  # fmt: skip
    _csv_write(folder, "orgs.csv", orgs)

    # ---- academicSessions.csv: the school year and its two semesters
    year_title, year_start, year_end = SCHOOL_YEAR
    sessions = [{"sourcedId": "as-2025", "title": year_title, "type": "schoolYear",
                 "startDate": year_start, "endDate": year_end, "schoolYear": "2026"}]  # fmt: skip
    for number, (title, start, end) in enumerate(SEMESTERS, start=1):
        sessions.append({"sourcedId": f"as-2025-s{number}", "title": title, "type": "semester",
                         "startDate": start, "endDate": end, "parentSourcedId": "as-2025",
                         "schoolYear": "2026"})  # fmt: skip
    semester_ids = [session["sourcedId"] for session in sessions[1:]]
    _csv_write(folder, "academicSessions.csv", sessions)

    # ---- courses.csv and classes.csv: per school, one course per subject, sections of each
    courses, classes = [], []
    classes_by_school: dict[str, list[str]] = {}
    for school_number, school_id in enumerate(school_ids, start=1):
        for subject_number, subject in enumerate(SUBJECTS):
            courses.append({"sourcedId": f"crs-{school_number:02d}-{subject_number}",
                            "schoolYearSourcedId": "as-2025", "title": subject,
                            "courseCode": subject[:4].upper(), "orgSourcedId": school_id,
                            "subjects": subject})  # fmt: skip
        classes_by_school[school_id] = []
        for number in range(classes_per_school):
            subject_number = number % len(SUBJECTS)
            grade = rng.choice(school_grades[school_id])
            class_id = f"cls-{school_number:02d}-{number + 1:03d}"
            # Most classes run the whole year (both semesters), some one semester.
            terms = semester_ids if rng.random() < 0.7 else [rng.choice(semester_ids)]
            classes.append({
                "sourcedId": class_id,
                "title": f"{SUBJECTS[subject_number]} {grade}-{number // len(SUBJECTS) + 1}",
                "grades": grade, "courseSourcedId": f"crs-{school_number:02d}-{subject_number}",
                "classCode": class_id.upper(), "classType": "scheduled",
                "location": f"Room {100 + number}", "schoolSourcedId": school_id,
                "termSourcedIds": ",".join(terms), "subjects": SUBJECTS[subject_number],
                "periods": str(number % 8 + 1),
            })  # fmt: skip
            classes_by_school[school_id].append(class_id)
    _csv_write(folder, "courses.csv", courses)
    _csv_write(folder, "classes.csv", classes)

    # ---- households: each one has at least one student and one guardian
    household_count = max(1, min(students, guardians, round(students / 1.6)))
    household_students = [[number] for number in range(household_count)]
    for number in range(household_count, students):
        household_students[rng.randrange(household_count)].append(number)
    household_guardians = [[number] for number in range(household_count)]
    for number in range(household_count, guardians):
        household_guardians[rng.randrange(household_count)].append(number)
    household_language = [_weighted(rng, FAMILY_LANGUAGES) for _ in range(household_count)]
    household_family_name = [rng.choice(language[3]) for language in household_language]
    student_household = [0] * students
    guardian_household = [0] * guardians
    for household, (kids, adults) in enumerate(
        zip(household_students, household_guardians, strict=True)
    ):
        for kid in kids:
            student_household[kid] = household
        for adult in adults:
            guardian_household[adult] = household

    student_ids = [f"stu-{number + 1:05d}" for number in range(students)]
    guardian_ids = [f"grd-{number + 1:05d}" for number in range(guardians)]
    student_school = [rng.choice(school_ids) for _ in range(students)]

    # ---- users.csv: students, guardians, teachers
    users = []
    for number, student_id in enumerate(student_ids):
        household = student_household[number]
        language_code, _share, given_names, _family_names = household_language[household]
        identifier = str(200001 + number)
        guardians_of_student = household_guardians[household]
        users.append({
            "sourcedId": student_id, "enabledUser": "true",
            "orgSourcedIds": student_school[number], "role": "student",
            "username": f"s{identifier}", "userIds": f"{{SIS:{identifier}}}",
            "givenName": rng.choice(given_names),
            "familyName": household_family_name[household], "identifier": identifier,
            "email": f"s{identifier}@students.rusd.example.org",
            "agentSourcedIds": ",".join(guardian_ids[adult] for adult in guardians_of_student),
            "grades": rng.choice(school_grades[student_school[number]]),
            "metadata.language": language_code,
        })  # fmt: skip
    phones_taken: set[str] = set()
    for number, guardian_id in enumerate(guardian_ids):
        household = guardian_household[number]
        language_code, _share, given_names, family_names = household_language[household]
        kids = household_students[household]
        role = _weighted(rng, GUARDIAN_ROLES)[0]
        given_name = rng.choice(given_names)
        # Relatives and some guardians carry another family name than the children.
        family_name = household_family_name[household]
        if role != "parent" and rng.random() < 0.5:
            family_name = rng.choice(family_names)
        mobile = _phone_mobile(rng, phones_taken)
        email = ""
        if rng.random() < 0.7:  # three in ten families give no email: SMS only
            email = f"{_email_local(given_name, family_name)}.{number + 1}@families.example.org"
        users.append({
            "sourcedId": guardian_id, "enabledUser": "true",
            "orgSourcedIds": ",".join(sorted({student_school[kid] for kid in kids})),
            "role": role, "username": email or f"g{number + 1:05d}", "givenName": given_name,
            "familyName": family_name, "email": email, "sms": mobile,
            "phone": mobile if rng.random() < 0.5 else "",
            "agentSourcedIds": ",".join(student_ids[kid] for kid in kids),
            "metadata.language": language_code,
        })  # fmt: skip
    enrollments = []
    teacher_number = 0
    for school_id in school_ids:
        for class_id in classes_by_school[school_id]:
            teacher_number += 1
            teacher_id = f"tch-{teacher_number:04d}"
            given_name = rng.choice(FAMILY_LANGUAGES[0][2])
            family_name = rng.choice(FAMILY_LANGUAGES[0][3])
            email = f"{_email_local(given_name, family_name)}{teacher_number}@rusd.example.org"
            users.append({
                "sourcedId": teacher_id, "enabledUser": "true", "orgSourcedIds": school_id,
                "role": "teacher", "username": email, "userIds": f"{{SIS:T{teacher_number}}}",
                "givenName": given_name, "familyName": family_name,
                "identifier": f"T{teacher_number}", "email": email, "metadata.language": "en",
            })  # fmt: skip
            enrollments.append({
                "sourcedId": f"enr-t-{teacher_number:04d}", "classSourcedId": class_id,
                "schoolSourcedId": school_id, "userSourcedId": teacher_id, "role": "teacher",
                "primary": "true", "beginDate": year_start, "endDate": year_end,
            })  # fmt: skip
    _csv_write(folder, "users.csv", users)
    staff_enrollments = len(enrollments)

    # ---- enrollments.csv: the teachers above, and each student in four classes at their school
    for number, student_id in enumerate(student_ids):
        school_classes = classes_by_school[student_school[number]]
        for class_id in rng.sample(school_classes, min(CLASSES_PER_STUDENT, len(school_classes))):
            enrollments.append({
                "sourcedId": f"enr-s-{len(enrollments) - staff_enrollments + 1:06d}",
                "classSourcedId": class_id, "schoolSourcedId": student_school[number],
                "userSourcedId": student_id, "role": "student", "primary": "false",
                "beginDate": year_start, "endDate": year_end,
            })  # fmt: skip
    _csv_write(folder, "enrollments.csv", enrollments)

    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["propertyName", "value"])
        writer.writerows([("manifest.version", "1.0"), ("oneroster.version", "1.1")])
        writer.writerows(
            (f"file.{name}", "bulk" if f"{name}.csv" in HEADERS else "absent")
            for name in MANIFEST_FILES
        )
        writer.writerows([("source.systemName", "Portal bench"), ("source.systemCode", "bench")])

    return DistrictBundle(
        folder=folder,
        districts=1,
        schools=schools,
        sections=len(classes),
        students=students,
        guardians=guardians,
        staff=teacher_number,
        student_enrollments=len(enrollments) - staff_enrollments,
        staff_enrollments=staff_enrollments,
        guardian_links=sum(len(household_students[household]) for household in guardian_household),
        rows=len(orgs) + len(classes) + len(users) + len(enrollments),
    )


def portal_tables_truncate() -> None:
    """Empty the people tables, so the first import runs into an empty portal."""
    roster_models = [models.District, models.School, models.Staff, models.StaffMembership,
                     models.Section, models.SectionStaff, models.Student, models.Enrollment,
                     models.Guardian, models.GuardianLink]  # fmt: skip
    tables = sql.SQL(", ").join(sql.Identifier(model._meta.db_table) for model in roster_models)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables).as_string(cursor.cursor))


def copy_seconds(folder: Path) -> float:
    """Seconds to COPY the counted files into temp tables of text columns (nothing is kept)."""
    with transaction.atomic(), connection.cursor() as cursor:
        tables = []
        for file_name in COUNTED_FILES:
            with (folder / file_name).open(encoding="utf-8", newline="") as file:
                header = next(csv.reader(file))
            table = sql.Identifier(f"bench_copy_{Path(file_name).stem}")
            columns = sql.SQL(", ").join(
                sql.SQL("{} text").format(sql.Identifier(column)) for column in header
            )
            cursor.execute(
                sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP")
                .format(table, columns)
                .as_string(cursor.cursor)
            )
            tables.append((table, folder / file_name))
        started = time.perf_counter()
        for table, path in tables:
            with path.open("rb") as file:
                cursor.copy_expert(
                    sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)")
                    .format(table)
                    .as_string(cursor.cursor),
                    file,
                )
        return time.perf_counter() - started


def _import_timed(folder: Path):
    """Import the bundle; return the report, the seconds it took and its SQL query count."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = roster_import(source=folder)
        seconds = time.perf_counter() - started
    return report, seconds, len(queries.captured_queries)


def _changes(report) -> dict[tuple[str, str], int]:
    """(kind, outcome) -> count for every outcome that wrote something."""
    return {
        (kind, outcome): count
        for kind, counts in report.summary.items()
        for outcome, count in counts.items()
        if outcome != "unchanged" and count
    }


def run() -> None:
    """Generate the district, import it twice, COPY it once; print the figures."""
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as temp:
        bundle = district_bundle_write(Path(temp))
        portal_tables_truncate()

        report, seconds, queries = _import_timed(bundle.folder)
        assert report.is_ok, f"first import refused: {report.errors[:5]}"
        assert report.summary["students"]["created"] == bundle.students, report.summary

        repeat, repeat_seconds, repeat_queries = _import_timed(bundle.folder)
        assert repeat.is_ok, f"repeat import refused: {repeat.errors[:5]}"
        assert not _changes(repeat), f"repeat import changed rows: {_changes(repeat)}"

        copy = copy_seconds(bundle.folder)

    print(f"roster_import.rows: {bundle.rows}")
    print(f"roster_import.seconds: {seconds:.2f}")
    print(f"roster_import.rows_per_s: {bundle.rows / seconds:.1f}")
    print(f"roster_import.queries: {queries}")
    print(f"roster_import.repeat_seconds: {repeat_seconds:.2f}")
    print(f"roster_import.repeat_rows_per_s: {bundle.rows / repeat_seconds:.1f}")
    print(f"roster_import.repeat_queries: {repeat_queries}")
    print(f"roster_import.copy_rows_per_s: {bundle.rows / copy:.1f}")
    print(f"roster_import.ratio_to_copy: {seconds / copy:.2f}")
