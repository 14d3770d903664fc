from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

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

urlpatterns = [
    path("", home, name="home"),
    path("", include("jiancai.accounts.urls")),
    path("registry/", include("jiancai.registry.urls")),
    path("filings/", include("jiancai.filings.urls")),
    path("materials/", include("jiancai.materials.urls")),
    path("imports/", include("jiancai.filings.import_urls")),
    path("audit/", include("jiancai.audit.urls")),
    path("warnings/", include("jiancai.monitoring.warning_urls")),
    path("monitoring/", include("jiancai.monitoring.urls")),
    path("indicators/", include("jiancai.indicators.urls")),
    path("api/v1/", include(router.urls)),
    path("api/v1/", include(filings_api.urlpatterns)),
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
