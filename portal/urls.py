from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.sign_in_code, name="sign_in_code"),
    path("sign-in/staff/", views.sign_in_staff, name="sign_in_staff"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-out/everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("home/", views.home, name="home"),
    path("messages/", include("messaging.urls")),
    path("broadcasts/", include("messaging.broadcast_urls")),
    path("", include("messaging.channel_urls")),
    path("supports/manage/", include("supports.workspace_urls")),
    path("supports/", include("supports.urls")),
    path("surveys/manage/", include("surveys.manage_urls")),
    path("surveys/results/", include("surveys.results_urls")),
    path("reports/", include("portal.report_urls")),
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/contact/", views.contact_change, name="contact_change"),
    path("api/v1/", include("portal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("", include("surveys.urls")),
    path("", views.front_page, name="front_page"),
]
