from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from jiancai.blacklist import api as blacklist_api
from jiancai.credit import api as credit_api
from jiancai.filings import api as filings_api
from jiancai.monitoring import api as monitoring_api
from jiancai.registry import api as registry_api
from jiancai.registry.views import home

router = SimpleRouter(trailing_slash=True)
router.register("enterprises", registry_api.EnterpriseViewSet, basename="enterprise")
router.register("qualifications", registry_api.QualificationViewSet, basename="qualification")
router.register("capacities", registry_api.CapacityViewSet, basename="capacity")
router.register("persons", registry_api.PersonViewSet, basename="person")
router.register("projects", registry_api.ProjectViewSet, basename="project")
router.register("alerts", monitoring_api.AlertViewSet, basename="alert")
router.register("credit-records", credit_api.CreditRecordViewSet, basename="credit-record")
router.register("blacklist-entries", blacklist_api.BlacklistEntryViewSet, basename="blacklist-entry")
router.register("restrictions", blacklist_api.RestrictionViewSet, basename="restriction")

urlpatterns = [
    # The API first: every API request walks this list, and the open API (e-commerce platforms) is the busiest.
    path("api/v1/", include("jiancai.openapi.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include(filings_api.urlpatterns)),
    path("", home, name="home"),
    path("", include("jiancai.accounts.urls")),
    path("registry/", include("jiancai.registry.urls")),
    path("filings/", include("jiancai.filings.urls")),
    path("materials/", include("jiancai.materials.urls")),
    path("imports/", include("jiancai.filings.import_urls")),
    path("audit/", include("jiancai.audit.urls")),
    path("warnings/", include("jiancai.monitoring.warning_urls")),
    path("monitoring/", include("jiancai.monitoring.urls")),
    path("credit/", include("jiancai.credit.urls")),
    path("blacklist/", include("jiancai.blacklist.urls")),
    path("portal/", include("jiancai.portal.urls")),
    path("disclosure/", include("jiancai.portal.manage_urls")),
    path("indicators/", include("jiancai.indicators.urls")),
    path("analytics/", include("jiancai.analytics.urls")),
    path(
        "api/v1/schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="api-schema",
    ),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", authentication_classes=[], permission_classes=[AllowAny]),
        name="api-docs",
    ),
]
