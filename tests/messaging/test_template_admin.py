import pytest
from django.urls import reverse

from messaging.models import MessageTemplate


@pytest.mark.django_db
def test_the_template_admin_opens_with_a_tab_for_every_family_language(world, client):
    template = MessageTemplate.objects.create(
        school=world.north, name="Absence", subject_en="Absence", body_en="Absent today."
    )
    client.force_login(world.users["superuser"])
    page = client.get(reverse("admin:messaging_messagetemplate_change", args=[template.pk]))
    assert page.status_code == 200
    assert 'name="body_so"' in page.content.decode()
