"""Version 1 of the JSON API, mounted at /api/v1/ (schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from messaging import api as messaging_api
from portal import api, report_api
from supports import api as supports_api
from surveys import api as surveys_api


class PortalRouter(DefaultRouter):
    """DRF's router; its root page also links the one endpoint that is not a list: `me`."""

    def get_api_root_view(self, api_urls=None):
        list_name = self.routes[0].name
        api_root = {"me": "me"}
        for prefix, _viewset, basename in self.registry:
            api_root[prefix] = list_name.format(basename=basename)
        return self.APIRootView.as_view(api_root_dict=api_root)


router = PortalRouter()
router.register("schools", api.SchoolViewSet, basename="school")
router.register("sections", api.SectionViewSet, basename="section")
router.register("students", api.StudentViewSet, basename="student")
router.register("guardians", api.GuardianViewSet, basename="guardian")
router.register("threads", messaging_api.ThreadViewSet, basename="thread")
router.register("broadcasts", messaging_api.BroadcastViewSet, basename="broadcast")
router.register("announcements", messaging_api.AnnouncementViewSet, basename="announcement")
router.register("templates", messaging_api.MessageTemplateViewSet, basename="template")
router.register(
    "support-categories", supports_api.SupportCategoryViewSet, basename="support-category"
)
router.register("support-services", supports_api.SupportServiceViewSet, basename="support-service")
router.register("help-requests", supports_api.HelpRequestViewSet, basename="help-request")
router.register("surveys", surveys_api.SurveyViewSet, basename="survey")

app_name = "api"
urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path(
        "reports/engagement/", report_api.EngagementReportView.as_view(), name="report-engagement"
    ),
    *router.urls,
]
