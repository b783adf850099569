"""The engagement report's pages: who sees which figures, tables that hold the numbers of the
charts, every figure a link to the list behind it (whose length is that figure), CSV files of
every table, a printable page, right-to-left charts, and a constant number of queries."""

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.models import Delivery, Message, Participant, Thread
from tests.factories import GuardianFactory, GuardianLinkFactory, StudentFactory
from tests.portal.report_school import local, maple_school

pytestmark = pytest.mark.django_db

PERIOD = "start=2026-03-02&end=2026-03-15"


@pytest.fixture
def maple():
    return maple_school()


class Tables(HTMLParser):
    """Each table of a page by its caption id: rows of (text, link) cells."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table = self._row = self._cell = None
        self._caption_id = None
        self._href = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = []
        elif tag == "caption" and self._table is not None:
            self._caption_id = attrs.get("id", "").removeprefix("table-")
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._href = [], ""
        elif tag == "a" and self._cell is not None:
            self._href = attrs.get("href", "")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((" ".join("".join(self._cell).split()), self._href))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables[self._caption_id] = self._table
            self._table = None


def page(client, path: str, **headers) -> str:
    response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def rows_listed(client, href: str) -> int:
    listed = page(client, href)
    return int(re.search(r'<p role="status">([\d,]+) rows?</p>', listed).group(1).replace(",", ""))


def test_an_admin_sees_every_figure_in_tables_beside_accessible_charts(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/?{PERIOD}&by=language", HTTP_ACCEPT_LANGUAGE="en")
    tables = Tables(html).tables

    assert set(tables) >= {
        "reach", "worklist", "engagement", "answers", "waiting", "deliveries",
        "delivery_errors", "consent", "consent_weeks", "languages", "surveys", "supports",
    }  # fmt: skip
    reach = {row[0][0]: [text for text, _href in row[1:]] for row in tables["reach"][1:]}
    assert reach["All families"][:2] == ["7", "4 (57 %)"]
    assert reach["Spanish"][:2] == ["2", "0 (0 %)"]
    answers = {row[0][0]: [text for text, _href in row[1:]] for row in tables["answers"][1:]}
    assert answers["All families"] == ["4", "3", "1", "21.0 h", "57.0 h"]
    assert answers["Vietnamese"][3] == "66.0 h"
    surveys = {row[0][0]: [text for text, _href in row[1:]] for row in tables["surveys"][1:]}
    assert surveys["How are we doing? (anonymous)"] == ["4", "1 (25 %)", "2 (50 %)"]
    supports = {row[0][0]: [text for text, _href in row[1:]] for row in tables["supports"][1:]}
    assert supports["Food pantry"][:3] == ["2", "1 (50 %)", "4.0 h"]
    # Charts are SVG drawn on the server, named for screen readers.
    charts = re.findall(r'<svg class="chart" role="img"[^>]*aria-labelledby="([^"]+)"', html)
    assert len(charts) == 5
    for labels in charts:
        for label in labels.split():
            assert f'id="{label}"' in html
    assert "<script" not in html.split("<main", 1)[1]


def test_every_figure_links_to_a_list_as_long_as_the_figure(client, maple):
    client.force_login(maple.users["admin"])
    tables = Tables(page(client, f"/reports/?{PERIOD}&by=grade")).tables
    checked = 0
    for name in ("reach", "worklist", "answers", "waiting", "deliveries", "consent"):
        headers = [header for header, _href in tables[name][0]]
        for row in tables[name][1:]:
            for header, (text, href) in zip(headers[1:], row[1:], strict=True):
                number = text.split(" (")[0]
                if not href or not number.isdigit() or header == "SMS segments":
                    continue  # segments link to the texts that carried them
                assert rows_listed(client, href) == int(number), (name, row[0], text, href)
                checked += 1
    assert checked > 60
    # A figure of nothing is no link.
    worklist = {row[0][0]: row[1] for row in tables["worklist"][1:]}
    assert worklist["Invalid number"][1]


def test_the_worklist_says_why_and_what_to_try_next(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/families/?{PERIOD}&show=invalid_number")
    rows = Tables(html).tables["families-invalid_number"]
    assert rows[0][0][0] == "Family"
    (ivo,) = rows[1:]
    cells = dict(zip([header for header, _href in rows[0]], [text for text, _ in ivo], strict=True))
    assert cells["Family"] == "Ivo Family"
    assert cells["Why"].startswith("Invalid number; No working channel")
    assert cells["Next to try"] == "Ask for new contact details"


def test_lists_link_to_the_conversations(client, maple):
    client.force_login(maple.users["admin"])
    rows = Tables(page(client, f"/reports/answers/?{PERIOD}&state=answered")).tables[
        "answers-answered"
    ]
    links = [row[0][1] for row in rows[1:]]
    assert f"/messages/{maple.thread_vu.pk}/" in links
    assert client.get(links[0]).status_code == 200  # the admin may read it


def test_every_table_downloads_as_csv(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/?{PERIOD}&by=channel")
    links = re.findall(r'href="([^"]*format=csv[^"]*)"', html)
    names = {parse_qs(urlsplit(link.replace("&amp;", "&")).query)["table"][0] for link in links}
    assert names == set(Tables(html).tables)
    response = client.get(f"/reports/?{PERIOD}&by=channel&format=csv&table=deliveries")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Channel", "Deliveries", "Waiting"]
    assert rows[1][:2] == ["All families", "19"]
    assert {row[0]: row[1] for row in rows[2:]} == {
        "Text message": "13",
        "Email": "4",
        "Portal": "2",
    }
    assert client.get(f"/reports/?{PERIOD}&format=csv&table=nothing").status_code == 404


def test_a_list_downloads_whole_as_csv_and_a_name_cannot_become_a_formula(client, maple):
    maple.fern.given_name = "=HYPERLINK(1)"
    maple.fern.save()
    client.force_login(maple.users["admin"])
    response = client.get(f"/reports/families/?{PERIOD}&show=all&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 7
    assert "'=HYPERLINK(1) Family" in [row[0] for row in rows]


def test_the_printable_page_leaves_out_the_controls(client, maple):
    client.force_login(maple.users["admin"])
    normal = page(client, f"/reports/?{PERIOD}")
    printable = page(client, f"/reports/?{PERIOD}&print=1")
    assert 'class="report-filters' in normal and 'class="report-filters' not in printable
    assert "@media print" in printable
    assert Tables(printable).tables.keys() == Tables(normal).tables.keys()


def test_every_control_has_a_label(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/?{PERIOD}")
    start = html.index('class="report-filters')
    form = html[start : html.index("</form>", start)]
    controls = re.findall(r'<(?:select|input)[^>]*\bid="([^"]+)"', form)
    assert len(controls) == 10
    for control in controls:
        assert f'for="{control}"' in form, control


def test_charts_read_right_to_left_in_arabic(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/?{PERIOD}", HTTP_ACCEPT_LANGUAGE="ar")
    assert 'dir="rtl"' in html
    chart = html[html.index('<svg class="chart"') : html.index("</svg>")]
    first_bar = re.search(r'<rect class="series-0" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', chart)
    x, width = float(first_bar.group(1)), float(first_bar.group(2))
    assert x + width == pytest.approx(640 - 170)  # bars grow from the right


def test_a_teacher_sees_only_their_own_figures(client, maple):
    client.force_login(maple.users["rivera"])
    html = page(client, f"/reports/?{PERIOD}")
    reach = Tables(html).tables["reach"]
    assert reach[1][1][0] == "4"  # Fern, Sol, Paz, Amal: the families of Room 4
    assert "supports" not in Tables(html).tables
    worklist = page(client, f"/reports/families/?{PERIOD}&show=all")
    assert "Paz Family" in worklist and "Vu Family" not in worklist
    assert client.get(f"/reports/?{PERIOD}&teacher={maple.chen.pk}").status_code == 404
    assert client.get(f"/reports/answers/?{PERIOD}&teacher={maple.chen.pk}").status_code == 404


def test_an_admin_opens_a_teachers_figures(client, maple):
    client.force_login(maple.users["admin"])
    html = page(client, f"/reports/?{PERIOD}&teacher={maple.rivera.pk}")
    assert Tables(html).tables["reach"][1][1][0] == "4"
    assert "Rosa Rivera" in html


def test_a_counselor_sees_their_services_help_requests_only(client, maple):
    client.force_login(maple.users["counselor"])
    html = page(client, f"/reports/?{PERIOD}")
    tables = Tables(html).tables
    assert set(tables) == {"supports"}
    assert [row[0][0] for row in tables["supports"][1:]] == ["All services", "Food pantry"]
    for name in ("families", "answers", "waiting", "deliveries", "consent"):
        assert client.get(f"/reports/{name}/?{PERIOD}").status_code == 404


def test_families_and_other_schools_get_nothing(client, maple, world):
    client.force_login(world.users["parent"])
    assert client.get("/reports/").status_code == 404
    client.force_login(world.users["school_admin"])
    assert client.get(f"/reports/?scope=school:{maple.school.pk}").status_code == 404
    assert client.get(f"/reports/families/?scope=school:{maple.school.pk}").status_code == 404
    client.logout()
    assert client.get("/reports/").status_code == 302


def test_a_period_that_ends_before_it_begins_is_refused_with_the_reason(client, maple):
    client.force_login(maple.users["admin"])
    response = client.get("/reports/?start=2026-03-15&end=2026-03-01")
    assert response.status_code == 400
    assert "The last day comes after the first." in response.content.decode()


def test_the_staff_home_page_links_to_the_report(client, maple):
    client.force_login(maple.users["rivera"])
    assert 'href="/reports/"' in page(client, "/home/")


# ---- Queries -----------------------------------------------------------------------------------


def _grow(maple, families: int) -> None:
    """More families, conversations and deliveries at Maple (all within the period)."""
    for number in range(families):
        student = StudentFactory(school=maple.school, grade="4")
        maple.room4.students.add(student)
        guardian = GuardianFactory(preferred_language=["en", "es", "vi"][number % 3])
        GuardianLinkFactory(guardian=guardian, student=student)
        thread = Thread.objects.create(
            school=maple.school, subject="More", student=student, owner=maple.rivera
        )
        Participant.objects.create(thread=thread, staff=maple.rivera)
        Participant.objects.create(thread=thread, guardian=guardian)
        for hour, staff in ((9, None), (10, maple.rivera), (11, None)):
            message = Message.objects.create(
                thread=thread,
                author_staff=staff,
                author_guardian=None if staff else guardian,
                body="words",
            )
            Message.objects.filter(pk=message.pk).update(created_at=local(3, 10, hour))
            if staff:
                delivery = Delivery.objects.create(
                    message=message, guardian=guardian, channel="sms", status="delivered"
                )
                Delivery.objects.filter(pk=delivery.pk).update(
                    created_at=local(3, 10, hour), delivered_at=local(3, 10, hour, 1)
                )
        Thread.objects.filter(pk=thread.pk).update(waiting_since=local(3, 10, 11))


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("by", ["grade", "teacher"])
def test_the_report_runs_the_same_queries_for_ten_or_a_hundred_families(client, maple, by):
    client.force_login(maple.users["admin"])
    paths = [
        f"/reports/?{PERIOD}&by={by}",
        f"/reports/families/?{PERIOD}&show=all",
        f"/reports/answers/?{PERIOD}",
        "/reports/waiting/",
        f"/reports/deliveries/?{PERIOD}",
        f"/api/v1/reports/engagement/?{PERIOD}",
    ]
    _grow(maple, 5)
    small = {path: _queries(client, path) for path in paths}
    _grow(maple, 95)
    large = {path: _queries(client, path) for path in paths}
    assert large == small
    # The report page: session and access (4), the choices (2), the form's grades, classes and
    # teachers (3), the figures (12) and the names of schools, classes, teachers, surveys and
    # services (5); on PostgreSQL, a SET LOCAL in a savepoint of its own (3).
    assert small[paths[0]] <= (33 if connection.vendor == "postgresql" else 30), small
    assert Tables(page(client, paths[0])).tables["reach"][1][1][0] == "107"
