import pytest

from tests.factories import SchoolFactory


@pytest.mark.django_db
def test_front_page_lists_each_school_office_with_tap_to_call(client, django_assert_num_queries):
    SchoolFactory(
        name="Riverside Elementary", office_phone="+13125550100", sms_number="+13125550101"
    )
    SchoolFactory(name="Hillside Middle")
    SchoolFactory(name="Closed School", is_active=False)

    with django_assert_num_queries(1):
        response = client.get("/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Riverside Elementary" in page and "Hillside Middle" in page
    assert "Closed School" not in page
    assert 'href="tel:+13125550100"' in page
    assert 'href="sms:+13125550101"' in page


@pytest.mark.django_db
def test_front_page_speaks_arabic_right_to_left(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="ar")
    assert '<html lang="ar" dir="rtl">' in response.content.decode()
